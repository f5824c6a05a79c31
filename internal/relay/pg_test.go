package relay

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	_ "github.com/lib/pq"
	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/tlswire"
)

// TestPostgreSQL runs libpq (psql), lib/pq and a crypto/tls client
// through the relay to a real server. PostgreSQL up to 17 offers only
// P-256 by default (ssl_ecdh_curve=prime256v1), while OpenSSL's and Go's
// clients send X25519 key shares first: each handshake takes a
// HelloRetryRequest, except for a client that sends a P-256 share.
func TestPostgreSQL(t *testing.T) {
	c := pgtest.StartT(t, pgtest.Options{})
	r := startRelay(t, c.Addr(), Options{})
	host, port, err := net.SplitHostPort(r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	conninfo := fmt.Sprintf("host=%s port=%s user=%s dbname=postgres sslmode=require", host, port, pgtest.Superuser)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	goShares := []tls.CurveID{tls.X25519MLKEM768, tls.X25519}
	psql := func() error {
		res := pgtest.Psql{ConnInfo: conninfo}.Run(ctx)
		s, err := res.Session()
		if err == nil && !s.SSL {
			err = fmt.Errorf("psql's session is not TLS: %+v", s)
		}
		return err
	}
	libpq := func() error {
		db, err := sql.Open("postgres", conninfo)
		if err != nil {
			return err
		}
		defer db.Close()
		s, err := pgtest.QuerySession(ctx, db)
		if err == nil && !s.SSL {
			err = fmt.Errorf("lib/pq's session is not TLS: %+v", s)
		}
		return err
	}
	probe := func(curves ...tls.CurveID) func() error {
		return func() error {
			_, err := pgtest.TLSProbe(ctx, r.Addr(), &tls.Config{InsecureSkipVerify: true, CurvePreferences: curves})
			return err
		}
	}
	tests := []struct {
		name   string
		conf   string // ssl_ecdh_curve, "" for the default
		run    func() error
		shares []tls.CurveID // the first ClientHello's key shares
		hrr    bool
		group  tls.CurveID
		// flights: the SSLRequest, the ClientHello, the second one after a
		// HelloRetryRequest, the Finished (with the startup message), the
		// query, the Terminate, which nothing answers; the probe stops
		// after its Finished.
		flights, answered int
	}{
		// OpenSSL 3.0 sends one share, X25519.
		{"psql", "", psql, []tls.CurveID{tls.X25519}, true, tls.CurveP256, 6, 5},
		{"lib/pq", "", libpq, goShares, true, tls.CurveP256, 6, 5},
		{"crypto/tls", "", probe(), goShares, true, tls.CurveP256, 4, 3},
		{"crypto/tls offering P-256 only", "", probe(tls.CurveP256), []tls.CurveID{tls.CurveP256}, false, tls.CurveP256, 3, 2},
		{"psql, server on P-384", "secp384r1", psql, []tls.CurveID{tls.X25519}, true, tls.CurveP384, 6, 5},
	}
	for i, tt := range tests {
		if tt.conf != "" {
			if err := c.SetConf("ssl_ecdh_curve", tt.conf); err != nil {
				t.Fatal(err)
			}
		}
		if err := tt.run(); err != nil {
			t.Fatalf("%s through the relay: %v", tt.name, err)
		}
		s := waitStats(t, r, i+1)[i]
		t.Logf("%s: %s", tt.name, s)
		if !s.SSLRequest || s.SSLResponse != 'S' || !s.TLS || s.TLSError != nil || s.Err != nil {
			t.Errorf("%s: negotiation %s", tt.name, s)
		}
		if s.HelloRetryRequest != tt.hrr || s.Group != tt.group || s.Version != tls.VersionTLS13 || len(s.ClientHellos) != 1+btoi(tt.hrr) {
			t.Errorf("%s: HelloRetryRequest %v, group %s, version %x, %d ClientHellos; want %v, %s, TLS 1.3",
				tt.name, s.HelloRetryRequest, tlswire.GroupName(s.Group), s.Version, len(s.ClientHellos), tt.hrr, tlswire.GroupName(tt.group))
		}
		if s.Flights != tt.flights || s.Answered != tt.answered {
			t.Errorf("%s: %d flights, %d answered; want %d, %d", tt.name, s.Flights, s.Answered, tt.flights, tt.answered)
		}
		if !slices.Equal(s.KeyShares, tt.shares) {
			t.Errorf("%s: key shares %s, want %s", tt.name, tlswire.GroupList(s.KeyShares), tlswire.GroupList(tt.shares))
		}
		if tt.hrr && !slices.Equal(s.ClientHellos[1].KeyShares, []tls.CurveID{tt.group}) {
			t.Errorf("%s: second key shares %s", tt.name, tlswire.GroupList(s.ClientHellos[1].KeyShares))
		}
	}
	tot := r.Totals()
	t.Logf("totals: %+v", tot)
	if tot.Conns != len(tests) || tot.TLS != len(tests) || tot.HelloRetryRequests != len(tests)-1 {
		t.Errorf("totals %+v", tot)
	}
	r.Close()
	if n := relayGoroutines(); n != 0 {
		t.Errorf("%d of the relay's goroutines run after Close", n)
	}
}
