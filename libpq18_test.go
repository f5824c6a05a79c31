package pqssl

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/pgtest"
)

// The tests in this file referee features of libpq 17 and 18 live, with
// libpq 18 and a PostgreSQL 18 server: sslnegotiation=direct and
// sslkeylogfile.

// pg18Cluster starts a PostgreSQL 18 server and writes its certificate
// as a root file, returned with the installation.
func pg18Cluster(t *testing.T) (*pgtest.Binaries, *pgtest.Cluster, string) {
	t.Helper()
	bin := pgtest.Installation(t, 18)
	cluster := bin.StartT(t, pgtest.Options{})
	root := filepath.Join(t.TempDir(), "root.crt")
	if err := os.WriteFile(root, cluster.ServerCertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return bin, cluster, root
}

// TestLibpq18DirectNegotiation gives libpq 18 and pqssl the same
// sslnegotiation=direct connection strings against a PostgreSQL 18 server:
// accepted with require and stronger, refused with weaker modes, in the same
// words. A raw TLS client shows what the server does when ALPN is missing or
// names another protocol.
func TestLibpq18DirectNegotiation(t *testing.T) {
	bin, cluster, root := pg18Cluster(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, tc := range []struct {
		mode, want string
	}{
		{"disable", `weak sslmode "disable" may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")`},
		{"allow", `weak sslmode "allow" may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")`},
		{"prefer", `weak sslmode "prefer" may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")`},
		{"require", ""},
		{"verify-ca", ""},
		{"verify-full", ""},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			dsn := fmt.Sprintf("host=localhost hostaddr=127.0.0.1 port=%d user=postgres dbname=postgres sslnegotiation=direct sslmode=%s sslrootcert=%s",
				cluster.Port, tc.mode, quoteConnValue(root))
			got, err := connectPqssl(t, dsn)
			switch {
			case tc.want == "" && got != outTLS:
				t.Errorf("pqssl: %s (%v), want TLS", got, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("pqssl: %s (%v), want an error containing %q", got, err, tc.want)
			}
			r := pgtest.Psql{Bin: bin, ConnInfo: dsn, Env: map[string]string{"HOME": home, "PGCONNECT_TIMEOUT": "10"}}.Run(context.Background())
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			s, serr := r.Session()
			switch {
			case tc.want == "" && (serr != nil || !s.SSL):
				t.Errorf("libpq 18: %s, want TLS", r)
			case tc.want != "" && (r.OK || !strings.Contains(r.Stderr, tc.want)):
				t.Errorf("libpq 18: %s, want an error containing %q", r, tc.want)
			}
		})
	}

	// The server's side, with a raw TLS client that starts with a
	// ClientHello as sslnegotiation=direct does.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cluster.ServerCertPEM())
	for _, tc := range []struct {
		name   string
		protos []string
		want   string // "" for a completed handshake
	}{
		{"ALPN postgresql", []string{"postgresql"}, ""},
		// The server completes the handshake, logs that ALPN is
		// missing and closes the connection without a word.
		{"no ALPN", nil, "EOF"},
		{"ALPN of another protocol", []string{"http/1.1"}, "no application protocol"},
	} {
		t.Run("server/"+tc.name, func(t *testing.T) {
			d := &tls.Dialer{Config: &tls.Config{ServerName: "localhost", RootCAs: pool, NextProtos: tc.protos}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := d.DialContext(ctx, "tcp", cluster.Addr())
			if tc.want == "" {
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				defer c.Close()
				if p := c.(*tls.Conn).ConnectionState().NegotiatedProtocol; p != "postgresql" {
					t.Errorf("negotiated protocol %q, want postgresql", p)
				}
				return
			}
			if err == nil {
				// The handshake may complete; the server must then
				// refuse the session before it starts.
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 512)
				n, rerr := c.Read(buf)
				t.Logf("after the handshake: %q, %v", buf[:n], rerr)
				err = rerr
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("handshake error %v, want one containing %q", err, tc.want)
			}
			if tc.protos == nil {
				deadline := time.Now().Add(5 * time.Second)
				for !strings.Contains(cluster.Log(), "ALPN") && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				if log := cluster.Log(); !strings.Contains(log, "ALPN") {
					t.Errorf("the server log does not mention ALPN:\n%s", log)
				}
			}
		})
	}
}

// keyLogLabels returns the labels of an NSS key log file, and its mode.
func keyLogLabels(t *testing.T, path string) ([]string, os.FileMode) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			t.Errorf("%s: malformed line %q", path, sc.Text())
			continue
		}
		labels = append(labels, fields[0])
	}
	slices.Sort(labels)
	return slices.Compact(labels), fi.Mode().Perm()
}

