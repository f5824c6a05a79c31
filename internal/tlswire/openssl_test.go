package tlswire

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

// requireOpenSSL returns the openssl program, skipping the test without it
// (failing it under CI).
func requireOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		pgtest.SkipOrFatal(t, "openssl is not on PATH")
	}
	return p
}

// startSServer runs "openssl s_server" for one connection on a free
// loopback port and returns its address.
func startSServer(t *testing.T, c *testpki.Cert, args ...string) string {
	t.Helper()
	openssl := requireOpenSSL(t)
	dir := t.TempDir()
	certFile := testpki.WriteFile(t, filepath.Join(dir, "server.crt"), c.CertPEM, 0o600)
	keyFile := testpki.WriteFile(t, filepath.Join(dir, "server.key"), c.KeyPEM, 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	args = append([]string{"s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-cert", certFile, "-key", keyFile}, args...)
	cmd := exec.CommandContext(ctx, openssl, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// s_server ends the session when its standard input ends, so it gets
	// one that stays open until the test ends.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cancel()
		cmd.Wait()
	})
	// s_server prints "ACCEPT 127.0.0.1:PORT" once it listens.
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "ACCEPT "); ok {
				lines <- addr
				break
			}
		}
		for sc.Scan() {
		}
		close(lines)
	}()
	select {
	case addr, ok := <-lines:
		if !ok {
			t.Fatal("openssl s_server exited without listening")
		}
		return addr
	case <-ctx.Done():
		t.Fatal("openssl s_server did not start listening")
	}
	return ""
}

func TestOpenSSLServer(t *testing.T) {
	_, pki := testCertificate(t)
	tests := []struct {
		name    string
		args    []string
		version uint16
		hrr     bool
		group   tls.CurveID
	}{
		// OpenSSL 3.0 has no ML-KEM: it takes the client's X25519 share.
		{"TLS 1.3 default groups", nil, tls.VersionTLS13, false, tls.X25519},
		// PostgreSQL's ssl_ecdh_curve=prime256v1 makes such a server.
		{"TLS 1.3 P-256 only", []string{"-groups", "P-256"}, tls.VersionTLS13, true, tls.CurveP256},
		{"TLS 1.2 P-256 only", []string{"-groups", "P-256", "-tls1_2"}, tls.VersionTLS12, false, tls.CurveP256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startSServer(t, pki, tt.args...)
			nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			wc := NewConn(nc, Client)
			tc := tls.Client(wc, clientConfig(nil))
			if err := tc.Handshake(); err != nil {
				t.Fatal(err)
			}
			sv := wc.Server
			if sv.Err() != nil || !sv.Done() {
				t.Fatalf("server observer: err %v, done %v", sv.Err(), sv.Done())
			}
			if sv.Version() != tt.version || sv.HelloRetryRequest() != tt.hrr || sv.Group() != tt.group {
				t.Errorf("version %x, HRR %v, group %s; want %x, %v, %s", sv.Version(), sv.HelloRetryRequest(),
					GroupName(sv.Group()), tt.version, tt.hrr, GroupName(tt.group))
			}
			checkHRRState(t, tc.ConnectionState(), tc.ConnectionState(), sv)
			if n := len(wc.Client.ClientHellos()); n != 1+btoi(tt.hrr) {
				t.Errorf("%d ClientHellos", n)
			}
		})
	}
}

func TestOpenSSLClient(t *testing.T) {
	openssl := requireOpenSSL(t)
	cert, _ := testCertificate(t)
	tests := []struct {
		name   string
		curves []tls.CurveID
		hrr    bool
		group  tls.CurveID
	}{
		{"server prefers nothing", nil, false, tls.X25519},
		{"server P-256 only", []tls.CurveID{tls.CurveP256}, true, tls.CurveP256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			type result struct {
				conn *Conn
				err  error
			}
			done := make(chan result, 1)
			go func() {
				nc, err := ln.Accept()
				if err != nil {
					done <- result{err: err}
					return
				}
				defer nc.Close()
				nc.SetDeadline(time.Now().Add(10 * time.Second))
				wc := NewConn(nc, Server)
				sc := serverConfig(cert, func(c *tls.Config) {
					c.CurvePreferences = tt.curves
					c.NextProtos = []string{"postgresql"}
				})
				done <- result{wc, tls.Server(wc, sc).Handshake()}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", ln.Addr().String(),
				"-servername", "localhost", "-alpn", "postgresql")
			out, err := cmd.CombinedOutput() // stdin is empty: s_client quits after the handshake
			r := <-done
			if r.err != nil {
				t.Fatalf("handshake: %v; s_client: %v\n%s", r.err, err, out)
			}
			cl, sv := r.conn.Client, r.conn.Server
			if cl.Err() != nil || sv.Err() != nil {
				t.Fatalf("observer errors: %v, %v", cl.Err(), sv.Err())
			}
			if sv.HelloRetryRequest() != tt.hrr || sv.Group() != tt.group {
				t.Errorf("HRR %v, group %s; want %v, %s", sv.HelloRetryRequest(), GroupName(sv.Group()), tt.hrr, GroupName(tt.group))
			}
			chs := cl.ClientHellos()
			if len(chs) != 1+btoi(tt.hrr) {
				t.Fatalf("%d ClientHellos", len(chs))
			}
			first := chs[0]
			t.Logf("OpenSSL ClientHello: groups %s; key shares %s; versions %x", GroupList(first.SupportedGroups), GroupList(first.KeyShares), first.SupportedVersions)
			if !slices.Contains(first.SupportedGroups, tls.X25519) || !slices.Contains(first.SupportedGroups, tls.CurveP256) ||
				!slices.Equal(first.KeyShares, []tls.CurveID{tls.X25519}) {
				t.Errorf("OpenSSL offered groups %s with key shares %s", GroupList(first.SupportedGroups), GroupList(first.KeyShares))
			}
			if first.ServerName != "localhost" || !slices.Equal(first.ALPN, []string{"postgresql"}) {
				t.Errorf("ServerName %q, ALPN %q", first.ServerName, first.ALPN)
			}
			if tt.hrr && !slices.Equal(chs[1].KeyShares, []tls.CurveID{tls.CurveP256}) {
				t.Errorf("second ClientHello key shares %s", GroupList(chs[1].KeyShares))
			}
		})
	}
}
