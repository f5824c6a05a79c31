// This file holds the runner: each case's server configuration, home
// directory and environment, and the drivers it runs through (psql as the
// referee, database/sql drivers for the others).

package conformance

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/pqssl/pqssl/internal/pgtest"
)

// Result is the outcome of one case: each driver's verdict, keyed by
// Driver.Name.
type Result struct {
	Case     Case
	Verdicts map[string]Verdict
}

// Options tunes a run.
type Options struct {
	// Progress, when set, is called after each case.
	Progress func(done, total int, r Result)
	// CaseTimeout bounds each driver's attempt; zero means 30 seconds.
	CaseTimeout time.Duration
}

// ServerOptions returns the pgtest configuration of s.
func ServerOptions(s *Server) pgtest.Options {
	o := pgtest.DefaultOptions()
	if s.Chain != nil {
		o.ServerCert, o.ServerKey = s.Chain, s.Key
	}
	o.CA = s.ClientCA
	if hba, ok := hbaProfiles[s.HBA]; ok {
		o.HBA = hba
	}
	for k, v := range s.Conf {
		o.Conf[k] = v
	}
	return o
}

// Run runs every case through every driver against cluster and returns the
// results in the order of cases. Cases are grouped by server configuration
// so that the server is reconfigured once per configuration; within a
// configuration they run one at a time, because the drivers read the
// process environment, which Run sets for each case.
//
// Run changes the cluster's configuration and the process environment (HOME
// and every PG* variable), and puts the environment back when it returns.
// A case whose server configuration the server refuses fails the run.
func Run(ctx context.Context, cluster *pgtest.Cluster, cases []Case, drivers []Driver, opts *Options) ([]Result, error) {
	if opts == nil {
		opts = &Options{}
	}
	timeout := opts.CaseTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	restore := saveEnv()
	defer restore()

	tmp, err := os.MkdirTemp("", "conformance-")
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	defer os.RemoveAll(tmp)

	closed, err := closedPort()
	if err != nil {
		return nil, err
	}

	// Execution order: by server configuration, in order of first use.
	first := map[string]int{}
	order := make([]int, len(cases))
	for i, c := range cases {
		if c.Server == nil {
			return nil, fmt.Errorf("conformance: case %s has no server", c.ID)
		}
		if _, ok := first[c.Server.Name]; !ok {
			first[c.Server.Name] = i
		}
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return first[cases[a].Server.Name] - first[cases[b].Server.Name]
	})

	results := make([]Result, len(cases))
	current := ""
	for n, i := range order {
		c := cases[i]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if c.Server.Name != current {
			if err := applyServer(cluster, c.Server); err != nil {
				return nil, fmt.Errorf("conformance: configuring the server for %s: %w", c.ID, err)
			}
			current = c.Server.Name
		}
		home := filepath.Join(tmp, fmt.Sprintf("h%d", i))
		if err := writeHome(home, c.Files); err != nil {
			return nil, fmt.Errorf("conformance: %s: %w", c.ID, err)
		}
		d := expand(c.DSN, home, cluster.Port, closed)
		env := map[string]string{"HOME": home}
		for k, v := range c.Env {
			env[k] = expand(v, home, cluster.Port, closed)
		}
		r := Result{Case: c, Verdicts: map[string]Verdict{}}
		for _, drv := range drivers {
			setEnv(env)
			cctx, cancel := context.WithTimeout(ctx, timeout)
			v := drv.Connect(cctx, d, env)
			cancel()
			v.Message = disambiguate(Normalize(v.Message, home, cluster.Port, closed), c.DSN)
			r.Verdicts[drv.Name] = v
		}
		results[i] = r
		if err := os.RemoveAll(home); err != nil {
			return nil, fmt.Errorf("conformance: %w", err)
		}
		if opts.Progress != nil {
			opts.Progress(n+1, len(cases), r)
		}
	}
	return results, nil
}

// applyServer reconfigures the cluster for s. pgtest parses the new server
// certificate with crypto/x509 to confirm the reload, which refuses negative
// serial numbers unless GODEBUG says otherwise; the setting is made only for
// the reconfiguration, so that the drivers see Go's defaults.
func applyServer(cluster *pgtest.Cluster, s *Server) error {
	old, had := os.LookupEnv("GODEBUG")
	v := "x509negativeserial=1"
	if had && old != "" {
		v = old + "," + v
	}
	os.Setenv("GODEBUG", v)
	defer func() {
		if had {
			os.Setenv("GODEBUG", old)
		} else {
			os.Unsetenv("GODEBUG")
		}
	}()
	if err := cluster.Apply(ServerOptions(s)); err != nil {
		return err
	}
	// crypto/tls keeps parsed certificates in a weak cache shared by every
	// connection of the process: the one pgtest parsed to confirm the
	// reload must not be handed to the drivers. A collection clears it.
	runtime.GC()
	return nil
}