// TestLibpq18KeyLogFile has libpq 18 and pqssl write sslkeylogfile for TLS
// 1.3 and TLS 1.2 sessions: both create the file with mode 0600 and write
// the secrets Wireshark needs; libpq (OpenSSL) also writes the TLS 1.3
// EXPORTER_SECRET, which Go does not. A file that cannot be opened is only a
// warning to libpq 18; pqssl refuses the connection instead, since a
// parameter the user set takes effect or fails.
func TestLibpq18KeyLogFile(t *testing.T) {
	bin, cluster, _ := pg18Cluster(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, tc := range []struct {
		version     string
		pqssl, want []string
	}{
		{"TLSv1.3",
			[]string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"},
			[]string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "EXPORTER_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"}},
		{"TLSv1.2", []string{"CLIENT_RANDOM"}, []string{"CLIENT_RANDOM"}},
	} {
		t.Run(tc.version, func(t *testing.T) {
			dir := t.TempDir()
			dsn := func(file string) string {
				return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=require ssl_max_protocol_version=%s sslkeylogfile=%s",
					cluster.Port, tc.version, quoteConnValue(filepath.Join(dir, file)))
			}
			if got, err := connectPqssl(t, dsn("pqssl.log")); got != outTLS {
				t.Fatalf("pqssl: %s (%v)", got, err)
			}
			r := pgtest.Psql{Bin: bin, ConnInfo: dsn("libpq.log"), Env: map[string]string{"HOME": home}}.Run(context.Background())
			if !r.OK {
				t.Fatalf("libpq 18: %s", r)
			}
			pl, pmode := keyLogLabels(t, filepath.Join(dir, "pqssl.log"))
			ll, lmode := keyLogLabels(t, filepath.Join(dir, "libpq.log"))
			if !slices.Equal(pl, tc.pqssl) || !slices.Equal(ll, tc.want) {
				t.Errorf("labels: pqssl %v, libpq 18 %v; want %v and %v", pl, ll, tc.pqssl, tc.want)
			}
			if pmode != 0o600 || lmode != 0o600 {
				t.Errorf("modes: pqssl %v, libpq 18 %v; want 0600", pmode, lmode)
			}
		})
	}

	missing := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=require sslkeylogfile=%s",
		cluster.Port, quoteConnValue(filepath.Join(home, "missing", "keys.log")))
	r := pgtest.Psql{Bin: bin, ConnInfo: missing, Env: map[string]string{"HOME": home}}.Run(context.Background())
	if !r.OK || !strings.Contains(r.Stderr, "could not open SSL key logging file") {
		t.Errorf("libpq 18 with an unwritable key log file: %s; want a session and a warning", r)
	}
	if _, err := connectPqssl(t, missing); err == nil || !strings.Contains(err.Error(), "key log") {
		t.Errorf("pqssl with an unwritable key log file: %v, want an error naming the key log file", err)
	}
}

// TestLibpq18ProtocolVersion gives libpq 18 and pqssl (through lib/pq,
// which speaks protocol 3.2) min_protocol_version and max_protocol_version
// against a PostgreSQL 18 server, which speaks 3.2, and a PostgreSQL 15
// one, which answers a request for 3.2 with NegotiateProtocolVersion 3.0.
func TestLibpq18ProtocolVersion(t *testing.T) {
	bin, pg18, _ := pg18Cluster(t)
	pg15 := pgtest.Shared(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, tc := range []struct {
		name    string
		cluster *pgtest.Cluster
		extra   string
		want    string // "" for a session
	}{
		{"18, min 3.2", pg18, "min_protocol_version=3.2", ""},
		{"18, max latest", pg18, "max_protocol_version=latest", ""},
		{"18, max 3.0", pg18, "max_protocol_version=3.0", ""},
		{"15, min 3.0 max latest", pg15, "max_protocol_version=latest", ""},
		{"15, min 3.2", pg15, "min_protocol_version=3.2", `server only supports protocol version 3.0, but "min_protocol_version" was set to 3.2`},
		{"min above max", pg18, "min_protocol_version=3.2 max_protocol_version=3.0", `"min_protocol_version" is greater than "max_protocol_version"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=require %s", tc.cluster.Port, tc.extra)
			got, err := connectPqssl(t, dsn)
			r := pgtest.Psql{Bin: bin, ConnInfo: dsn, Env: map[string]string{"HOME": home, "PGCONNECT_TIMEOUT": "10"}}.Run(context.Background())
			t.Logf("pqssl: %s %v\nlibpq 18: %s", got, err, r)
			switch {
			case tc.want == "" && (got != outTLS || !r.OK):
				t.Errorf("want a session from both")
			case tc.want != "" && (got != outFail || r.OK || !strings.Contains(err.Error(), tc.want) || !strings.Contains(r.Stderr, tc.want)):
				t.Errorf("want both to fail with %q", tc.want)
			}
			var ae *AuthError
			if strings.HasPrefix(tc.want, "server only supports") && (!errors.As(err, &ae) || ae.Kind != AuthProtocolVersion) {
				t.Errorf("pqssl error %#v is not an *AuthError of kind AuthProtocolVersion", err)
			}
		})
	}
}
