// This file holds psql runs, libpq's own client as the referee, and the
// session query whose row says what the server saw of a connection.

package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// SessionQuery reports what the server saw of the session running it, one
// row: ssl (boolean), TLS version, cipher, client certificate serial
// (decimal), current user, server address (empty over a Unix socket) and
// client certificate DN. The empty string stands for NULL. psql prints it as
// "t|TLSv1.3|TLS_AES_256_GCM_SHA384||postgres|127.0.0.1|".
const SessionQuery = "select ssl, coalesce(version, ''), coalesce(cipher, ''), " +
	"coalesce(client_serial::text, ''), current_user, coalesce(host(inet_server_addr()), ''), " +
	"coalesce(client_dn, '') from pg_stat_ssl where pid = pg_backend_pid()"

// Session is the row of [SessionQuery].
type Session struct {
	SSL          bool
	Version      string // "TLSv1.3"; empty without TLS
	Cipher       string
	ClientSerial string // decimal, as x509.Certificate.SerialNumber.String() prints it
	User         string
	ServerAddr   string // the server address the client reached; empty over a Unix socket
	ClientDN     string // client certificate subject, OpenSSL's one-line form
}

// ParseSession parses psql's unaligned output of [SessionQuery].
func ParseSession(output string) (Session, error) {
	line := strings.TrimSpace(output)
	f := strings.SplitN(line, "|", 7)
	if len(f) != 7 || (f[0] != "t" && f[0] != "f") {
		return Session{}, fmt.Errorf("pgtest: not an output of SessionQuery: %q", line)
	}
	return Session{
		SSL: f[0] == "t", Version: f[1], Cipher: f[2], ClientSerial: f[3],
		User: f[4], ServerAddr: f[5], ClientDN: f[6],
	}, nil
}

// QuerySession runs [SessionQuery] on db, which may be a *sql.DB, *sql.Conn
// or *sql.Tx of the client under test.
func QuerySession(ctx context.Context, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (Session, error) {
	var s Session
	err := db.QueryRowContext(ctx, SessionQuery).Scan(
		&s.SSL, &s.Version, &s.Cipher, &s.ClientSerial, &s.User, &s.ServerAddr, &s.ClientDN)
	return s, err
}

// Psql describes one run of psql, libpq's own client, used as the referee.
//
// psql runs as "psql -X -A -t -w -v ON_ERROR_STOP=1 -c QUERY -d CONNINFO"
// with stdin from /dev/null, in a session of its own (so it has no terminal
// to prompt on: OpenSSL would ask there for a key's passphrase), and with an
// environment holding only PATH, HOME, LANG=C and Env. No PG* variable of
// the test process reaches it.
type Psql struct {
	// ConnInfo is the connection string, key=value or URI.
	ConnInfo string
	// Env holds extra environment variables (PGSSLMODE, PGSSLROOTCERT,
	// ...). HOME here overrides the default.
	Env map[string]string
	// Query is the query to run; empty means SessionQuery.
	Query string
	// Home is HOME for psql, where libpq looks for ~/.postgresql and
	// ~/.pgpass; empty means a fresh empty directory, removed afterwards.
	Home string
	// Timeout bounds the run; zero means 30 seconds.
	Timeout time.Duration
	// Bin is the installation whose psql runs, and so whose libpq is the
	// referee; nil means the default one (see [FindBinaries]).
	Bin *Binaries
}

// PsqlResult is the outcome of a psql run.
type PsqlResult struct {
	// OK reports whether psql exited with status 0.
	OK bool
	// ExitCode is psql's exit status: 0 success, 1 a query error, 2 a
	// connection failure; -1 when it did not exit normally.
	ExitCode int
	// Output is psql's standard output without the final newline.
	Output string
	// Stderr is psql's standard error without the final newline (libpq's
	// error message, starting "psql: error: ").
	Stderr string
	// Err is set when psql could not be run or was killed at the timeout.
	Err error
}

// Session parses Output as the result of [SessionQuery].
func (r PsqlResult) Session() (Session, error) {
	if !r.OK {
		return Session{}, fmt.Errorf("pgtest: psql failed: %s", r)
	}
	return ParseSession(r.Output)
}

// String summarises the result for test failure messages.
func (r PsqlResult) String() string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("psql did not complete: %v; stderr: %q", r.Err, r.Stderr)
	case r.OK:
		return fmt.Sprintf("ok: %q", r.Output)
	default:
		return fmt.Sprintf("exit %d: %q", r.ExitCode, r.Stderr)
	}
}

// RunPsql runs the default installation's psql with [SessionQuery] on
// conninfo with the extra environment env (see [Psql]).
func RunPsql(ctx context.Context, conninfo string, env map[string]string) PsqlResult {
	return Psql{ConnInfo: conninfo, Env: env}.Run(ctx)
}

// RunPsql runs this installation's psql with [SessionQuery] on conninfo
// with the extra environment env (see [Psql]).
func (bin *Binaries) RunPsql(ctx context.Context, conninfo string, env map[string]string) PsqlResult {
	return Psql{ConnInfo: conninfo, Env: env, Bin: bin}.Run(ctx)
}

// Psql runs the psql of the cluster's installation with [SessionQuery]
// against this cluster: conninfo is appended to [Cluster.ConnInfo]'s
// parameters (IPv4 address, port, superuser), so it needs to give only what
// the test is about. A URI is used as it is.
func (c *Cluster) Psql(ctx context.Context, conninfo string, env map[string]string) PsqlResult {
	if !strings.HasPrefix(conninfo, "postgres://") && !strings.HasPrefix(conninfo, "postgresql://") {
		conninfo = c.ConnInfo(conninfo)
	}
	return c.Bin.RunPsql(ctx, conninfo, env)
}

// Run runs psql.
func (p Psql) Run(ctx context.Context) PsqlResult {
	bin := p.Bin
	if bin == nil {
		var err error
		if bin, err = FindBinaries(); err != nil {
			return PsqlResult{ExitCode: -1, Err: err}
		}
	}
	timeout := p.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	home := p.Home
	if h, ok := p.Env["HOME"]; ok {
		home = h
	}
	if home == "" {
		dir, err := os.MkdirTemp("", "pgtest-home-")
		if err != nil {
			return PsqlResult{ExitCode: -1, Err: fmt.Errorf("pgtest: %w", err)}
		}
		defer os.RemoveAll(dir)
		home = dir
	}
	query := p.Query
	if query == "" {
		query = SessionQuery
	}

	cmd := exec.CommandContext(ctx, bin.Psql, "-X", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1",
		"-c", query, "-d", p.ConnInfo)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=C"}
	for k, v := range p.Env {
		if k != "HOME" {
			env = append(env, k+"="+v)
		}
	}
	cmd.Env = env
	cmd.Dir = home
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	res := PsqlResult{
		Output: strings.TrimSuffix(stdout.String(), "\n"),
		Stderr: strings.TrimSuffix(stderr.String(), "\n"),
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		res.OK = true
	case ctx.Err() != nil:
		res.ExitCode = -1
		res.Err = fmt.Errorf("pgtest: psql killed after %v: %w", timeout, ctx.Err())
	case errors.As(err, &exit) && exit.Exited():
		res.ExitCode = exit.ExitCode()
	default:
		res.ExitCode = -1
		res.Err = fmt.Errorf("pgtest: running psql: %w", err)
	}
	return res
}
