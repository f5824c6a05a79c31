// Command pqssl is pqssl's companion tool. Its one subcommand, doctor,
// explains why a PostgreSQL connection is or is not trusted:
//
//	go run github.com/pqssl/pqssl/cmd/pqssl doctor [-json] [-offline] [-timeout 10s] 'CONNECTION STRING or URI'
//
// doctor resolves the connection string as pqssl does (service file,
// environment variables, ~/.postgresql defaults), describes the files the
// connection would use, connects to each host in turn with pqssl's own
// trace (WithTrace) and reports, per attempt, the SSLRequest answer, the TLS
// handshake, the chain pqssl built and every name it checked, the client
// certificate exchange and the authentication, then the verdict in libpq's
// words with a hint where one is certain. It reports what the library
// decided; it makes no decision of its own. No password, sslpassword or key
// material is ever printed.
//
// Exit status: 0 when the connection succeeds (with -offline: when the
// configuration and files are usable), 1 when it fails, 2 for usage errors.
//
// With -json the report is one JSON document; see [Report] for its fields.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: pqssl doctor [-json] [-offline] [-timeout duration] 'connection string or URI'`

// run is the command with its arguments, output streams and exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "doctor" {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	asJSON := fs.Bool("json", false, "write the report as one JSON document")
	offline := fs.Bool("offline", false, "check the configuration and files without connecting")
	timeout := fs.Duration("timeout", 30*time.Second, "bound the whole connection, all hosts together")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 1 || *timeout <= 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	dsn := ""
	if fs.NArg() == 1 {
		dsn = fs.Arg(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	r := Diagnose(ctx, dsn, *offline)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(stderr, "pqssl doctor:", err)
			return 2
		}
	} else {
		writeText(stdout, r)
	}
	if r.Verdict != VerdictOK {
		return 1
	}
	return 0
}
