package relay

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/tlswire"
)

func TestPostgresSessions(t *testing.T) {
	p256 := func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.CurveP256} }
	goShares := []tls.CurveID{tls.X25519MLKEM768, tls.X25519}
	tests := []struct {
		name    string
		server  func(*tls.Config)
		mode    pgMode
		client  pgClient
		want    ConnStats // the fields compared below
		flights int
	}{
		{
			name:   "SSLRequest, TLS 1.3, default groups",
			client: pgClient{tls: clientTLS(nil), queries: 1},
			want: ConnStats{SSLRequest: true, SSLResponse: 'S', TLS: true, KeyShares: goShares,
				Version: tls.VersionTLS13, Group: tls.X25519MLKEM768},
			// SSLRequest; ClientHello; Finished and startup; query; Terminate.
			flights: 5,
		},
		{
			name:   "HelloRetryRequest to P-256",
			server: p256,
			client: pgClient{tls: clientTLS(nil), queries: 1},
			want: ConnStats{SSLRequest: true, SSLResponse: 'S', TLS: true, KeyShares: goShares,
				HelloRetryRequest: true, Version: tls.VersionTLS13, Group: tls.CurveP256},
			flights: 6,
		},
		{
			name:   "server prefers X25519",
			server: func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.X25519} },
			client: pgClient{tls: clientTLS(nil), queries: 1},
			want: ConnStats{SSLRequest: true, SSLResponse: 'S', TLS: true, KeyShares: goShares,
				Version: tls.VersionTLS13, Group: tls.X25519},
			flights: 5,
		},
		{
			name:   "TLS 1.2",
			client: pgClient{tls: clientTLS(func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }), queries: 1},
			want: ConnStats{SSLRequest: true, SSLResponse: 'S', TLS: true,
				Version: tls.VersionTLS12, Group: tls.X25519},
			// TLS 1.2 takes a second round trip before the startup message.
			flights: 6,
		},
		{
			name:   "GSSENCRequest refused, then SSLRequest",
			client: pgClient{tls: clientTLS(nil), gssenc: true, queries: 2},
			want: ConnStats{GSSENCRequest: true, GSSENCResponse: 'N', SSLRequest: true, SSLResponse: 'S', TLS: true,
				KeyShares: goShares, Version: tls.VersionTLS13, Group: tls.X25519MLKEM768},
			flights: 7,
		},
		{
			name:   "direct TLS",
			mode:   pgDirectTLS,
			client: pgClient{tls: clientTLS(nil), direct: true, queries: 1},
			want: ConnStats{DirectTLS: true, TLS: true, KeyShares: goShares,
				Version: tls.VersionTLS13, Group: tls.X25519MLKEM768},
			flights: 4,
		},
		{
			name:    "SSLRequest refused, plaintext session",
			mode:    pgNoSSL,
			client:  pgClient{queries: 1},
			want:    ConnStats{},
			flights: 3,
		},
		{
			name:    "plaintext after a refused SSLRequest",
			mode:    pgNoSSL,
			client:  pgClient{tls: clientTLS(nil), plainAfterN: true, queries: 1},
			want:    ConnStats{SSLRequest: true, SSLResponse: 'N'},
			flights: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeak(t)
			r := startRelay(t, startFakePG(t, serverTLS(t, tt.server), tt.mode), Options{})
			res := tt.client.run(r.Addr())
			if res.err != nil {
				t.Fatal(res.err)
			}
			s := waitStats(t, r, 1)[0]
			t.Log(s)
			w := tt.want
			if s.SSLRequest != w.SSLRequest || s.SSLResponse != w.SSLResponse || s.GSSENCRequest != w.GSSENCRequest ||
				s.GSSENCResponse != w.GSSENCResponse || s.DirectTLS != w.DirectTLS || s.TLS != w.TLS {
				t.Errorf("negotiation: %s", s)
			}
			if s.HelloRetryRequest != w.HelloRetryRequest || s.Group != w.Group || s.Version != w.Version ||
				!slices.Equal(s.KeyShares, w.KeyShares) {
				t.Errorf("HelloRetryRequest %v, group %s, version %x, key shares %s; want %v, %s, %x, %s",
					s.HelloRetryRequest, tlswire.GroupName(s.Group), s.Version, tlswire.GroupList(s.KeyShares),
					w.HelloRetryRequest, tlswire.GroupName(w.Group), w.Version, tlswire.GroupList(w.KeyShares))
			}
			if group, _, ok := handshakeState(res.state); s.TLS && (ok && s.Group != group || s.Version != res.state.Version) {
				t.Errorf("the client's state says group %s, version %x", tlswire.GroupName(group), res.state.Version)
			}
			// Nothing answers the final Terminate; the TCP handshake adds
			// a round trip.
			if s.Flights != tt.flights || s.Answered != tt.flights-1 || s.RoundTrips() != tt.flights {
				t.Errorf("%d flights, %d answered, want %d, %d", s.Flights, s.Answered, tt.flights, tt.flights-1)
			}
			if s.TLSError != nil || s.Err != nil || s.FaultFired {
				t.Errorf("TLS error %v, error %v, fault %v", s.TLSError, s.Err, s.FaultFired)
			}
			if n := len(s.ClientHellos); n != 1+btoi(w.HelloRetryRequest) && w.TLS {
				t.Errorf("%d ClientHellos", n)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestCryptoTLS runs crypto/tls clients and servers through the relay with
// no PostgreSQL negotiation: the ClientHello starts the stream.
func TestCryptoTLS(t *testing.T) {
	checkNoLeak(t)
	tests := []struct {
		name  string
		prefs []tls.CurveID
		hrr   bool
		group tls.CurveID
	}{
		{"P-256 server", []tls.CurveID{tls.CurveP256}, true, tls.CurveP256},
		{"X25519 server", []tls.CurveID{tls.X25519}, false, tls.X25519},
		{"P-384 server", []tls.CurveID{tls.CurveP384}, true, tls.CurveP384},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startEcho(t, serverTLS(t, func(c *tls.Config) { c.CurvePreferences = tt.prefs }))
			r := startRelay(t, addr, Options{})
			c, err := tls.Dial("tcp", r.Addr(), clientTLS(nil))
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("ping")
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, make([]byte, len(msg))); err != nil {
				t.Fatal(err)
			}
			state := c.ConnectionState()
			c.Close()
			s := waitStats(t, r, 1)[0]
			group, hrr, ok := handshakeState(state)
			if !s.DirectTLS || s.SSLRequest || s.HelloRetryRequest != tt.hrr || s.Group != tt.group ||
				ok && (s.Group != group || s.HelloRetryRequest != hrr) || s.TLSError != nil {
				t.Errorf("test %d: %s; client state: HRR %v, %s", i, s, hrr, tlswire.GroupName(group))
			}
		})
	}
}

