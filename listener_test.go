package pqssl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

// listenerFixture is a server that accepts the superuser only over TLS with
// a client certificate, and a connection string that verifies the server
// and presents the certificate.
func listenerFixture(t *testing.T) (*pgtest.Cluster, string) {
	t.Helper()
	cluster, ca := certAuthServer(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := issueClientCert(t, ca, key.Public())
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile, rootFile := filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"), filepath.Join(dir, "root.crt")
	for _, f := range []struct {
		path string
		data []byte
	}{
		{certFile, certPEM},
		{keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})},
		{rootFile, cluster.ServerCertPEM()},
	} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dsn := certDSN(cluster, certFile, keyFile, "") + " sslmode=verify-full sslrootcert=" + quoteConnValue(rootFile)
	return cluster, dsn
}

// listenerBackend returns the pid of the session listening on channel, and
// whether pg_stat_ssl shows it on TLS with the client certificate.
func listenerBackend(t *testing.T, db *sql.DB, self int) (pid int, ssl bool, clientDN string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.QueryRow(`select a.pid, s.ssl, coalesce(s.client_dn, '')
			from pg_stat_activity a join pg_stat_ssl s using (pid)
			where a.query ilike 'listen %' and a.pid <> $1`, self).Scan(&pid, &ssl, &clientDN)
		if err == nil {
			return pid, ssl, clientDN
		}
		if !errors.Is(err, sql.ErrNoRows) || time.Now().After(deadline) {
			t.Fatalf("finding the listener's backend: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitNotification(t *testing.T, l *pq.Listener, want string) {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case n := <-l.Notify:
			if n == nil {
				continue // the Listener reconnected
			}
			if n.Extra != want {
				t.Fatalf("notification %q, want %q", n.Extra, want)
			}
			return
		case <-timeout:
			t.Fatalf("no notification %q", want)
		}
	}
}

func TestListenerOverTLS(t *testing.T) {
	_, dsn := listenerFixture(t)
	c, err := NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	var self int
	if err := db.QueryRow("select pg_backend_pid()").Scan(&self); err != nil {
		t.Fatalf("a connection over TLS with a client certificate: %v", err)
	}
	db.SetMaxOpenConns(1)

	events := make(chan pq.ListenerEventType, 16)
	l := c.NewListener(10*time.Millisecond, 200*time.Millisecond, func(ev pq.ListenerEventType, err error) {
		select {
		case events <- ev:
		default:
		}
	})
	defer l.Close()
	if err := l.Listen("pqssl_events"); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	for round, msg := range []string{"before", "after"} {
		pid, ssl, dn := listenerBackend(t, db, self)
		if !ssl || dn == "" {
			t.Fatalf("round %d: listener backend %d: ssl=%v client_dn=%q, want TLS with the client certificate", round, pid, ssl, dn)
		}
		if _, err := db.Exec("select pg_notify('pqssl_events', $1)", msg); err != nil {
			t.Fatal(err)
		}
		waitNotification(t, l, msg)
		if round > 0 {
			break
		}
		var ok bool
		if err := db.QueryRow("select pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
			t.Fatalf("pg_terminate_backend(%d): %v %v", pid, ok, err)
		}
		waitEvent(t, events, pq.ListenerEventReconnected)
		if newPID, _, _ := listenerBackend(t, db, self); newPID == pid {
			t.Fatalf("the listener kept backend %d after it was terminated", pid)
		}
	}
}

func waitEvent(t *testing.T, events <-chan pq.ListenerEventType, want pq.ListenerEventType) {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev == want {
				return
			}
		case <-timeout:
			t.Fatalf("no listener event %d", want)
		}
	}
}

// TestListenerVerifyFailure: with a root file that does not hold the
// server's CA the Listener never connects, and the event callback gets
// pqssl's verification error.
func TestListenerVerifyFailure(t *testing.T) {
	_, dsn := listenerFixture(t)
	other, err := testpki.NewRoot(testpki.Spec{CommonName: "not the server's CA"})
	if err != nil {
		t.Fatal(err)
	}
	wrongRoot := filepath.Join(t.TempDir(), "wrong.crt")
	if err := os.WriteFile(wrongRoot, other.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := NewConnector(dsn + " sslrootcert=" + quoteConnValue(wrongRoot))
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	l := c.NewListener(10*time.Millisecond, 50*time.Millisecond, func(ev pq.ListenerEventType, err error) {
		if ev == pq.ListenerEventConnectionAttemptFailed {
			select {
			case errs <- err:
			default:
			}
		}
	})
	defer l.Close()
	select {
	case err := <-errs:
		var verr *CertificateVerifyError
		if !errors.As(err, &verr) {
			t.Fatalf("connection attempt failed with %v (%T), want a *CertificateVerifyError", err, err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no connection attempt failure reported")
	}
	if err := l.Ping(); err == nil {
		t.Fatal("the Listener has a connection although the server cannot be verified")
	}
}

// TestListenerConnString: lib/pq accepts the connection string the Listener
// hands it, with TLS off and no password in it.
func TestListenerConnString(t *testing.T) {
	for _, dsn := range []string{
		"host=db.example port=5433 user=u dbname=d password=secret sslmode=verify-full application_name='a b' options='-c x=y'",
		"host=a,b hostaddr=127.0.0.1,127.0.0.2 port=1,2 user=u target_session_attrs=read-write load_balance_hosts=random search_path=s",
		"host=/tmp user=u binary_parameters=yes connect_timeout=5",
	} {
		c, err := NewConnector(dsn)
		if err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		s := c.listenerConnString()
		if strings.Contains(s, "secret") {
			t.Errorf("the password appears in %q", s)
		}
		pc, err := pq.NewConfig(s)
		if err != nil {
			t.Errorf("lib/pq refuses %q: %v", s, err)
			continue
		}
		if pc.SSLMode != pq.SSLModeDisable || pc.User != "u" {
			t.Errorf("lib/pq reads %q as sslmode=%q user=%q, want disable and u", s, pc.SSLMode, pc.User)
		}
		for _, h := range c.cfg.hosts {
			network, address := h.pqAddress()
			if network == "" || address == "" {
				t.Errorf("no address for %v", h)
			}
		}
	}
}
