// Package conformance is pqssl's conformance suite: a generated matrix of
// server certificates, chains, revocation lists, connection strings and
// server configurations, each run through libpq (psql) and through Go
// drivers against a real PostgreSQL server, and a Markdown report of the
// verdicts.
//
// The package does not import pqssl: callers plug drivers in as [Driver]
// values, so that pqssl's own tests and the report command (a separate
// module, which may also depend on pgx) share one generator, runner and
// report writer.
//
//	cases, err := conformance.Generate(conformance.Full)
//	results, err := conformance.Run(ctx, cluster, cases, drivers, nil)
//	report := conformance.Report(results, drivers, info)
//
// Certificates are made afresh on every run; case names, descriptions and
// the normalized messages in the report are stable, so that a report can be
// compared with a fresh run.
package conformance

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// Outcome is what became of one connection attempt.
type Outcome string

// The outcomes of a connection attempt.
const (
	TLS   Outcome = "tls"   // a session over TLS
	Plain Outcome = "plain" // a session without encryption
	Fail  Outcome = "fail"  // no session
)

// Verdict is a driver's outcome for one case, with its message when the
// connection failed. The message is normalized (see [Normalize]): ports,
// temporary paths, timestamps and the per-attempt "connection to server
// at ..." prefixes are replaced or removed, so that it is the same on every
// run.
type Verdict struct {
	Outcome Outcome
	Message string
}

// String formats v as it appears in the report: "tls", "plain" or
// "fail: MESSAGE".
func (v Verdict) String() string {
	if v.Outcome == Fail && v.Message != "" {
		return string(Fail) + ": " + v.Message
	}
	return string(v.Outcome)
}

// Class returns the kinds of failure v's message names (see [Classify]);
// empty when v is not a failure.
func (v Verdict) Class() string {
	if v.Outcome != Fail {
		return ""
	}
	return Classify(v.Message)
}

// Driver is a client under test, or libpq as the referee.
type Driver struct {
	// Name is the column heading in the report: "libpq", "pqssl",
	// "lib/pq", "pgx".
	Name string
	// Connect opens one session with dsn and reports the outcome. env holds
	// the case's environment: HOME and any PG* variables. The runner also
	// puts exactly these into the process environment (every other PG*
	// variable removed) for the duration of the call, for drivers that read
	// it from there.
	Connect func(ctx context.Context, dsn string, env map[string]string) Verdict
}

// Server is a server configuration: the certificate chain the server sends,
// its key, the client CA it verifies client certificates with (when set, it
// asks every client for a certificate) and its pg_hba.conf lines.
type Server struct {
	// Name identifies the configuration; cases with the same Name share it,
	// and the runner reconfigures the server only when it changes.
	Name string
	// Chain is the server certificate file (PEM, leaf first).
	Chain []byte
	// Key is the server's private key (PEM).
	Key []byte
	// ClientCA, when not nil, is ssl_ca_file.
	ClientCA []byte
	// HBA is the pg_hba.conf profile: "both" (host), "tls" (hostssl),
	// "plain" (hostnossl) or "cert" (hostssl with cert authentication).
	HBA string
	// Conf holds extra postgresql.conf settings.
	Conf map[string]string
}

// File is a file a case puts in its home directory before running.
type File struct {
	// Path is relative to the home directory, e.g. ".postgresql/root.crt".
	Path string
	// Data is the content. A nil Data with Dir set makes a directory.
	Data []byte
	// Dir makes Path a directory (Data is then ignored).
	Dir bool
	// Mode is the file's permission bits; 0 means 0600 (0700 for a
	// directory).
	Mode os.FileMode
}

// Case is one row of the matrix.
type Case struct {
	// ID is the stable name of the case, unique in the matrix:
	// "group/short-name". The report and its check identify rows by it.
	ID string
	// Group is the section of the report the case belongs to.
	Group string
	// Desc says in a few words what the case is.
	Desc string
	// Server is the server configuration the case runs against.
	Server *Server
	// Files are created in a fresh home directory for the case.
	Files []File
	// DSN is the connection string. "{port}" is replaced by the server's
	// port, "{home}" by the case's home directory and "{closed}" by a port
	// nothing listens on.
	DSN string
	// Env holds environment variables besides HOME (which is always the
	// case's home directory); "{home}" is replaced in values.
	Env map[string]string
	// Fast marks the cases of the fast subset, run by default in go test.
	Fast bool
	// MinLibpq is the libpq major version that introduced a parameter the
	// case uses; an older local libpq cannot referee it. Expect is then
	// the verdict libpq MinLibpq and later give (from libpq's source and
	// documentation), and pqssl is compared with it instead.
	MinLibpq int
	Expect   *Verdict
	// Note explains the expectation or a notable libpq behaviour; it is
	// shown in the report.
	Note string
	// AlertRace marks a case where the server rejects the client's
	// certificate after a TLS 1.3 handshake has completed on the client's
	// side: whether a client then reports the server's alert or a reset
	// connection depends on timing, so only outcomes are compared.
	AlertRace bool
}

// Mode selects the cases to generate.
type Mode int

const (
	// Fast is the subset run by default by go test: every dimension,
	// a few cases each.
	Fast Mode = iota
	// Full is the whole matrix.
	Full
)

// expand replaces the placeholders of s.
func expand(s, home string, port, closed int) string {
	return strings.NewReplacer(
		"{home}", home,
		"{port}", fmt.Sprint(port),
		"{closed}", fmt.Sprint(closed),
	).Replace(s)
}