// TestBytesAndOrder sends numbered writes through the relay to an echo
// server, with and without Delay: everything comes back in order, and the
// relay counts every byte once each way.
func TestBytesAndOrder(t *testing.T) {
	for _, delay := range []time.Duration{0, 2 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			checkNoLeak(t)
			r := startRelay(t, startEcho(t, nil), Options{Delay: delay, ConnectDelay: delay})
			c, err := net.Dial("tcp", r.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			var sent bytes.Buffer
			for i := range 2000 {
				sent.WriteString(strings.Repeat(string(rune('a'+i%26)), 1+i%700))
			}
			want := sent.Bytes()
			errc := make(chan error, 1)
			go func() {
				// Many writes of many sizes, while the echo comes back.
				for b := want; len(b) > 0; {
					n := min(len(b), 1+len(b)%5000)
					if _, err := c.Write(b[:n]); err != nil {
						errc <- err
						return
					}
					b = b[n:]
				}
				errc <- c.(*net.TCPConn).CloseWrite()
			}()
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes back, sent %d; equal prefix %d", len(got), len(want), commonPrefix(got, want))
			}
			s := waitStats(t, r, 1)[0]
			if s.BytesToServer != int64(len(want)) || s.BytesToClient != int64(len(want)) {
				t.Errorf("%d bytes to server, %d to client; want %d each", s.BytesToServer, s.BytesToClient, len(want))
			}
			if s.TLS || s.TLSError != nil || s.Flights < 1 {
				t.Errorf("%s", s)
			}
			tot := r.Totals()
			if tot.Conns != 1 || tot.BytesToServer != s.BytesToServer || tot.Flights != s.Flights || tot.TLS != 0 {
				t.Errorf("totals %+v", tot)
			}
		})
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// TestDelayedSession runs PostgreSQL sessions through a relay with Delay:
// they complete with the same flights as without.
func TestDelayedSession(t *testing.T) {
	checkNoLeak(t)
	r := startRelay(t, startFakePG(t, serverTLS(t, nil), pgSSL), Options{Delay: 3 * time.Millisecond})
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = pgClient{tls: clientTLS(nil), queries: 3}.run(r.Addr()).err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	stats := waitStats(t, r, len(errs))
	for _, s := range stats {
		if s.Flights != 7 || !s.TLS || s.Group != tls.X25519MLKEM768 {
			t.Errorf("%s; want 7 flights", s)
		}
	}
	tot := r.Totals()
	if tot.Conns != 4 || tot.TLS != 4 || tot.Flights != 28 || tot.Groups[tls.X25519MLKEM768] != 4 || tot.HelloRetryRequests != 0 {
		t.Errorf("totals %+v", tot)
	}
}