// writeHome creates a case's home directory with its files.
func writeHome(home string, files []File) error {
	if err := os.MkdirAll(filepath.Join(home, ".postgresql"), 0o700); err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(home, filepath.FromSlash(f.Path))
		if !strings.HasPrefix(p, home+string(filepath.Separator)) {
			return fmt.Errorf("file %q leaves the home directory", f.Path)
		}
		if f.Dir {
			mode := f.Mode
			if mode == 0 {
				mode = 0o700
			}
			if err := os.MkdirAll(p, mode); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o600
		}
		if err := os.WriteFile(p, f.Data, mode); err != nil {
			return err
		}
		// WriteFile's mode is filtered by the umask; the case wants it
		// exactly.
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
	}
	return nil
}

// closedPort returns a loopback port nothing listens on (one that was just
// free; nothing else on a test machine is expected to take it).
func closedPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("conformance: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port, nil
}

// isCaseEnv reports the variables a case controls: HOME and the PG* ones.
func isCaseEnv(k string) bool {
	return k == "HOME" || strings.HasPrefix(k, "PG")
}

// setEnv makes env the case's part of the process environment.
func setEnv(env map[string]string) {
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if isCaseEnv(k) {
			if _, keep := env[k]; !keep {
				os.Unsetenv(k)
			}
		}
	}
	for k, v := range env {
		os.Setenv(k, v)
	}
}

// saveEnv records the case-controlled variables and returns a function that
// puts them back.
func saveEnv() func() {
	saved := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if isCaseEnv(k) {
			saved[k] = v
		}
	}
	return func() { setEnv(saved) }
}

// Libpq returns the referee: psql, libpq's own client, of the default
// installation ([pgtest.FindBinaries]), run by pgtest with the case's
// environment only.
func Libpq() Driver { return LibpqOf(Referee, nil) }

// LibpqOf is [Libpq] with the psql of installation bin, under the column
// name name; nil means the default installation.
func LibpqOf(name string, bin *pgtest.Binaries) Driver {
	return Driver{Name: name, Connect: func(ctx context.Context, dsn string, env map[string]string) Verdict {
		r := pgtest.Psql{ConnInfo: dsn, Env: env, Timeout: 30 * time.Second, Bin: bin}.Run(ctx)
		switch {
		case r.Err != nil:
			return Verdict{Outcome: Fail, Message: "psql did not complete: " + r.Err.Error()}
		case !r.OK:
			return Verdict{Outcome: Fail, Message: r.Stderr}
		}
		s, err := r.Session()
		if err != nil {
			return Verdict{Outcome: Fail, Message: err.Error()}
		}
		if s.SSL {
			return Verdict{Outcome: TLS}
		}
		return Verdict{Outcome: Plain}
	}}
}

// SQLDriver returns a Driver that opens a database/sql handle with open,
// asks the server whether the session uses TLS, and closes the handle.
// Drivers under test (pqssl, lib/pq, pgx) are plugged in through it.
func SQLDriver(name string, open func(dsn string) (*sql.DB, error)) Driver {
	return Driver{Name: name, Connect: func(ctx context.Context, dsn string, _ map[string]string) Verdict {
		db, err := open(dsn)
		if err != nil {
			return Verdict{Outcome: Fail, Message: err.Error()}
		}
		defer db.Close()
		var ssl bool
		if err := db.QueryRowContext(ctx, SSLQuery).Scan(&ssl); err != nil {
			if ctx.Err() != nil {
				return Verdict{Outcome: Fail, Message: "timeout: " + err.Error()}
			}
			return Verdict{Outcome: Fail, Message: err.Error()}
		}
		if ssl {
			return Verdict{Outcome: TLS}
		}
		return Verdict{Outcome: Plain}
	}}
}

// SSLQuery asks the server whether the current session uses TLS.
const SSLQuery = "select ssl from pg_stat_ssl where pid = pg_backend_pid()"
