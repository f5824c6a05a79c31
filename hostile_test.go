package pqssl

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/fakepg"
	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

// The password every hostile-server test offers; it must never cross the
// wire in the clear when TLS was required.
const hostilePassword = "hostile-secret-pw"

func sslRequestBytes() []byte {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], 8)
	binary.BigEndian.PutUint32(b[4:], fakepg.SSLRequestCode)
	return b[:]
}

// fakeServerTLS is a TLS configuration for in-process servers, with a
// certificate for "localhost" from a fresh CA.
func fakeServerTLS(t *testing.T) *tls.Config {
	t.Helper()
	ca := testpki.MustRoot(t, testpki.Spec{CommonName: "fake CA"})
	leaf := ca.MustIssue(t, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

func TestHostileServers(t *testing.T) {
	home := t.TempDir() // no ~/.postgresql: nothing to verify against
	t.Setenv("HOME", home)
	srvTLS := fakeServerTLS(t)

	// answerThenSession answers the SSLRequest with b and, if the client goes
	// on in plaintext, serves a session.
	answerThenSession := func(b byte) func(*fakepg.Conn) {
		return func(c *fakepg.Conn) {
			code, _, err := fakepg.ReadStartupPacket(c)
			if err != nil {
				return
			}
			if code == fakepg.SSLRequestCode {
				c.Write([]byte{b})
				if code, _, err = fakepg.ReadStartupPacket(c); err != nil {
					return
				}
			}
			if code == fakepg.ProtocolV3 {
				fakepg.ServeSession(c, "plain")
			}
		}
	}

	tests := []struct {
		name    string
		sslmode string
		handler func(*fakepg.Conn)
		// wantErr is matched against the error text ("|" separates
		// alternatives); "" means success.
		wantErr   string
		wantIs    error
		wantConns int
		// plaintextStartupOK: a plaintext StartupMessage may legitimately
		// have been sent (the sslmode allows plaintext).
		plaintextStartupOK bool
		timeout            time.Duration
		// libpqErr, when set, is matched against libpq's message instead
		// of wantErr.
		libpqErr string
	}{
		{
			name: "N under require", sslmode: "require",
			handler: answerThenSession('N'),
			wantErr: "server does not support SSL, but SSL was required", wantIs: ErrSSLNotSupported, wantConns: 1,
		},
		{
			name: "N under verify-full", sslmode: "verify-full",
			handler: answerThenSession('N'),
			// The root file check comes only after 'S'.
			wantErr: "server does not support SSL, but SSL was required", wantIs: ErrSSLNotSupported, wantConns: 1,
		},
		{
			name: "N under prefer continues in plaintext", sslmode: "prefer",
			handler: answerThenSession('N'), wantConns: 1, plaintextStartupOK: true,
		},
		{
			name: "E under prefer", sslmode: "prefer",
			handler: func(c *fakepg.Conn) {
				fakepg.ReadStartupPacket(c)
				fakepg.Message(c, 'E', fakepg.ErrorResponse("FATAL", "XX000", "injected server text"))
			},
			wantErr: "server sent an error response during SSL exchange", wantIs: ErrSSLErrorResponse, wantConns: 1,
		},
		{
			name: "E under require", sslmode: "require",
			handler: func(c *fakepg.Conn) {
				fakepg.ReadStartupPacket(c)
				fakepg.Message(c, 'E', fakepg.ErrorResponse("FATAL", "XX000", "injected server text"))
			},
			wantErr: "server sent an error response during SSL exchange", wantIs: ErrSSLErrorResponse, wantConns: 1,
		},
		{
			name: "invalid byte", sslmode: "prefer",
			handler: answerThenSession('X'),
			wantErr: "received invalid response to SSL negotiation: X", wantConns: 1,
		},
		{
			name: "HTTP server", sslmode: "require",
			handler: func(c *fakepg.Conn) {
				fakepg.ReadStartupPacket(c)
				c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			},
			wantErr: "received invalid response to SSL negotiation: H", wantConns: 1,
		},
		{
			name: "unencrypted data after S under require", sslmode: "require",
			handler: func(c *fakepg.Conn) {
				fakepg.ReadStartupPacket(c)
				// 'S' and, in the same write, an injected AuthenticationOk
				// and ReadyForQuery that a careless client would take
				// as the server's answer (CVE-2021-23222).
				var b bytes.Buffer
				b.WriteByte('S')
				fakepg.Message(&b, 'R', []byte{0, 0, 0, 0})
				fakepg.Message(&b, 'Z', []byte{'I'})
				c.Write(b.Bytes())
				tls.Server(c, srvTLS).Handshake()
			},
			wantErr: "received unencrypted data after SSL response", wantIs: ErrUnencryptedData, wantConns: 1,
		},
		{
			name: "unencrypted data after S under prefer", sslmode: "prefer",
			handler: func(c *fakepg.Conn) {
				fakepg.ReadStartupPacket(c)
				var b bytes.Buffer
				b.WriteByte('S')
				fakepg.Message(&b, 'R', []byte{0, 0, 0, 0})
				c.Write(b.Bytes())
				tls.Server(c, srvTLS).Handshake()
			},
			// No plaintext retry, as libpq.
			wantErr: "received unencrypted data after SSL response", wantIs: ErrUnencryptedData, wantConns: 1,
		},
		{
			name: "silent server", sslmode: "require",
			handler: func(c *fakepg.Conn) { io.Copy(io.Discard, c) },
			wantErr: "timeout expired", wantConns: 1, timeout: 2 * time.Second,
		},
		{
			name: "silent server under prefer does not retry", sslmode: "prefer",
			handler: func(c *fakepg.Conn) { io.Copy(io.Discard, c) },
			wantErr: "timeout expired", wantConns: 1, timeout: 2 * time.Second,
		},
		{
			name: "silent after S", sslmode: "require",
			handler: func(c *fakepg.Conn) {
				fakepg.ReadStartupPacket(c)
				c.Write([]byte{'S'})
				io.Copy(io.Discard, c)
			},
			wantErr: "timeout expired", wantConns: 1, timeout: 2 * time.Second,
		},
		{
			name: "close mid-handshake under require", sslmode: "require",
			handler: func(c *fakepg.Conn) {
				fakepg.ReadStartupPacket(c)
				c.Write([]byte{'S'})
				var hello [64]byte
				c.Read(hello[:]) // part of the ClientHello, then hang up
			},
			wantErr: "EOF|connection reset by peer", wantConns: 1,
			libpqErr: "EOF|SSL SYSCALL error|connection reset|server closed the connection",
		},
		{
			name: "close mid-handshake under prefer retries in plaintext", sslmode: "prefer",
			handler: func(c *fakepg.Conn) {
				code, _, err := fakepg.ReadStartupPacket(c)
				if err != nil {
					return
				}
				if code == fakepg.SSLRequestCode {
					c.Write([]byte{'S'})
					var hello [64]byte
					c.Read(hello[:])
					return
				}
				fakepg.ServeSession(c, "plain")
			},
			wantConns: 2, plaintextStartupOK: true,
		},
		{
			name: "TLS alert under require", sslmode: "require",
			handler: func(c *fakepg.Conn) {
				fakepg.ReadStartupPacket(c)
				c.Write([]byte{'S'})
				// A server that insists on a TLS version the client
				// refuses answers with an alert.
				tls.Server(c, &tls.Config{Certificates: srvTLS.Certificates,
					MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13}).Handshake()
			},
			wantErr: "protocol version", wantConns: 1,
		},
		{
			name: "TLS session", sslmode: "require",
			handler: func(c *fakepg.Conn) {
				fakepg.ReadStartupPacket(c)
				c.Write([]byte{'S'})
				fakepg.ServeTLS(c, srvTLS, "tls")
			},
			wantConns: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dsnFor := func(port int) string {
				dsn := fmt.Sprintf("host=localhost hostaddr=127.0.0.1 port=%d user=u dbname=d password=%s sslmode=%s",
					port, hostilePassword, tt.sslmode)
				if tt.timeout > 0 {
					dsn += fmt.Sprintf(" connect_timeout=%d", int(tt.timeout/time.Second))
				}
				if tt.name == "TLS alert under require" {
					dsn += " ssl_max_protocol_version=TLSv1.2"
				}
				return dsn
			}
			var referees []*pgtest.Binaries // nil: the default libpq
			if psqlAvailable(t) {
				referees = append(referees, nil)
				if b := pgtest.OptionalInstallation(t, 18); b != nil {
					referees = append(referees, b)
				}
			}
			for _, bin := range referees {
				// The same server behaviour, through libpq.
				srv := fakepg.Start(t, tt.handler)
				r := pgtest.Psql{Bin: bin, ConnInfo: dsnFor(srv.Port()), Query: "select 1", Timeout: 20 * time.Second}.Run(context.Background())
				srv.Close()
				name := "libpq"
				if bin != nil {
					name = fmt.Sprintf("libpq %d", bin.Version)
				}
				want := tt.wantErr
				if tt.libpqErr != "" {
					want = tt.libpqErr
				}
				switch {
				case want == "" && !r.OK:
					t.Errorf("%s failed: %s", name, r.Stderr)
				case want != "" && r.OK:
					t.Errorf("%s succeeded, want error %q", name, want)
				case want != "" && !containsAny(r.Stderr, strings.Split(want, "|")):
					t.Errorf("%s error %q, want it to contain %q", name, r.Stderr, want)
				}
				if n := len(srv.Conns()); n != tt.wantConns {
					t.Errorf("%s: server saw %d connections, want %d", name, n, tt.wantConns)
				}
			}
			srv := fakepg.Start(t, tt.handler)
			dsn := dsnFor(srv.Port())
			c, err := NewConnector(dsn)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			cn, err := c.Connect(ctx)
			elapsed := time.Since(start)
			if cn != nil {
				cn.Close()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Connect: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Connect succeeded, want error %q", tt.wantErr)
			case tt.wantErr != "" && !containsAny(err.Error(), strings.Split(tt.wantErr, "|")):
				t.Fatalf("Connect error %q, want it to contain %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if err != nil && strings.Contains(err.Error(), "injected server text") {
				t.Errorf("error shows text the server sent before TLS: %v", err)
			}
			if tt.timeout > 0 && elapsed > tt.timeout+2*time.Second {
				t.Errorf("Connect took %v with connect_timeout %v", elapsed, tt.timeout)
			}
			srv.Close() // wait for handlers, so Received is complete
			conns := srv.Conns()
			if len(conns) != tt.wantConns {
				t.Errorf("server saw %d connections, want %d", len(conns), tt.wantConns)
			}
			for i, sc := range conns {
				got := sc.Received()
				if bytes.Contains(got, []byte(hostilePassword)) {
					t.Errorf("connection %d: password crossed the wire in the clear", i)
				}
				if !tt.plaintextStartupOK {
					// Only the SSLRequest may be in the clear; the rest
					// must be TLS records.
					if len(got) > 0 && !bytes.HasPrefix(got, sslRequestBytes()) {
						t.Errorf("connection %d: first bytes %q are not an SSLRequest", i, got[:min(len(got), 8)])
					}
					if rest := got[min(len(got), 8):]; len(rest) > 0 && rest[0] != 0x16 {
						t.Errorf("connection %d: plaintext after the SSLRequest: %q", i, rest[:min(len(rest), 16)])
					}
				}
			}
		})
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
