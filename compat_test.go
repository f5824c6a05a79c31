package pqssl

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

// tlsOnlyDB opens a pool through pqssl against the shared server configured
// to refuse plaintext, so everything these tests do crosses TLS.
func tlsOnlyDB(t *testing.T, wrap func(*Connector) driver.Connector) *sql.DB {
	t.Helper()
	cluster := pgtest.Shared(t)
	p := getScenarioPKI(t)
	if err := cluster.Apply(scenario{leaf: "cn-only", hba: "tls"}.serverOptions(p)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", t.TempDir())
	c, err := NewConnector(fmt.Sprintf("host=localhost hostaddr=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=require", cluster.Port))
	if err != nil {
		t.Fatal(err)
	}
	var dc driver.Connector = c
	if wrap != nil {
		dc = wrap(c)
	}
	db := sql.OpenDB(dc)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestLibpqFeatures checks that the connections pqssl returns are lib/pq's
// own: lib/pq's helpers, which type-assert its connection, work on them.
func TestLibpqFeatures(t *testing.T) {
	var notices []string
	var notifications []string
	db := tlsOnlyDB(t, func(c *Connector) driver.Connector {
		nc := pq.ConnectorWithNoticeHandler(c, func(e *pq.Error) { notices = append(notices, e.Message) })
		return pq.ConnectorWithNotificationHandler(nc, func(n *pq.Notification) {
			notifications = append(notifications, n.Channel+":"+n.Extra)
		})
	})
	db.SetMaxOpenConns(1)
	ctx := context.Background()

	var ssl bool
	if err := db.QueryRowContext(ctx, "select ssl from pg_stat_ssl where pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
		t.Fatalf("session not on TLS: ssl=%v err=%v", ssl, err)
	}

	t.Run("Array", func(t *testing.T) {
		var got []int64
		if err := db.QueryRowContext(ctx, "select $1::int8[]", pq.Array([]int64{1, 2, 3})).Scan(pq.Array(&got)); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != "[1 2 3]" {
			t.Errorf("got %v", got)
		}
	})

	t.Run("CopyIn", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec("create temp table copy_target (id int, name text)"); err != nil {
			t.Fatal(err)
		}
		stmt, err := tx.Prepare(pq.CopyIn("copy_target", "id", "name"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			if _, err := stmt.Exec(i, fmt.Sprint("row ", i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := stmt.Exec(); err != nil {
			t.Fatal(err)
		}
		stmt.Close()
		var n int
		if err := tx.QueryRow("select count(*) from copy_target").Scan(&n); err != nil || n != 100 {
			t.Errorf("copied %d rows (%v), want 100", n, err)
		}
	})

	t.Run("notices and notifications", func(t *testing.T) {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "do $$ begin raise notice 'hello from the server'; end $$"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "listen pqssl_channel"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "notify pqssl_channel, 'payload'"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "select 1"); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(notices) != "[hello from the server]" {
			t.Errorf("notices %q", notices)
		}
		if fmt.Sprint(notifications) != "[pqssl_channel:payload]" {
			t.Errorf("notifications %q", notifications)
		}
	})

	t.Run("server errors stay *pq.Error", func(t *testing.T) {
		_, err := db.ExecContext(ctx, "select * from no_such_table")
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || pqErr.Code != "42P01" {
			t.Errorf("got %T %v, want *pq.Error 42P01", err, err)
		}
	})
}

// TestCancelOverTLS checks that cancelling a context stops a running query on
// a TLS connection: lib/pq sends the CancelRequest through pqssl's dialer.
func TestCancelOverTLS(t *testing.T) {
	db := tlsOnlyDB(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := db.ExecContext(ctx, "select pg_sleep(30)")
	if err == nil {
		t.Fatal("query was not cancelled")
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("cancellation took %v", elapsed)
	}
	// The server must have cancelled the statement, not merely the client
	// given up: the backend is idle again shortly after.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := db.QueryRow("select count(*) from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'").Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cancelled query is still running on the server")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSQLOpen checks the registered driver: sql.Open reports a bad
// connection string at once, since the driver implements DriverContext.
func TestSQLOpen(t *testing.T) {
	_, err := sql.Open("pqssl", "host=localhost sslmode=nonsense")
	var perr *ParameterError
	if !errors.As(err, &perr) || perr.Name != "sslmode" {
		t.Errorf("sql.Open: %v, want a ParameterError for sslmode", err)
	}
	if _, err := (&Driver{}).Open("host=localhost sslmode=nonsense"); !errors.As(err, &perr) {
		t.Errorf("Driver.Open: %v, want a ParameterError", err)
	}
}

// TestLibpqConventions checks lib/pq's own connection string conventions
// end to end: unknown keys are run-time parameters, sslinline carries PEM
// data in sslrootcert, sslcert and sslkey, and binary_parameters works.
func TestLibpqConventions(t *testing.T) {
	cluster := pgtest.Shared(t)
	p := getScenarioPKI(t)
	o := scenario{leaf: "cn-only", hba: "cert", clientCA: true}.serverOptions(p)
	if err := cluster.Apply(o); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", t.TempDir())
	quote := func(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'" }
	dsn := fmt.Sprintf("host=localhost hostaddr=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=verify-full "+
		"sslinline=true sslrootcert=%s sslcert=%s sslkey=%s search_path=pqssl_schema binary_parameters=yes",
		cluster.Port, quote(string(p.rootA.CertPEM)), quote(string(testpki.ChainPEM(p.clientLeaf, p.clientInter))), quote(string(p.clientLeaf.KeyPEM)))
	c, err := NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	var searchPath, clientDN string
	if err := db.QueryRow("select current_setting('search_path'), client_dn from pg_stat_ssl where pid = pg_backend_pid()").
		Scan(&searchPath, &clientDN); err != nil {
		t.Fatal(err)
	}
	if searchPath != "pqssl_schema" {
		t.Errorf("search_path %q: the run-time parameter did not reach the server", searchPath)
	}
	if clientDN != "/CN=postgres" {
		t.Errorf("client_dn %q: the inline client certificate was not used", clientDN)
	}
	var got []byte
	if err := db.QueryRow("select $1::bytea", []byte{0, 1, 2}).Scan(&got); err != nil || !bytes.Equal(got, []byte{0, 1, 2}) {
		t.Errorf("binary parameter round trip: %x, %v", got, err)
	}

	// The inline root must still be checked: another CA's fails.
	bad := strings.Replace(dsn, quote(string(p.rootA.CertPEM)), quote(string(p.rootB.CertPEM)), 1)
	var verr *CertificateVerifyError
	if got, err := connectPqssl(t, bad); got != outFail || !errors.As(err, &verr) {
		t.Errorf("inline root of another CA: %s (%v), want a CertificateVerifyError", got, err)
	}
}
