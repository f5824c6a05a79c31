package pqssl

import (
	"context"
	"crypto/md5"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/pqssl/pqssl/internal/fakepg"
	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

// The tests in this file check require_auth against libpq 18, the first
// referee that knows it (libpq 16+).

// errorReason returns the text of the innermost error, without pqssl's
// prefix: the part libpq's message must contain.
func errorReason(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return strings.TrimPrefix(err.Error(), "pqssl: ")
		}
		err = next
	}
}

// requireAuthVerdict compares pqssl's outcome with libpq 18's for one
// connection string: both succeed, or both fail and libpq's message holds
// pqssl's reason. want is "" for success, else a substring of both.
func requireAuthVerdict(t *testing.T, bin *pgtest.Binaries, dsn, want string, env map[string]string) {
	t.Helper()
	err := cbConnect(t, dsn)
	switch {
	case want == "" && err != nil:
		t.Errorf("pqssl: %v", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("pqssl: %v; want an error containing %q", err, want)
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the password: %v", err)
	}
	var ae *AuthError
	if strings.Contains(want, "authentication method requirement") && (!errors.As(err, &ae) || ae.Kind != AuthMethodNotAllowed) {
		t.Errorf("pqssl error %#v is not an *AuthError of kind AuthMethodNotAllowed", err)
	}
	e := map[string]string{"HOME": t.TempDir(), "PGCONNECT_TIMEOUT": "10", "PGPASSFILE": filepath.Join(t.TempDir(), "none")}
	for k, v := range env {
		e[k] = v
	}
	r := pgtest.Psql{Bin: bin, ConnInfo: dsn, Env: e, Query: "select 'ok'"}.Run(context.Background())
	if r.Err != nil {
		t.Fatalf("psql: %v", r.Err)
	}
	switch {
	case r.OK != (err == nil):
		t.Errorf("libpq 18: ok %v (%s); pqssl: %v", r.OK, r.Stderr, err)
	case err != nil && !strings.Contains(r.Stderr, errorReason(err)):
		t.Errorf("messages differ\nlibpq 18: %s\npqssl:    %s", r.Stderr, errorReason(err))
	}
}

// TestRequireAuthRealServer connects to a PostgreSQL 18 server whose users
// authenticate by trust, password, md5, scram-sha-256 and client
// certificate, with require_auth values alone and with channel_binding and
// sslcertmode, and compares every verdict and message with libpq 18's.
func TestRequireAuthRealServer(t *testing.T) {
	bin := pgtest.Installation(t, 18)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none"))
	ca := testpki.MustRoot(t, testpki.Spec{CommonName: "require_auth client CA"})
	cluster := bin.StartT(t, pgtest.Options{CA: ca.CertPEM, HBA: []string{
		"hostssl all ra_trust 127.0.0.1/32 trust",
		"hostssl all ra_password 127.0.0.1/32 password",
		"hostssl all ra_md5 127.0.0.1/32 md5",
		"hostssl all ra_scram 127.0.0.1/32 scram-sha-256",
		"hostssl all ra_cert 127.0.0.1/32 cert",
	}})
	const secret = "ra-secret"
	sum := md5.Sum([]byte(secret + "ra_md5"))
	for user, pw := range map[string]string{
		"ra_trust": "", "ra_password": secret, "ra_scram": secret, "ra_cert": "",
		"ra_md5": "md5" + hex.EncodeToString(sum[:]), // an MD5 verifier, so that md5 runs MD5
	} {
		if err := cluster.CreateUser(user, pw); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	client := ca.MustIssue(t, testpki.Spec{CommonName: "ra_cert", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	certFile := testpki.WriteFile(t, filepath.Join(dir, "client.crt"), client.CertPEM, 0o600)
	keyFile := testpki.WriteFile(t, filepath.Join(dir, "client.key"), client.KeyPEM, 0o600)

	base := func(user string) string {
		dsn := fmt.Sprintf("host=127.0.0.1 port=%d dbname=postgres sslmode=require user=%s", cluster.Port, user)
		switch user {
		case "ra_cert":
			dsn += " sslcert=" + quoteConnValue(certFile) + " sslkey=" + quoteConnValue(keyFile)
		case "ra_trust":
		default:
			dsn += " password=" + secret
		}
		return dsn
	}
	// method is what each user's session authenticates with, as
	// require_auth names it; "" for none.
	method := map[string]string{"ra_trust": "", "ra_cert": "", "ra_password": "password", "ra_md5": "md5", "ra_scram": "scram-sha-256"}
	request := map[string]string{"password": "server requested a cleartext password", "md5": "server requested a hashed password", "scram-sha-256": "server requested SASL authentication"}

	values := []struct {
		value string
		// allows reports whether a session authenticating with m passes.
		allows func(m string) bool
	}{
		{"password", func(m string) bool { return m == "password" }},
		{"md5", func(m string) bool { return m == "md5" }},
		{"scram-sha-256", func(m string) bool { return m == "scram-sha-256" }},
		{"none", func(m string) bool { return m == "" }},
		{"!none", func(m string) bool { return m != "" }},
		{"!password", func(m string) bool { return m != "password" }},
		{"!md5", func(m string) bool { return m != "md5" }},
		{"!scram-sha-256", func(m string) bool { return m != "scram-sha-256" }},
		{"password,md5", func(m string) bool { return m == "password" || m == "md5" }},
		{"md5,scram-sha-256", func(m string) bool { return m == "md5" || m == "scram-sha-256" }},
		{"scram-sha-256,none", func(m string) bool { return m == "scram-sha-256" || m == "" }},
		{"!password,!md5", func(m string) bool { return m != "password" && m != "md5" }},
		{"!scram-sha-256,!none", func(m string) bool { return m == "password" || m == "md5" }},
		{"gss,none", func(m string) bool { return m == "" }},
		{"sspi,password", func(m string) bool { return m == "password" }},
	}
	checked := 0
	for _, user := range []string{"ra_trust", "ra_password", "ra_md5", "ra_scram", "ra_cert"} {
		for _, v := range values {
			m := method[user]
			want := ""
			if !v.allows(m) {
				want = `authentication method requirement "` + v.value + `" failed: `
				switch {
				case m == "":
					want += "server did not complete authentication"
				case m == "scram-sha-256" && strings.HasPrefix(v.value, "!"):
					// SASL requests pass (oauth is still allowed); the
					// mechanism chosen, over TLS the -PLUS one, does not.
					want += "server requested SCRAM-SHA-256-PLUS authentication"
				default:
					want += request[m]
				}
			}
			t.Run(user+"/"+v.value, func(t *testing.T) {
				requireAuthVerdict(t, bin, base(user)+" require_auth="+v.value, want, nil)
			})
			checked++
		}
	}

	// With channel_binding and sslcertmode: libpq checks sslcertmode, then
	// require_auth, then channel_binding.
	for _, tc := range []struct {
		name, dsn, want string
		env             map[string]string
	}{
		{"scram, channel_binding=require", base("ra_scram") + " require_auth=scram-sha-256 channel_binding=require", "", nil},
		{"scram, channel_binding=disable", base("ra_scram") + " require_auth=scram-sha-256 channel_binding=disable", "", nil},
		{"trust, none, channel_binding=require", base("ra_trust") + " require_auth=none channel_binding=require",
			"channel binding required, but server authenticated client without channel binding", nil},
		{"password, channel_binding=require", base("ra_password") + " require_auth=password channel_binding=require",
			"channel binding required but not supported by server's authentication request", nil},
		{"scram, md5 only, channel_binding=require", base("ra_scram") + " require_auth=md5 channel_binding=require",
			`authentication method requirement "md5" failed: server requested SASL authentication`, nil},
		{"trust, scram, channel_binding=require", base("ra_trust") + " require_auth=scram-sha-256 channel_binding=require",
			`authentication method requirement "scram-sha-256" failed: server did not complete authentication`, nil},
		{"cert, none, sslcertmode=require", base("ra_cert") + " require_auth=none sslcertmode=require", "", nil},
		{"cert, scram, sslcertmode=require", base("ra_cert") + " require_auth=scram-sha-256 sslcertmode=require",
			`authentication method requirement "scram-sha-256" failed: server did not complete authentication`, nil},
		{"trust without a certificate, scram, sslcertmode=require", base("ra_trust") + " require_auth=scram-sha-256 sslcertmode=require",
			"server accepted connection without a valid SSL certificate", nil},
		{"cert, sslcertmode=disable", base("ra_cert") + " require_auth=none sslcertmode=disable",
			"connection requires a valid client certificate", nil},
		{"PGREQUIREAUTH", base("ra_scram"), `authentication method requirement "md5" failed: server requested SASL authentication`,
			map[string]string{"PGREQUIREAUTH": "md5"}},
		{"string overrides PGREQUIREAUTH", base("ra_scram") + " require_auth=scram-sha-256", "", map[string]string{"PGREQUIREAUTH": "md5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			requireAuthVerdict(t, bin, tc.dsn, tc.want, tc.env)
		})
		checked++
	}
	t.Logf("%d connection strings checked against libpq 18", checked)
}

// TestRequireAuthFakeServer has a fake server ask for what require_auth
// forbids: the client must close the connection without answering, so that
// nothing derived from the password reaches the server. libpq 18 gets the
// same requests and must give the same verdict.
func TestRequireAuthFakeServer(t *testing.T) {
	bin := pgtest.Installation(t, 18)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none"))
	const password = "fake-secret"
	request := func(code uint32, payload ...[]byte) func(rw io.ReadWriter) error {
		return func(rw io.ReadWriter) error {
			fakepg.Message(rw, 'R', authRequest(code, payload...))
			return nil
		}
	}
	for _, tc := range []struct {
		name, requireAuth string
		auth              func(rw io.ReadWriter) error
		want              string
		// answered: the client must have answered the request
		answered bool
	}{
		{"cleartext, scram only", "scram-sha-256", request(authCleartext),
			`authentication method requirement "scram-sha-256" failed: server requested a cleartext password`, false},
		{"cleartext, not password", "!password", request(authCleartext),
			`authentication method requirement "!password" failed: server requested a cleartext password`, false},
		{"md5, scram only", "scram-sha-256", request(authMD5, []byte("salt")),
			`authentication method requirement "scram-sha-256" failed: server requested a hashed password`, false},
		{"md5, password only", "password,none", request(authMD5, []byte("salt")),
			`authentication method requirement "password,none" failed: server requested a hashed password`, false},
		{"SASL, md5 only", "md5", request(authSASL, []byte(mechSCRAM+"\x00\x00")),
			`authentication method requirement "md5" failed: server requested SASL authentication`, false},
		{"GSSAPI, scram only", "scram-sha-256", request(7),
			`authentication method requirement "scram-sha-256" failed: server requested GSSAPI authentication`, false},
		{"SSPI, md5 only", "md5", request(9),
			`authentication method requirement "md5" failed: server requested SSPI authentication`, false},
		{"unknown request", "!none", request(42),
			`authentication method requirement "!none" failed: server requested an unknown authentication type`, false},
		{"SASL continue, md5 only", "md5", request(authSASLContinue, []byte("r=x,s=QQ==,i=1")),
			`authentication method requirement "md5" failed: server requested SASL authentication`, false},
		{"OK at once, not none", "!none", request(authOK),
			`authentication method requirement "!none" failed: server did not complete authentication`, false},
		{"OK before the SCRAM exchange ends", "scram-sha-256", func(rw io.ReadWriter) error {
			return scramServer{password: password, mechs: []string{mechSCRAM}, skipFinal: true}.serve(rw, nil, &scramSeen{})
		}, `authentication method requirement "scram-sha-256" failed: server did not complete authentication`, true},
		{"OK before the SCRAM exchange ends, none allowed", "scram-sha-256,none", func(rw io.ReadWriter) error {
			return scramServer{password: password, mechs: []string{mechSCRAM}, skipFinal: true}.serve(rw, nil, &scramSeen{})
		}, "", true},
		{"whole SCRAM exchange", "scram-sha-256", func(rw io.ReadWriter) error {
			return scramServer{password: password, mechs: []string{mechSCRAM}}.serve(rw, nil, &scramSeen{})
		}, "", true},
		{"GSSAPI allowed", "gss,password", request(7),
			"server requested GSSAPI authentication, which pqssl does not perform", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent := make(chan int, 4)
			srv := fakeAuthServer(t, false, func(rw io.ReadWriter, _ []byte) error {
				err := tc.auth(rw)
				// What the client sends next, until it closes.
				if c, ok := rw.(interface{ SetReadDeadline(time.Time) error }); ok {
					c.SetReadDeadline(time.Now().Add(5 * time.Second))
				}
				n, _ := io.Copy(io.Discard, rw)
				sent <- int(n)
				return err
			})
			defer srv.Close()
			dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=alice password=%s dbname=postgres sslmode=prefer require_auth=%s",
				srv.Port(), password, quoteConnValue(tc.requireAuth))
			err := cbConnect(t, dsn)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("pqssl: %v", err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("pqssl: %v; want an error containing %q", err, tc.want)
				}
				select {
				case n := <-sent:
					if !tc.answered && n != 0 {
						t.Errorf("pqssl sent %d bytes after a request it had to refuse", n)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("pqssl did not close the connection")
				}
			}
			if strings.HasPrefix(tc.want, "server requested GSSAPI authentication, which") {
				return // libpq 18 here has GSSAPI and tries it
			}
			r := pgtest.Psql{Bin: bin, ConnInfo: dsn, Env: map[string]string{"PGCONNECT_TIMEOUT": "10"}, Query: "select 'ok'"}.Run(context.Background())
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if r.OK != (tc.want == "") || tc.want != "" && !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("libpq 18: ok %v, %s; want ok %v, %q", r.OK, r.Stderr, tc.want == "", tc.want)
			}
		})
	}
}
