package pqssl

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

// TestTrace checks the Attempts WithTrace reports against a real server: a
// verified session, a plaintext attempt refused by pg_hba.conf and its TLS
// retry under sslmode=allow, and a cancel request, which adds no Attempt.
func TestTrace(t *testing.T) {
	cluster := pgtest.Shared(t)
	p := getScenarioPKI(t)
	o := scenario{leaf: "cn-only", hba: "tls"}.serverOptions(p)
	if err := cluster.Apply(o); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	root := testpki.WriteFile(t, filepath.Join(dir, "root.crt"), p.rootA.CertPEM, 0o644)
	base := fmt.Sprintf("host=localhost hostaddr=127.0.0.1 port=%d user=postgres dbname=postgres ", cluster.Port)

	var mu sync.Mutex
	var got []*Attempt
	trace := WithTrace(func(a *Attempt) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, a)
	})
	attempts := func() []*Attempt {
		mu.Lock()
		defer mu.Unlock()
		return append([]*Attempt(nil), got...)
	}

	if out, err := connectPqssl(t, base+"sslmode=verify-full sslrootcert="+root, trace); out != outTLS {
		t.Fatalf("verify-full: %s (%v)", out, err)
	}
	a := attempts()
	if len(a) != 1 {
		t.Fatalf("%d attempts, want 1", len(a))
	}
	v := a[0].Verification
	switch {
	case a[0].Err != nil || a[0].Encryption != "tls" || a[0].SSLResponse != 'S' || a[0].Address != fmt.Sprintf("127.0.0.1:%d", cluster.Port):
		t.Errorf("attempt %+v", a[0])
	case a[0].TLS == nil || len(a[0].TLS.PeerCertificates) == 0 || a[0].ClientCertRequested:
		t.Errorf("TLS %+v, client certificate requested %v", a[0].TLS, a[0].ClientCertRequested)
	case v == nil || v.Err != nil || v.SSLMode != "verify-full" || len(v.Chain) != 3 || v.Chain[2].Subject.String() != p.rootA.Cert.Subject.String():
		t.Errorf("verification %+v", v)
	case v.HostMatch == nil || *v.HostMatch != (HostMatch{Host: "localhost", Name: "localhost", Kind: "commonName"}):
		t.Errorf("host match %+v", v.HostMatch)
	case len(v.Checks) != 8 || v.Checks[4] != (VerifyCheck{CheckRevocation, CheckNotConfigured}) || v.Checks[7] != (VerifyCheck{CheckHostName, CheckPassed}):
		t.Errorf("checks %+v", v.Checks)
	}

	got = nil
	if out, err := connectPqssl(t, base+"sslmode=allow", trace); out != outTLS {
		t.Fatalf("allow: %s (%v)", out, err)
	}
	a = attempts()
	if len(a) != 2 || a[0].Encryption != "plaintext" || a[0].Err == nil || a[0].TLS != nil ||
		a[1].Encryption != "tls" || a[1].Err != nil || a[1].Verification != nil {
		t.Errorf("allow: attempts %+v", a)
	}

	// A cancelled query sends a CancelRequest through the same dialer.
	got = nil
	var dialCount atomic.Int32
	count := WithDialFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialCount.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	})
	c, err := NewConnector(base+"sslmode=verify-full sslrootcert="+root, trace, count)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := db.ExecContext(ctx, "select pg_sleep(10)"); err == nil {
		t.Fatal("the query outlived its context")
	}
	time.Sleep(200 * time.Millisecond) // the CancelRequest's connection
	if n, d := len(attempts()), dialCount.Load(); n != 1 || d != 2 {
		t.Errorf("%d attempts after %d dials, want 1 attempt after 2 (the session and its CancelRequest)", n, d)
	}
}
