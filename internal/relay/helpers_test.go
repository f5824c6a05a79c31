package relay

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/fakepg"
	"github.com/pqssl/pqssl/internal/testpki"
	"github.com/pqssl/pqssl/internal/tlswire"
)

var (
	certOnce sync.Once
	testCert tls.Certificate
)

// serverTLS returns a server configuration with a throwaway certificate,
// changed by mod.
func serverTLS(t testing.TB, mod func(*tls.Config)) *tls.Config {
	t.Helper()
	certOnce.Do(func() {
		c := testpki.MustSelfSigned(t, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
		var err error
		if testCert, err = tls.X509KeyPair(c.CertPEM, c.KeyPEM); err != nil {
			t.Fatal(err)
		}
	})
	conf := &tls.Config{Certificates: []tls.Certificate{testCert}}
	if mod != nil {
		mod(conf)
	}
	return conf
}

func clientTLS(mod func(*tls.Config)) *tls.Config {
	conf := &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}
	if mod != nil {
		mod(conf)
	}
	return conf
}

// startRelay starts a relay to target and closes it at the end of the test.
func startRelay(t testing.TB, target string, opts Options) *Relay {
	t.Helper()
	r, err := Start(target, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// startEcho starts an echo server: each connection does a TLS handshake
// with conf (none when conf is nil) and then sends back what it reads.
func startEcho(t testing.TB, conf *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if conf != nil {
		ln = tls.NewListener(ln, conf)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// pgMode says how the fake PostgreSQL server negotiates encryption.
type pgMode int

const (
	pgSSL       pgMode = iota // answer an SSLRequest with 'S' then do TLS
	pgNoSSL                   // answer 'N' and run a plaintext session
	pgDirectTLS               // accept a ClientHello first (sslnegotiation=direct) or an SSLRequest
)

// startFakePG starts an in-process PostgreSQL stand-in that negotiates as
// mode says, answers GSSENCRequest with 'N', and serves a trusting session
// that replies to every query.
func startFakePG(t testing.TB, conf *tls.Config, mode pgMode) string {
	t.Helper()
	s := fakepg.Start(t, func(c *fakepg.Conn) {
		br := bufio.NewReader(c)
		if mode == pgDirectTLS {
			if b, err := br.Peek(1); err == nil && b[0] == 0x16 {
				fakepg.ServeTLS(&bufferedConn{Conn: c, r: br}, conf, "reply")
				return
			}
		}
		for {
			code, _, err := fakepg.ReadStartupPacket(br)
			if err != nil {
				return
			}
			switch {
			case code == tlswire.GSSENCRequestCode:
				c.Write([]byte{'N'})
			case code == tlswire.SSLRequestCode && mode == pgNoSSL:
				c.Write([]byte{'N'})
			case code == tlswire.SSLRequestCode:
				c.Write([]byte{'S'})
				fakepg.ServeTLS(&bufferedConn{Conn: c, r: br}, conf, "reply")
				return
			case code == fakepg.ProtocolV3:
				fakepg.ServeSession(&bufferedConn{Conn: c, r: br}, "reply")
				return
			default:
				return
			}
		}
	})
	return "127.0.0.1:" + s.PortString()
}

// bufferedConn reads through a bufio.Reader that may hold bytes already
// read from the connection.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// pgClient plays a minimal PostgreSQL client.
type pgClient struct {
	tls    *tls.Config // nil: no TLS
	gssenc bool        // send a GSSENCRequest first
	direct bool        // send the ClientHello at once (sslnegotiation=direct)
	// plainAfterN goes on in the clear when the SSLRequest is refused, as
	// sslmode=prefer does.
	plainAfterN bool
	queries     int
	timeout     time.Duration // zero: 10 seconds
}

// pgResult is how far a pgClient session went.
type pgResult struct {
	sslAnswer    byte
	handshakeErr error // the TLS handshake's error
	handshakeOK  bool
	err          error // the first error of the session
	state        tls.ConnectionState
}

func startupPacket(code uint32, body []byte) []byte {
	b := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint32(b, uint32(8+len(body)))
	binary.BigEndian.PutUint32(b[4:], code)
	return append(b, body...)
}

// run connects to addr and plays the session: negotiation, startup,
// queries, Terminate.
func (pc pgClient) run(addr string) pgResult {
	var res pgResult
	timeout := pc.timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		res.err = err
		return res
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(timeout))
	var rw net.Conn = nc
	if pc.gssenc {
		if res.err = request(nc, tlswire.GSSENCRequestCode, 'N'); res.err != nil {
			return res
		}
	}
	if pc.tls != nil {
		if !pc.direct {
			nc.Write(startupPacket(tlswire.SSLRequestCode, nil))
			var b [1]byte
			if _, err := io.ReadFull(nc, b[:]); err != nil {
				res.err = fmt.Errorf("reading the answer to SSLRequest: %w", err)
				return res
			}
			res.sslAnswer = b[0]
			if b[0] != 'S' && !(b[0] == 'N' && pc.plainAfterN) {
				res.err = fmt.Errorf("SSLRequest answered %q", b[0])
				return res
			}
		}
		if res.sslAnswer != 'N' {
			tc := tls.Client(nc, pc.tls)
			if err := tc.Handshake(); err != nil {
				res.handshakeErr, res.err = err, err
				return res
			}
			res.handshakeOK, res.state = true, tc.ConnectionState()
			rw = tc
		}
	}
	res.err = pgSession(rw, pc.queries)
	return res
}

// request sends a GSSENCRequest or SSLRequest and checks the answer.
func request(c net.Conn, code uint32, want byte) error {
	if _, err := c.Write(startupPacket(code, nil)); err != nil {
		return err
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return err
	}
	if b[0] != want {
		return fmt.Errorf("request %d answered %q, want %q", code, b[0], want)
	}
	return nil
}

// pgSession sends the startup message, runs queries simple queries and
// sends Terminate.
func pgSession(rw io.ReadWriter, queries int) error {
	if _, err := rw.Write(startupPacket(fakepg.ProtocolV3, []byte("user\x00postgres\x00database\x00postgres\x00\x00"))); err != nil {
		return err
	}
	br := bufio.NewReader(rw)
	if err := readUntilReady(br); err != nil {
		return fmt.Errorf("startup: %w", err)
	}
	for range queries {
		q := []byte("SELECT 1\x00")
		msg := append([]byte{'Q', 0, 0, 0, 0}, q...)
		binary.BigEndian.PutUint32(msg[1:], uint32(4+len(q)))
		if _, err := rw.Write(msg); err != nil {
			return err
		}
		if err := readUntilReady(br); err != nil {
			return fmt.Errorf("query: %w", err)
		}
	}
	_, err := rw.Write([]byte{'X', 0, 0, 0, 4})
	return err
}

// readUntilReady reads backend messages up to ReadyForQuery.
func readUntilReady(r *bufio.Reader) error {
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n < 4 {
			return errors.New("bad message length")
		}
		if _, err := r.Discard(int(n - 4)); err != nil {
			return err
		}
		switch hdr[0] {
		case 'Z':
			return nil
		case 'E':
			return errors.New("server error")
		}
	}
}

// waitStats waits for n connections to end.
func waitStats(t testing.TB, r *Relay, n int) []ConnStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	s, err := r.Wait(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// relayGoroutines counts the goroutines running the relay's own code.
func relayGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, typ := range []string{"(*Relay)", "(*conn)", "(*pipe)"} {
			if strings.Contains(g, "/internal/relay."+typ) {
				count++
				break
			}
		}
	}
	return count
}

// checkNoLeak fails the test when, after the test's cleanups, more
// goroutines run than before it. Tests that start goroutines outside the
// relay and its test servers (a cluster's connection pool) check
// relayGoroutines instead.
func checkNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines after the test, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
