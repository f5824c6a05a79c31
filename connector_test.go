package pqssl

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/pgtest"
)

func TestMain(m *testing.M) {
	// Tests state every parameter they depend on; none may leak in from the
	// environment of whoever runs them.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "PG") {
			os.Unsetenv(k)
		}
	}
	pgtest.Main(m)
}

// outcome is what became of a connection attempt: a session over TLS, a
// session in plaintext, or a failure.
type outcome string

const (
	outTLS   outcome = "tls"
	outPlain outcome = "plain"
	outFail  outcome = "fail"
)

// libpqText is err's message without pqssl's "pqssl: " prefix: the text
// libpq shows for the same failure.
func libpqText(err error) string { return strings.TrimPrefix(err.Error(), "pqssl: ") }

// connectPqssl connects through pqssl with dsn and reports the outcome and,
// on failure, the error.
func connectPqssl(t *testing.T, dsn string, opts ...Option) (outcome, error) {
	t.Helper()
	c, err := NewConnector(dsn, opts...)
	if err != nil {
		return outFail, err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ssl bool
	if err := db.QueryRowContext(ctx, "select ssl from pg_stat_ssl where pid = pg_backend_pid()").Scan(&ssl); err != nil {
		return outFail, err
	}
	if ssl {
		return outTLS, nil
	}
	return outPlain, nil
}

// connectLibpq runs the same connection string through libpq (psql) with
// HOME set to home and no other PG* variable, and reports the outcome and
// psql's message. Where libpq 18 is installed it runs that psql too, which
// must reach the same outcome.
func connectLibpq(t *testing.T, dsn, home string, env map[string]string) (outcome, string) {
	t.Helper()
	e := map[string]string{"HOME": home, "PGCONNECT_TIMEOUT": "10"}
	for k, v := range env {
		e[k] = v
	}
	run := func(bin *pgtest.Binaries) (outcome, string) {
		r := pgtest.Psql{Bin: bin, ConnInfo: dsn, Env: e}.Run(context.Background())
		if !r.OK {
			return outFail, strings.TrimSpace(r.Stderr)
		}
		s, err := r.Session()
		if err != nil {
			t.Fatalf("psql output: %v (%s)", err, r.Output)
		}
		if s.SSL {
			return outTLS, ""
		}
		return outPlain, ""
	}
	got, msg := run(nil)
	if bin18 := pgtest.OptionalInstallation(t, 18); bin18 != nil {
		if got18, msg18 := run(bin18); got18 != got {
			t.Errorf("libpq 18: %s (%s); the default libpq: %s (%s)", got18, msg18, got, msg)
		}
	}
	return got, msg
}

// psqlAvailable reports whether libpq can referee; under CI it must.
func psqlAvailable(t *testing.T) bool {
	t.Helper()
	bin, err := pgtest.FindBinaries()
	if err != nil || bin.Psql == "" {
		if pgtest.InCI() {
			t.Fatalf("psql not found under CI: %v", err)
		}
		return false
	}
	return true
}
