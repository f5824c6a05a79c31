//go:build go1.25

package pqssl

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"crypto/tls"

	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/relay"
	"github.com/pqssl/pqssl/internal/tlswire"
)

// TestGroupLearning runs a Connector's connections through the measuring
// relay to a PostgreSQL server with its default ssl_ecdh_curve (P-256
// only): the first handshake takes a HelloRetryRequest, the later ones
// offer a P-256 share at once and take one flight less. After the server
// moves to P-384 the next connection takes at most one HelloRetryRequest and
// the ones after it none. An unverified server teaches nothing.
func TestGroupLearning(t *testing.T) {
	cluster := pgtest.StartT(t, pgtest.Options{})
	r, host, port, root := relayTo(t, cluster)
	base := fmt.Sprintf("host=%s port=%s user=%s dbname=postgres connect_timeout=10", host, port, pgtest.Superuser)
	verified, err := NewConnector(base + " sslmode=verify-full sslrootcert=" + quoteConnValue(root))
	if err != nil {
		t.Fatal(err)
	}
	unverified, err := NewConnector(base + " sslmode=require sslrootcert=" + quoteConnValue(filepath.Join(t.TempDir(), "none")))
	if err != nil {
		t.Fatal(err)
	}
	m := &relayMeter{t: t, r: r}
	n := 0
	connect := func(c *Connector) relay.ConnStats {
		t.Helper()
		s := m.connect(c)
		n = m.n
		return s
	}
	want := func(s relay.ConnStats, hrr bool, group tls.CurveID) {
		t.Helper()
		if s.HelloRetryRequest != hrr || s.Group != group {
			t.Errorf("connection %d: HelloRetryRequest %v, group %s; want %v, %s",
				n, s.HelloRetryRequest, tlswire.GroupName(s.Group), hrr, tlswire.GroupName(group))
		}
	}

	first := connect(verified)
	want(first, true, tls.CurveP256)
	for i := 0; i < 2; i++ {
		s := connect(verified)
		want(s, false, tls.CurveP256)
		if s.Flights != first.Flights-1 {
			t.Errorf("connection %d: %d flights, want %d (one fewer than the first)", n, s.Flights, first.Flights-1)
		}
		if !slices.Contains(s.SupportedGroups, tls.CurveP384) || !slices.Contains(s.SupportedGroups, tls.CurveP521) {
			t.Errorf("connection %d offers only %s", n, tlswire.GroupList(s.SupportedGroups))
		}
	}

	// Nothing is learned from a server that was not verified.
	want(connect(unverified), true, tls.CurveP256)
	want(connect(unverified), true, tls.CurveP256)

	if err := cluster.SetConf("ssl_ecdh_curve", "secp384r1"); err != nil {
		t.Fatal(err)
	}
	want(connect(verified), true, tls.CurveP384)
	want(connect(verified), false, tls.CurveP384)
	want(connect(verified), false, tls.CurveP384)

	// A server that no longer accepts the learned group at all refuses the
	// handshake; the connection is redone at once with the default groups,
	// and the new group learned.
	if err := cluster.SetConf("ssl_ecdh_curve", "prime256v1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cn, err := verified.Connect(ctx)
	if err != nil {
		t.Fatalf("after the server changed groups: %v", err)
	}
	cn.Close()
	stats, err := r.Wait(ctx, n+2)
	if err != nil {
		t.Fatal(err)
	}
	n += 2
	m.n = n
	refused, redone := stats[n-2], stats[n-1]
	t.Logf("refused: %s\nredone: %s", refused, redone)
	if !slices.Equal(refused.SupportedGroups, []tls.CurveID{tls.CurveP384, tls.CurveP521}) || refused.Group != 0 {
		t.Errorf("the first attempt: %s, want a refused handshake offering the learned groups", refused)
	}
	want(redone, true, tls.CurveP256)
	want(connect(verified), false, tls.CurveP256)
}

// relayTo starts a measuring relay to cluster, closed when t ends, and
// writes the server's certificate as a root file.
func relayTo(t *testing.T, cluster *pgtest.Cluster) (r *relay.Relay, host, port, root string) {
	t.Helper()
	r, err := relay.Start(cluster.Addr(), relay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	host, port, _ = net.SplitHostPort(r.Addr())
	root = filepath.Join(t.TempDir(), "root.crt")
	if err := os.WriteFile(root, cluster.ServerCertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return r, host, port, root
}

// relayMeter opens connections through a measuring relay and returns the
// relay's account of each.
type relayMeter struct {
	t *testing.T
	r *relay.Relay
	n int // connections the relay has seen
}

// connect opens and closes one connection of c and returns its statistics,
// failing the test unless it went on in TLS that the relay could follow.
func (m *relayMeter) connect(c *Connector) relay.ConnStats {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cn, err := c.Connect(ctx)
	if err != nil {
		m.t.Fatalf("connection %d: %v", m.n+1, err)
	}
	cn.Close()
	m.n++
	stats, err := m.r.Wait(ctx, m.n)
	if err != nil {
		m.t.Fatal(err)
	}
	s := stats[m.n-1]
	m.t.Logf("connection %d: %s", m.n, s)
	if !s.TLS || s.Err != nil || s.TLSError != nil {
		m.t.Fatalf("connection %d: %s", m.n, s)
	}
	return s
}

// TestGroupsPG18 runs connections through the measuring relay to PostgreSQL
// 18, whose ssl_groups lists X25519: Go's first key shares include X25519,
// so no handshake ever takes a HelloRetryRequest, and sslnegotiation=direct
// takes one flight less than an SSLRequest.
func TestGroupsPG18(t *testing.T) {
	bin := pgtest.Installation(t, 18)
	for _, tc := range []struct {
		name string
		conf map[string]string
	}{
		{"default ssl_groups", nil},
		{"ssl_groups=X25519", map[string]string{"ssl_groups": "X25519"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cluster := bin.StartT(t, pgtest.Options{Conf: tc.conf})
			r, host, port, root := relayTo(t, cluster)
			base := fmt.Sprintf("host=%s port=%s user=%s dbname=postgres connect_timeout=10 sslmode=verify-full sslrootcert=%s",
				host, port, pgtest.Superuser, quoteConnValue(root))
			viaRequest, err := NewConnector(base)
			if err != nil {
				t.Fatal(err)
			}
			direct, err := NewConnector(base + " sslnegotiation=direct")
			if err != nil {
				t.Fatal(err)
			}
			m := &relayMeter{t: t, r: r}
			var flights int
			for i := 0; i < 3; i++ {
				s := m.connect(viaRequest)
				if s.HelloRetryRequest || s.Group != tls.X25519 || !s.SSLRequest || s.DirectTLS {
					t.Errorf("connection %d: %s; want an SSLRequest and X25519 without HelloRetryRequest", m.n, s)
				}
				if i > 0 && s.Flights != flights {
					t.Errorf("connection %d: %d flights, want %d as before", m.n, s.Flights, flights)
				}
				flights = s.Flights
			}
			for i := 0; i < 2; i++ {
				s := m.connect(direct)
				if s.HelloRetryRequest || s.Group != tls.X25519 || s.SSLRequest || !s.DirectTLS {
					t.Errorf("connection %d: %s; want direct TLS and X25519 without HelloRetryRequest", m.n, s)
				}
				if s.Flights != flights-1 {
					t.Errorf("connection %d (direct): %d flights, want %d (no SSLRequest flight)", m.n, s.Flights, flights-1)
				}
			}
		})
	}
}
