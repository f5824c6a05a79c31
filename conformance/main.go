// Command conformance runs pqssl's conformance matrix through libpq (psql),
// pqssl, plain lib/pq and pgx against a throwaway PostgreSQL server, and
// writes the Markdown report:
//
//	cd conformance && go run . -o ../CONFORMANCE.md
//
// It needs the PostgreSQL server binaries, psql and openssl; as root it runs
// the server as the "postgres" user. It lives in a module of its own so that
// pgx never becomes a dependency of pqssl.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "github.com/lib/pq"

	"github.com/pqssl/pqssl"
	"github.com/pqssl/pqssl/internal/conformance"
	"github.com/pqssl/pqssl/internal/pgtest"
)

func main() {
	out := flag.String("o", "CONFORMANCE.md", "write the report to this file (- for standard output)")
	fast := flag.Bool("fast", false, "run only the fast subset")
	only := flag.String("run", "", "run only the cases whose ID matches this regular expression")
	verbose := flag.Bool("v", false, "print each case's verdicts as it runs")
	flag.Parse()
	if err := run(*out, *fast, *only, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
}

func run(out string, fast bool, only string, verbose bool) error {
	mode := conformance.Full
	if fast {
		mode = conformance.Fast
	}
	cases, err := conformance.Generate(mode)
	if err != nil {
		return err
	}
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			return fmt.Errorf("-run: %w", err)
		}
		var sel []conformance.Case
		for _, c := range cases {
			if re.MatchString(c.ID) {
				sel = append(sel, c)
			}
		}
		cases = sel
	}

	bin, err := pgtest.FindBinaries()
	if err != nil {
		return err
	}
	cluster, err := pgtest.Start(pgtest.Options{})
	if err != nil {
		return err
	}
	defer pgtest.StopAll()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	drivers := []conformance.Driver{conformance.Libpq()}
	for _, b := range pgtest.Installations() {
		if b.Version == conformance.SecondRefereeVersion {
			drivers = append(drivers, conformance.LibpqOf(conformance.SecondReferee, b))
		}
	}
	drivers = append(drivers,
		conformance.SQLDriver("pqssl", openPqssl),
		conformance.SQLDriver("lib/pq", func(dsn string) (*sql.DB, error) { return sql.Open("postgres", dsn) }),
		conformance.SQLDriver("pgx", openPgx),
	)
	start := time.Now()
	results, err := conformance.Run(ctx, cluster, cases, drivers, &conformance.Options{
		Progress: func(done, total int, r conformance.Result) {
			if verbose {
				fmt.Fprintf(os.Stderr, "[%d/%d] %s\n", done, total, r.Case.ID)
				for _, d := range drivers {
					fmt.Fprintf(os.Stderr, "    %-7s %s\n", d.Name, r.Verdicts[d.Name])
				}
			} else if done%50 == 0 || done == total {
				fmt.Fprintf(os.Stderr, "%d/%d cases\n", done, total)
			}
		},
	})
	if err != nil {
		return err
	}
	names := make([]string, len(drivers))
	for i, d := range drivers {
		names[i] = d.Name
	}
	info := conformance.ReportInfo{
		LibpqVersion: bin.Version,
		OpenSSL:      opensslVersion(),
		Drivers:      names,
		Mode:         mode,
	}
	var b strings.Builder
	if err := conformance.WriteReport(&b, results, info); err != nil {
		return err
	}
	for _, name := range names[1:] {
		if name == conformance.SecondReferee {
			continue
		}
		t := conformance.Count(results, name, bin.Version)
		fmt.Fprintf(os.Stderr, "%-7s agrees with libpq on %d of %d cases (%d documented exceptions)\n", name, t.Agree, t.Cases, t.Excepted)
	}
	fmt.Fprintf(os.Stderr, "%d cases in %v\n", len(results), time.Since(start).Round(time.Second))
	if out == "-" {
		_, err = os.Stdout.WriteString(b.String())
		return err
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

func openPqssl(dsn string) (*sql.DB, error) {
	c, err := pqssl.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// openPgx opens dsn with pgx. pgx has no hostaddr parameter (it would send it
// to the server as a setting), so the harness takes it out and resolves
// every host name to it, which is what hostaddr means to libpq.
func openPgx(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if addr, ok := cfg.RuntimeParams["hostaddr"]; ok {
		delete(cfg.RuntimeParams, "hostaddr")
		addrs := strings.Split(addr, ",")
		cfg.LookupFunc = func(ctx context.Context, host string) ([]string, error) {
			return addrs[:1], nil
		}
	}
	return stdlib.OpenDB(*cfg), nil
}

// opensslVersion returns the major.minor version of the openssl program,
// which is the library libpq is linked with on the supported systems.
func opensslVersion() string {
	out, err := exec.Command("openssl", "version").Output()
	if err != nil {
		return "unknown"
	}
	m := regexp.MustCompile(`OpenSSL (\d+\.\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		return "unknown"
	}
	return m[1]
}