func TestFaults(t *testing.T) {
	type want struct {
		sslAnswer   byte // the answer the client read, 0 for none
		handshakeOK bool
		errHas      string // in the client's error; "" for no error
		toServer    int64  // bytes to the server, -1: not checked
		toClient    int64
	}
	short := 500 * time.Millisecond
	// What a client reads, or writes, once the relay has cut the
	// connection: its end, or a reset when the relay closed with the
	// client's bytes unread.
	const lost = "EOF|connection reset|broken pipe"
	tests := []struct {
		name   string
		fault  Fault
		client pgClient
		want   want
	}{
		{"cut at the start", Fault{Action: Cut}, pgClient{},
			want{errHas: "SSLRequest", toServer: 0, toClient: 0}},
		{"cut before the SSLRequest answer", Fault{Action: Cut, Dir: ToClient}, pgClient{},
			want{errHas: "SSLRequest", toServer: 8, toClient: 0}},
		{"stall before the SSLRequest answer", Fault{Action: Stall, Dir: ToClient}, pgClient{timeout: short},
			want{errHas: "timeout", toServer: 8, toClient: 0}},
		{"cut after 4 bytes to the server", Fault{Action: Cut, Dir: ToServer, After: 4}, pgClient{},
			want{errHas: "SSLRequest", toServer: 4, toClient: 0}},
		{"cut after the answer", Fault{Action: Cut, Phase: PhaseSSLResponse}, pgClient{},
			want{sslAnswer: 'S', errHas: lost, toServer: 8, toClient: 1}},
		{"stall after the answer", Fault{Action: Stall, Phase: PhaseSSLResponse}, pgClient{timeout: short},
			want{sslAnswer: 'S', errHas: "timeout", toServer: 8, toClient: 1}},
		{"cut mid-handshake", Fault{Action: Cut, Phase: PhaseServerHello}, pgClient{},
			want{sslAnswer: 'S', errHas: lost, toServer: -1, toClient: -1}},
		{"stall mid-handshake", Fault{Action: Stall, Phase: PhaseServerHello}, pgClient{timeout: short},
			want{sslAnswer: 'S', errHas: "timeout", toServer: -1, toClient: -1}},
		{"cut after the handshake", Fault{Action: Cut, Phase: PhaseHandshake}, pgClient{},
			want{sslAnswer: 'S', handshakeOK: true, errHas: "startup", toServer: -1, toClient: -1}},
		{"cut mid-query, to the server", Fault{Action: Cut, Phase: PhaseFlight, Flight: 4, After: 3}, pgClient{queries: 2},
			want{sslAnswer: 'S', handshakeOK: true, errHas: "query", toServer: -1, toClient: -1}},
		{"stall mid-query, the answer", Fault{Action: Stall, Phase: PhaseFlight, Flight: 4, Dir: ToClient, After: 7},
			pgClient{queries: 2, timeout: short}, want{sslAnswer: 'S', handshakeOK: true, errHas: "timeout", toServer: -1, toClient: -1}},
		{"fault after the session", Fault{Action: Cut, Phase: PhaseFlight, Flight: 9}, pgClient{queries: 1},
			want{sslAnswer: 'S', handshakeOK: true, toServer: -1, toClient: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeak(t)
			target := startFakePG(t, serverTLS(t, nil), pgSSL)
			// Only the second connection gets the fault: the first shows
			// the callback's index and a clean session.
			r := startRelay(t, target, Options{Fault: func(i int) Fault {
				if i == 1 {
					return tt.fault
				}
				return Fault{}
			}})
			pc := tt.client
			pc.tls = clientTLS(nil)
			clean := pc
			clean.timeout = 0
			if res := clean.run(r.Addr()); res.err != nil {
				t.Fatalf("connection without a fault: %v", res.err)
			}
			res := pc.run(r.Addr())
			w := tt.want
			if res.sslAnswer != w.sslAnswer || res.handshakeOK != w.handshakeOK {
				t.Errorf("answer %q, handshake %v (%v); want %q, %v", res.sslAnswer, res.handshakeOK, res.handshakeErr, w.sslAnswer, w.handshakeOK)
			}
			switch {
			case w.errHas == "" && res.err != nil:
				t.Errorf("error %v", res.err)
			case w.errHas != "" && (res.err == nil || !containsAny(res.err.Error(), w.errHas)):
				t.Errorf("error %v, want one mentioning %q", res.err, w.errHas)
			}
			stats := waitStats(t, r, 2)
			if stats[0].FaultFired || stats[0].Index != 0 || stats[0].Fault != (Fault{}) {
				t.Errorf("first connection: %s", stats[0])
			}
			s := stats[1]
			t.Log(s)
			if s.FaultFired != (w.errHas != "") || s.Fault != tt.fault {
				t.Errorf("fault %v fired %v", s.Fault, s.FaultFired)
			}
			if (w.toServer >= 0 && s.BytesToServer != w.toServer) || (w.toClient >= 0 && s.BytesToClient != w.toClient) {
				t.Errorf("%d bytes to server, %d to client; want %d, %d", s.BytesToServer, s.BytesToClient, w.toServer, w.toClient)
			}
			if s.TLSError != nil && !s.FaultFired {
				t.Errorf("TLS error %v", s.TLSError)
			}
		})
	}
}

// TestCloseStalled closes a relay holding stalled connections and
// connections waiting out ConnectDelay: Close returns, the clients see
// the end of their streams and no goroutine is left.
func TestCloseStalled(t *testing.T) {
	checkNoLeak(t)
	target := startFakePG(t, serverTLS(t, nil), pgSSL)
	for _, opts := range []Options{
		{Fault: func(int) Fault { return Fault{Action: Stall, Phase: PhaseSSLResponse} }},
		{Fault: func(int) Fault { return Fault{Action: Stall, Phase: PhaseHandshake} }, Delay: time.Millisecond},
		{ConnectDelay: time.Hour},
	} {
		r, err := Start(target, opts)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([]pgResult, 3)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = pgClient{tls: clientTLS(nil), queries: 1, timeout: 20 * time.Second}.run(r.Addr())
			}()
		}
		// Wait until the relay holds them: every client has sent something
		// that the relay does not answer.
		waitFor(t, func() bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			return len(r.active) == len(results)
		})
		time.Sleep(50 * time.Millisecond)
		r.Close()
		wg.Wait()
		for i, res := range results {
			if res.err == nil || strings.Contains(res.err.Error(), "timeout") {
				t.Errorf("%+v: client %d: %v, want the end of the stream", opts, i, res.err)
			}
		}
		if s := r.Stats(); len(s) != len(results) {
			t.Errorf("%d connections recorded", len(s))
		}
		if _, err := r.Wait(context.Background(), len(results)+1); err == nil {
			t.Error("Wait on a closed relay for more connections than it had did not fail")
		}
		if _, err := net.DialTimeout("tcp", r.Addr(), time.Second); err == nil {
			t.Error("the closed relay still accepts")
		}
	}
}

// containsAny reports whether s contains one of the |-separated
// alternatives.
func containsAny(s, alternatives string) bool {
	for _, a := range strings.Split(alternatives, "|") {
		if strings.Contains(s, a) {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTargetDown(t *testing.T) {
	checkNoLeak(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := startRelay(t, addr, Options{})
	if res := (pgClient{tls: clientTLS(nil)}).run(r.Addr()); res.err == nil {
		t.Fatal("session through a relay to nothing succeeded")
	}
	s := waitStats(t, r, 1)[0]
	if s.Err == nil || !strings.Contains(s.String(), "connecting to "+addr) {
		t.Errorf("stats %s", s)
	}
	if tot := r.Totals(); tot.Failed != 1 || tot.Conns != 1 {
		t.Errorf("totals %+v", tot)
	}
}

func TestWaitContext(t *testing.T) {
	checkNoLeak(t)
	r := startRelay(t, startEcho(t, nil), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Wait(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v, want the context's deadline", err)
	}
}

func TestOptionsAndStrings(t *testing.T) {
	if _, err := Start("127.0.0.1:1", Options{Delay: -1}); err == nil {
		t.Error("negative Delay accepted")
	}
	for _, tt := range []struct {
		got, want string
	}{
		{Fault{}.String(), "no fault"},
		{Fault{Action: Cut, Dir: ToClient}.String(), "cut after 0 bytes to client past start"},
		{Fault{Action: Stall, Phase: PhaseServerHello, After: 3}.String(), "stall after 3 bytes to client past ServerHello"},
		{Fault{Action: Cut, Phase: PhaseFlight, Flight: 4}.String(), "cut after 0 bytes to server past flight 4"},
		{Fault{Action: Cut, Phase: PhaseHandshake, Dir: ToClient, After: 1}.String(), "cut after 1 bytes to client past handshake"},
		{Action(9).String(), "Action(9)"},
		{Phase(9).String(), "Phase(9)"},
		{PhaseSSLResponse.String(), "SSLRequest answer"},
	} {
		if tt.got != tt.want {
			t.Errorf("%q, want %q", tt.got, tt.want)
		}
	}
}
