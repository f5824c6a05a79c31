package pqssl

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/pqssl/pqssl/internal/fakepg"
	"github.com/pqssl/pqssl/internal/pgauth"
	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

// traceAuth records how every session authenticates until the test ends.
// Tests that use it must not run in parallel.
func traceAuth(t *testing.T) func() []pgauth.Outcome {
	t.Helper()
	var mu sync.Mutex
	var got []pgauth.Outcome
	f := func(o pgauth.Outcome) {
		mu.Lock()
		got = append(got, o)
		mu.Unlock()
	}
	if !pgauth.Trace.CompareAndSwap(nil, &f) {
		t.Fatal("pgauth.Trace is already in use")
	}
	t.Cleanup(func() { pgauth.Trace.Store(nil) })
	return func() []pgauth.Outcome {
		mu.Lock()
		defer mu.Unlock()
		return append([]pgauth.Outcome(nil), got...)
	}
}

// Protocol values the fake servers of these tests use.
const (
	authOK           = 0
	authCleartext    = 3
	authMD5          = 5
	authSASL         = 10
	authSASLContinue = 11
	authSASLFinal    = 12

	mechSCRAM     = "SCRAM-SHA-256"
	mechSCRAMPlus = "SCRAM-SHA-256-PLUS"
)

// cbConnect opens a session through pqssl with dsn and runs a query on it.
func cbConnect(t *testing.T, dsn string) error {
	t.Helper()
	c, err := NewConnector(dsn)
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var s string
	return db.QueryRowContext(ctx, "select 'ok'").Scan(&s)
}

// cbServerTLS is a TLS configuration for fake servers; leaf is its
// certificate's DER.
func cbServerTLS(t *testing.T) (cfg *tls.Config, leaf []byte) {
	t.Helper()
	cert := testpki.MustSelfSigned(t, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	kp, err := tls.X509KeyPair(cert.CertPEM, cert.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{kp}}, cert.Cert.Raw
}

// readFrontendMessage reads one typed message from the client.
func readFrontendMessage(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n < 4 || n > 1<<16 {
		return 0, nil, fmt.Errorf("bad length %d", n)
	}
	body := make([]byte, n-4)
	_, err := io.ReadFull(r, body)
	return hdr[0], body, err
}

func authRequest(code uint32, data ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, code)
	for _, d := range data {
		b = append(b, d...)
	}
	return b
}

// scramServer plays the server's side of SCRAM-SHA-256 for fake servers,
// written from RFC 5802 independently of the client, with switches for
// misbehaviour.
type scramServer struct {
	password string
	mechs    []string

	badNonce     bool   // server-first does not extend the client's nonce
	serverError  string // server-final is "e=..."
	badSignature bool   // server-final carries a wrong ServerSignature
	skipFinal    bool   // AuthenticationOk straight after the client's proof

	// Hostile variants of server-first and of the exchange.
	salt64     string // s= as sent, if not ""
	iterations string // i= as sent, if not ""
	errorAt    int    // ErrorResponse in place of server-first (1) or server-final (2)
	closeAt    int    // close the stream in place of server-first (1) or server-final (2)
	stallAt    int    // send nothing more in place of server-first (1) or server-final (2)
}

// scramSeen is what the fake server saw of the client's exchange.
type scramSeen struct {
	mechanism   string
	gs2Header   string
	cbindOK     bool
	proofOK     bool
	clientFirst string
	sentFinal   bool // the client sent its proof
}

// serve runs the exchange on rw after the StartupMessage; leaf is the
// server certificate's DER (nil without TLS). It serves a session when
// authentication succeeds.
func (s scramServer) serve(rw io.ReadWriter, leaf []byte, seen *scramSeen) error {
	var list []byte
	for _, m := range s.mechs {
		list = append(append(list, m...), 0)
	}
	fakepg.Message(rw, 'R', authRequest(authSASL, list, []byte{0}))
	typ, body, err := readFrontendMessage(rw)
	if err != nil || typ != 'p' {
		return fmt.Errorf("SASLInitialResponse: %c %v", typ, err)
	}
	i := bytes.IndexByte(body, 0)
	seen.mechanism = string(body[:i])
	first := string(body[i+5:])
	seen.clientFirst = first
	j := strings.Index(first, ",,")
	seen.gs2Header = first[:j+2]
	bare := first[j+2:]
	clientNonce := bare[strings.Index(bare, "r=")+2:]

	salt := []byte("fake salt 123456")
	const iterations = 4096
	nonce := clientNonce + "fakeserver"
	if s.badNonce {
		nonce = "X" + nonce
	}
	salt64, iters := base64.StdEncoding.EncodeToString(salt), fmt.Sprint(iterations)
	if s.salt64 != "" {
		salt64 = s.salt64
	}
	if s.iterations != "" {
		iters = s.iterations
	}
	if s.interrupt(rw, 1) {
		io.ReadAll(rw)
		return nil
	}
	serverFirst := fmt.Sprintf("r=%s,s=%s,i=%s", nonce, salt64, iters)
	fakepg.Message(rw, 'R', authRequest(authSASLContinue, []byte(serverFirst)))
	typ, body, err = readFrontendMessage(rw)
	if err != nil || typ != 'p' {
		return fmt.Errorf("SASLResponse: %c %v", typ, err)
	}
	seen.sentFinal = true
	if s.interrupt(rw, 2) {
		io.ReadAll(rw)
		return nil
	}
	final := string(body)
	k := strings.LastIndex(final, ",p=")
	withoutProof, proof64 := final[:k], final[k+3:]

	cbind := []byte(seen.gs2Header)
	if strings.HasPrefix(seen.gs2Header, "p=tls-server-end-point") {
		sum := sha256.Sum256(leaf) // the test certificates are ECDSA with SHA-256
		cbind = append(cbind, sum[:]...)
	}
	seen.cbindOK = strings.HasPrefix(withoutProof, "c="+base64.StdEncoding.EncodeToString(cbind)+",")

	salted, err := pbkdf2.Key(sha256.New, s.password, salt, iterations, 32)
	if err != nil {
		return err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	authMessage := bare + "," + serverFirst + "," + withoutProof
	sig := mac(storedKey[:], authMessage)
	proof, _ := base64.StdEncoding.DecodeString(proof64)
	if len(proof) == len(sig) {
		for i := range proof {
			proof[i] ^= sig[i]
		}
		got := sha256.Sum256(proof)
		seen.proofOK = got == storedKey
	}
	if !seen.cbindOK || !seen.proofOK {
		fakepg.Message(rw, 'E', fakepg.ErrorResponse("FATAL", "28P01", "password authentication failed for user \"alice\""))
		return nil
	}
	if s.skipFinal {
		return fakepg.ServeSession(rw, "ok")
	}
	serverFinal := "v=" + base64.StdEncoding.EncodeToString(mac(mac(salted, "Server Key"), authMessage))
	if s.badSignature {
		serverFinal = "v=" + base64.StdEncoding.EncodeToString(mac([]byte("not the key"), authMessage))
	}
	if s.serverError != "" {
		serverFinal = "e=" + s.serverError
	}
	fakepg.Message(rw, 'R', authRequest(authSASLFinal, []byte(serverFinal)))
	return fakepg.ServeSession(rw, "ok")
}

// interrupt sends what the server sends instead of its SCRAM message number
// step, if anything, and reports whether it did. The caller then reads
// until the client leaves.
func (s scramServer) interrupt(rw io.ReadWriter, step int) bool {
	switch step {
	case s.errorAt:
		fakepg.Message(rw, 'E', fakepg.ErrorResponse("FATAL", "28000", "authentication interrupted by the server"))
		return true
	case s.closeAt:
		if c, ok := rw.(interface{ CloseWrite() error }); ok {
			c.CloseWrite()
		}
		return true
	case s.stallAt:
		return true
	}
	return false
}

// fakeAuthServer starts a fake server that accepts TLS (answering 'S') and
// runs auth on each session after the StartupMessage. Without TLS it
// answers 'N'.
func fakeAuthServer(t *testing.T, useTLS bool, auth func(rw io.ReadWriter, leaf []byte) error) *fakepg.Server {
	t.Helper()
	cfg, leaf := cbServerTLS(t)
	return fakepg.Start(t, func(c *fakepg.Conn) {
		var rw io.ReadWriter = c
		code, _, err := fakepg.ReadStartupPacket(c)
		if err != nil {
			return
		}
		certDER := []byte(nil)
		if code == fakepg.SSLRequestCode {
			if !useTLS {
				c.Write([]byte{'N'})
			} else {
				c.Write([]byte{'S'})
				tc := tls.Server(c, cfg)
				if tc.Handshake() != nil {
					return
				}
				rw, certDER = tc, leaf
			}
			if code, _, err = fakepg.ReadStartupPacket(rw); err != nil {
				return
			}
		}
		if code != fakepg.ProtocolV3 {
			return
		}
		auth(rw, certDER)
	})
}

func TestChannelBindingFakeServer(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none"))
	const password = "correct horse"
	plusAndPlain := []string{mechSCRAMPlus, mechSCRAM}

	type result struct {
		seen scramSeen
		// afterRequest is what the client sent after a password request
		// it should not have answered.
		afterRequest []byte
	}
	tests := []struct {
		name    string
		sslmode string
		cb      string
		useTLS  bool
		auth    func(rw io.ReadWriter, leaf []byte, r *result) error
		// want is "" for success, else a substring of the error.
		want      string
		wantType  any // *ChannelBindingError, *AuthError, *pq.Error
		wantMech  string
		wantGS2   string
		wantBound bool
	}{
		{
			name: "PLUS, require", sslmode: "require", cb: "require", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: plusAndPlain}.serve(rw, leaf, &r.seen)
			},
			wantMech: mechSCRAMPlus, wantGS2: "p=tls-server-end-point,,", wantBound: true,
		},
		{
			name: "PLUS, prefer", sslmode: "require", cb: "prefer", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: plusAndPlain}.serve(rw, leaf, &r.seen)
			},
			wantMech: mechSCRAMPlus, wantGS2: "p=tls-server-end-point,,", wantBound: true,
		},
		{
			name: "PLUS offered, disable", sslmode: "require", cb: "disable", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: plusAndPlain}.serve(rw, leaf, &r.seen)
			},
			wantMech: mechSCRAM, wantGS2: "n,,",
		},
		{
			name: "only SCRAM-SHA-256 offered, prefer", sslmode: "require", cb: "prefer", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: []string{mechSCRAM}}.serve(rw, leaf, &r.seen)
			},
			// 'y': the client could bind, and says so.
			wantMech: mechSCRAM, wantGS2: "y,,",
		},
		{
			name: "only SCRAM-SHA-256 offered, require", sslmode: "require", cb: "require", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: []string{mechSCRAM}}.serve(rw, leaf, &r.seen)
			},
			want: "channel binding is required, but server did not offer an authentication method that supports channel binding", wantType: &ChannelBindingError{},
		},
		{
			name: "wrong server signature, require", sslmode: "require", cb: "require", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: plusAndPlain, badSignature: true}.serve(rw, leaf, &r.seen)
			},
			want: "incorrect server signature", wantType: &AuthError{},
		},
		{
			name: "wrong server signature, disable", sslmode: "require", cb: "disable", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: plusAndPlain, badSignature: true}.serve(rw, leaf, &r.seen)
			},
			want: "incorrect server signature", wantType: &AuthError{},
		},
		{
			name: "nonce not extended", sslmode: "require", cb: "prefer", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: plusAndPlain, badNonce: true}.serve(rw, leaf, &r.seen)
			},
			want: "invalid SCRAM response (nonce mismatch)", wantType: &AuthError{},
		},
		{
			name: "server-final error", sslmode: "require", cb: "prefer", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: plusAndPlain, serverError: "channel-binding-not-supported"}.serve(rw, leaf, &r.seen)
			},
			want: "error received from server in SCRAM exchange: channel-binding-not-supported", wantType: &AuthError{},
		},
		{
			name: "AuthenticationOk without server-final, require", sslmode: "require", cb: "require", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: plusAndPlain, skipFinal: true}.serve(rw, leaf, &r.seen)
			},
			want: "channel binding required, but server authenticated client without channel binding", wantType: &ChannelBindingError{},
		},
		{
			// libpq 15 accepts this unless channel binding is required.
			name: "AuthenticationOk without server-final, prefer", sslmode: "require", cb: "prefer", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: plusAndPlain, skipFinal: true}.serve(rw, leaf, &r.seen)
			},
			wantMech: mechSCRAMPlus, wantGS2: "p=tls-server-end-point,,",
		},
		{
			name: "trust, require", sslmode: "require", cb: "require", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return fakepg.ServeSession(rw, "ok")
			},
			want: "channel binding required, but server authenticated client without channel binding", wantType: &ChannelBindingError{},
		},
		{
			name: "cleartext password request, require", sslmode: "require", cb: "require", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				fakepg.Message(rw, 'R', authRequest(authCleartext))
				r.afterRequest, _ = io.ReadAll(rw)
				return nil
			},
			want: "channel binding required but not supported by server's authentication request", wantType: &ChannelBindingError{},
		},
		{
			name: "MD5 request, require", sslmode: "require", cb: "require", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				fakepg.Message(rw, 'R', authRequest(authMD5, []byte("salt")))
				r.afterRequest, _ = io.ReadAll(rw)
				return nil
			},
			want: "channel binding required but not supported by server's authentication request", wantType: &ChannelBindingError{},
		},
		{
			name: "GSSAPI request, require", sslmode: "require", cb: "require", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				fakepg.Message(rw, 'R', authRequest(7))
				r.afterRequest, _ = io.ReadAll(rw)
				return nil
			},
			want: "channel binding required but not supported by server's authentication request", wantType: &ChannelBindingError{},
		},
		{
			name: "MD5 request, prefer", sslmode: "require", cb: "prefer", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				fakepg.Message(rw, 'R', authRequest(authMD5, []byte("salt")))
				typ, body, err := readFrontendMessage(rw)
				inner := md5.Sum([]byte(password + "alice"))
				outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), "salt"...))
				if err != nil || typ != 'p' || string(body) != "md5"+hex.EncodeToString(outer[:])+"\x00" {
					fakepg.Message(rw, 'E', fakepg.ErrorResponse("FATAL", "28P01", "wrong md5 answer"))
					return nil
				}
				return fakepg.ServeSession(rw, "ok")
			},
			wantMech: "md5",
		},
		{
			name: "cleartext request, prefer", sslmode: "require", cb: "prefer", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				fakepg.Message(rw, 'R', authRequest(authCleartext))
				typ, body, err := readFrontendMessage(rw)
				if err != nil || typ != 'p' || string(body) != password+"\x00" {
					fakepg.Message(rw, 'E', fakepg.ErrorResponse("FATAL", "28P01", "wrong password"))
					return nil
				}
				return fakepg.ServeSession(rw, "ok")
			},
			wantMech: "password",
		},
		{
			name: "wrong password reported by the server", sslmode: "require", cb: "require", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: "something else", mechs: plusAndPlain}.serve(rw, leaf, &r.seen)
			},
			want: "password authentication failed", wantType: &pq.Error{},
		},
		{
			name: "PLUS offered without TLS", sslmode: "disable", cb: "prefer", useTLS: false,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: plusAndPlain}.serve(rw, leaf, &r.seen)
			},
			want: "server offered SCRAM-SHA-256-PLUS authentication over a non-SSL connection", wantType: &AuthError{},
		},
		{
			name: "SCRAM without TLS, require", sslmode: "disable", cb: "require", useTLS: false,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: []string{mechSCRAM}}.serve(rw, leaf, &r.seen)
			},
			want: "channel binding required, but SSL not in use", wantType: &ChannelBindingError{},
		},
		{
			name: "SCRAM without TLS, prefer", sslmode: "disable", cb: "prefer", useTLS: false,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: []string{mechSCRAM}}.serve(rw, leaf, &r.seen)
			},
			wantMech: mechSCRAM, wantGS2: "n,,",
		},
		{
			name: "no known mechanism", sslmode: "require", cb: "prefer", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				return scramServer{password: password, mechs: []string{"SCRAM-SHA-512"}}.serve(rw, leaf, &r.seen)
			},
			want: "none of the server's SASL authentication mechanisms are supported", wantType: &AuthError{},
		},
		{
			name: "not an authentication request", sslmode: "require", cb: "prefer", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				fakepg.Message(rw, 'S', []byte("server_version\x0017\x00"))
				fakepg.Message(rw, 'R', authRequest(authOK))
				io.ReadAll(rw)
				return nil
			},
			want: "expected authentication request from server, but received S", wantType: &AuthError{},
		},
		{
			name: "oversized authentication request", sslmode: "require", cb: "prefer", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				fakepg.Message(rw, 'R', authRequest(authSASL, bytes.Repeat([]byte("x"), 3000)))
				io.ReadAll(rw)
				return nil
			},
			want: "expected authentication request from server, but received R", wantType: &AuthError{},
		},
		{
			name: "SASL continue without SASL", sslmode: "require", cb: "prefer", useTLS: true,
			auth: func(rw io.ReadWriter, leaf []byte, r *result) error {
				fakepg.Message(rw, 'R', authRequest(authSASLContinue, []byte("r=x,s=QQ==,i=1")))
				io.ReadAll(rw)
				return nil
			},
			want: "AUTH_REQ_SASL_CONT without AUTH_REQ_SASL", wantType: &AuthError{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := traceAuth(t)
			results := make(chan *result, 4)
			srv := fakeAuthServer(t, tt.useTLS, func(rw io.ReadWriter, leaf []byte) error {
				r := &result{}
				defer func() { results <- r }()
				return tt.auth(rw, leaf, r)
			})
			dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=alice password='%s' dbname=postgres sslmode=%s channel_binding=%s",
				srv.Port(), password, tt.sslmode, tt.cb)
			err := cbConnect(t, dsn)
			srv.Close()
			var r *result
			select {
			case r = <-results:
			case <-time.After(5 * time.Second):
				t.Fatal("the fake server never ran its authentication")
			}

			if tt.want == "" {
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				outcomes := got()
				if len(outcomes) != 1 {
					t.Fatalf("authentications traced: %+v, want one", outcomes)
				}
				o := outcomes[0]
				if o.Mechanism != tt.wantMech || o.Bound != tt.wantBound {
					t.Errorf("outcome %+v, want mechanism %q, bound %v", o, tt.wantMech, tt.wantBound)
				}
				if tt.wantGS2 != "" && (r.seen.gs2Header != tt.wantGS2 || string(o.GS2Flag) != tt.wantGS2[:1]) {
					t.Errorf("GS2 header %q (traced flag %q), want %q", r.seen.gs2Header, o.GS2Flag, tt.wantGS2)
				}
				if strings.HasPrefix(tt.wantMech, "SCRAM") && (!r.seen.cbindOK || !r.seen.proofOK) {
					t.Errorf("server saw channel binding ok %v, proof ok %v", r.seen.cbindOK, r.seen.proofOK)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("connect error %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error shows the password: %v", err)
			}
			switch tt.wantType.(type) {
			case *ChannelBindingError:
				var e *ChannelBindingError
				if !errors.As(err, &e) {
					t.Errorf("error %T is not a *ChannelBindingError", err)
				}
			case *AuthError:
				var e *AuthError
				if !errors.As(err, &e) {
					t.Errorf("error %T is not an *AuthError", err)
				}
			case *pq.Error:
				var e *pq.Error
				if !errors.As(err, &e) || e.Code != "28P01" {
					t.Errorf("error %T (%v) is not a *pq.Error 28P01", err, err)
				}
			}
			if len(r.afterRequest) != 0 {
				t.Errorf("the client answered a request it had to refuse: %d bytes", len(r.afterRequest))
			}
			if len(got()) != 0 {
				t.Errorf("a failed authentication was traced: %+v", got())
			}
		})
	}
}

// cbPsql runs psql with conninfo and returns its verdict and message. Where
// libpq 18 is installed it runs that psql too, which must agree.
func cbPsql(t *testing.T, conninfo string, env map[string]string) (ok bool, msg string) {
	t.Helper()
	// No password file unless env names one; an empty PGPASSFILE means
	// ~/.pgpass to libpq.
	e := map[string]string{"HOME": t.TempDir(), "PGCONNECT_TIMEOUT": "10", "PGPASSFILE": filepath.Join(t.TempDir(), "none")}
	for k, v := range env {
		e[k] = v
	}
	run := func(bin *pgtest.Binaries) (bool, string) {
		r := pgtest.Psql{ConnInfo: conninfo, Env: e, Query: "select 'ok'", Bin: bin}.Run(context.Background())
		if r.Err != nil {
			t.Fatalf("psql: %v", r.Err)
		}
		return r.OK, strings.TrimSpace(r.Stderr)
	}
	ok, msg = run(nil)
	if bin18 := pgtest.OptionalInstallation(t, 18); bin18 != nil {
		ok18, msg18 := run(bin18)
		if ok18 != ok || failureReason(msg18) != failureReason(msg) {
			t.Errorf("libpq 18 differs from the default libpq\nlibpq 18: ok %v, %s\ndefault:  ok %v, %s", ok18, msg18, ok, msg)
		}
	}
	return ok, msg
}

// failureReason is a psql error message without its "connection to server
// ... failed:" prefixes.
func failureReason(msg string) string {
	if i := strings.LastIndex(msg, " failed: "); i >= 0 {
		return msg[i+len(" failed: "):]
	}
	return strings.TrimPrefix(msg, "psql: error: ")
}

// haveCBPsql reports whether psql can referee; under CI it must.
func haveCBPsql(t *testing.T) bool {
	t.Helper()
	if bin, err := pgtest.FindBinaries(); err != nil || bin.Psql == "" {
		if pgtest.InCI() {
			t.Fatalf("psql not found under CI: %v", err)
		}
		return false
	}
	return true
}

// Users of the real-server tests, with their passwords.
const (
	cbUser      = "cb_scram"
	cbPassword  = "cb-scram-secret"
	cbMD5User   = "cb_md5"
	cbMD5Secret = "cb-md5-secret"
)

// cbCluster returns the shared cluster with the users of these tests.
func cbCluster(t *testing.T) *pgtest.Cluster {
	t.Helper()
	c := pgtest.Shared(t)
	if err := c.CreateUser(cbUser, cbPassword); err != nil {
		t.Fatal(err)
	}
	// An MD5 verifier, so that the md5 method really runs MD5.
	sum := md5.Sum([]byte(cbMD5Secret + cbMD5User))
	if err := c.CreateUser(cbMD5User, "md5"+hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChannelBindingRealServer(t *testing.T) {
	c := cbCluster(t)
	referee := haveCBPsql(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none"))

	tests := []struct {
		name   string
		hba    string
		params string
		// want is "" for success, else a substring of both pqssl's and
		// psql's error.
		want      string
		wantType  any
		wantMech  string
		wantBound bool
	}{
		{"scram, require", "scram-sha-256", "user=cb_scram password=cb-scram-secret sslmode=require channel_binding=require", "", nil, mechSCRAMPlus, true},
		{"scram, prefer", "scram-sha-256", "user=cb_scram password=cb-scram-secret sslmode=require", "", nil, mechSCRAMPlus, true},
		{"scram, disable", "scram-sha-256", "user=cb_scram password=cb-scram-secret sslmode=require channel_binding=disable", "", nil, mechSCRAM, false},
		{"scram, sslmode=prefer, require", "scram-sha-256", "user=cb_scram password=cb-scram-secret sslmode=prefer channel_binding=require", "", nil, mechSCRAMPlus, true},
		{"scram, sslmode=disable, prefer", "scram-sha-256", "user=cb_scram password=cb-scram-secret sslmode=disable", "", nil, mechSCRAM, false},
		{"scram, sslmode=disable, require", "scram-sha-256", "user=cb_scram password=cb-scram-secret sslmode=disable channel_binding=require",
			"channel binding required, but SSL not in use", &ChannelBindingError{}, "", false},
		{"scram, sslmode=allow, require", "scram-sha-256", "user=cb_scram password=cb-scram-secret sslmode=allow channel_binding=require",
			"channel binding required, but SSL not in use", &ChannelBindingError{}, "", false},
		{"scram, wrong password", "scram-sha-256", "user=cb_scram password=wrong sslmode=require channel_binding=require",
			`password authentication failed for user "cb_scram"`, &pq.Error{}, "", false},
		{"scram, no password", "scram-sha-256", "user=cb_scram sslmode=require channel_binding=require",
			"fe_sendauth: no password supplied", ErrNoPassword, "", false},
		{"trust, require", "trust", "user=cb_scram sslmode=require channel_binding=require",
			"channel binding required, but server authenticated client without channel binding", &ChannelBindingError{}, "", false},
		{"trust, sslmode=disable, require", "trust", "user=cb_scram sslmode=disable channel_binding=require",
			"channel binding required, but server authenticated client without channel binding", &ChannelBindingError{}, "", false},
		{"trust, prefer", "trust", "user=cb_scram sslmode=require", "", nil, "", false},
		{"md5, require", "md5", "user=cb_md5 password=cb-md5-secret sslmode=require channel_binding=require",
			"channel binding required but not supported by server's authentication request", &ChannelBindingError{}, "", false},
		{"md5, prefer", "md5", "user=cb_md5 password=cb-md5-secret sslmode=require", "", nil, "md5", false},
		{"md5, wrong password", "md5", "user=cb_md5 password=wrong sslmode=require",
			`password authentication failed for user "cb_md5"`, &pq.Error{}, "", false},
		// The md5 method runs SCRAM for a user with a SCRAM verifier.
		{"md5 method, SCRAM user, require", "md5", "user=cb_scram password=cb-scram-secret sslmode=require channel_binding=require", "", nil, mechSCRAMPlus, true},
		{"password, require", "password", "user=cb_scram password=cb-scram-secret sslmode=require channel_binding=require",
			"channel binding required but not supported by server's authentication request", &ChannelBindingError{}, "", false},
		{"password, prefer", "password", "user=cb_scram password=cb-scram-secret sslmode=require", "", nil, "password", false},
		// Unix-domain sockets never use TLS; the harness trusts them.
		{"socket, require", "password", "host=" + c.SocketDir + " user=cb_scram channel_binding=require",
			"channel binding required, but server authenticated client without channel binding", &ChannelBindingError{}, "", false},
		{"socket, prefer", "password", "host=" + c.SocketDir + " user=cb_scram", "", nil, "", false},
	}
	current := ""
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.hba != current {
				if err := c.SetHBA("host all all 127.0.0.1/32 " + tt.hba); err != nil {
					t.Fatal(err)
				}
				current = tt.hba
			}
			got := traceAuth(t)
			conninfo := c.ConnInfo(tt.params)
			err := cbConnect(t, conninfo)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("pqssl: %v", err)
				}
				o := got()
				if len(o) != 1 || o[0].Mechanism != tt.wantMech || o[0].Bound != tt.wantBound {
					t.Errorf("traced %+v, want mechanism %q, bound %v", o, tt.wantMech, tt.wantBound)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("pqssl error %v, want one containing %q", err, tt.want)
				}
				switch want := tt.wantType.(type) {
				case *ChannelBindingError:
					var e *ChannelBindingError
					if !errors.As(err, &e) {
						t.Errorf("pqssl error %T is not a *ChannelBindingError", err)
					}
				case *pq.Error:
					var e *pq.Error
					if !errors.As(err, &e) || e.Code != "28P01" {
						t.Errorf("pqssl error %T is not a *pq.Error 28P01", err)
					}
				case error:
					if !errors.Is(err, want) {
						t.Errorf("pqssl error %v is not %v", err, want)
					}
				}
				if err != nil && strings.Contains(err.Error(), "secret") {
					t.Errorf("the error shows the password: %v", err)
				}
			}
			if !referee {
				return
			}
			ok, msg := cbPsql(t, conninfo, nil)
			if ok != (tt.want == "") || (tt.want != "" && !strings.Contains(msg, tt.want)) {
				t.Errorf("psql: ok %v, %q; want ok %v, message containing %q", ok, msg, tt.want == "", tt.want)
			}
		})
	}
}

// TestChannelBindingDefeatsProxy puts a TLS-terminating proxy, with a
// certificate of its own, between the client and the real server: without
// certificate verification only channel binding notices it, through the
// server, which sees a different certificate than the one the client bound
// to.
func TestChannelBindingDefeatsProxy(t *testing.T) {
	c := cbCluster(t)
	referee := haveCBPsql(t)
	t.Setenv("HOME", t.TempDir())
	if err := c.SetHBA("hostssl all all 127.0.0.1/32 scram-sha-256"); err != nil {
		t.Fatal(err)
	}
	proxyTLS, _ := cbServerTLS(t)
	proxy := fakepg.Start(t, func(down *fakepg.Conn) {
		code, _, err := fakepg.ReadStartupPacket(down)
		if err != nil || code != fakepg.SSLRequestCode {
			return
		}
		down.Write([]byte{'S'})
		dtls := tls.Server(down, proxyTLS)
		if dtls.Handshake() != nil {
			return
		}
		up, err := net.Dial("tcp", c.Addr())
		if err != nil {
			return
		}
		defer up.Close()
		up.Write(sslRequestPacket())
		var b [1]byte
		if _, err := io.ReadFull(up, b[:]); err != nil || b[0] != 'S' {
			return
		}
		utls := tls.Client(up, &tls.Config{InsecureSkipVerify: true})
		if utls.Handshake() != nil {
			return
		}
		done := make(chan struct{}, 2)
		go func() { io.Copy(utls, dtls); done <- struct{}{} }()
		go func() { io.Copy(dtls, utls); done <- struct{}{} }()
		<-done
	})

	for _, tt := range []struct {
		cb     string
		wantOK bool
	}{{"require", false}, {"prefer", false}, {"disable", true}} {
		t.Run(tt.cb, func(t *testing.T) {
			conninfo := fmt.Sprintf("host=127.0.0.1 port=%d user=%s password=%s dbname=postgres sslmode=require channel_binding=%s",
				proxy.Port(), cbUser, cbPassword, tt.cb)
			err := cbConnect(t, conninfo)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("pqssl through the proxy without channel binding: %v", err)
				}
			} else {
				var pe *pq.Error
				if !errors.As(err, &pe) || !strings.Contains(pe.Message, "channel binding") {
					t.Fatalf("pqssl through the proxy: %v, want the server's channel binding failure", err)
				}
			}
			if referee {
				ok, msg := cbPsql(t, conninfo, nil)
				if ok != tt.wantOK {
					t.Errorf("psql through the proxy: ok %v (%s), want %v", ok, msg, tt.wantOK)
				}
			}
		})
	}
}

func sslRequestPacket() []byte {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], 8)
	binary.BigEndian.PutUint32(b[4:], fakepg.SSLRequestCode)
	return b[:]
}

// TestChannelBindingCertificateTypes checks tls-server-end-point against the
// server's own computation for certificates of several signature
// algorithms, and libpq's refusal of Ed25519.
func TestChannelBindingCertificateTypes(t *testing.T) {
	c := cbCluster(t)
	referee := haveCBPsql(t)
	t.Setenv("HOME", t.TempDir())
	if err := c.SetHBA("hostssl all all 127.0.0.1/32 scram-sha-256"); err != nil {
		t.Fatal(err)
	}
	rsaCA := testpki.MustRoot(t, testpki.Spec{CommonName: "cb RSA CA", KeyType: testpki.RSA2048})
	tests := []struct {
		name string
		cert *testpki.Cert
		// want is "" when channel binding works, else the failure of
		// channel_binding=prefer and require.
		want string
	}{
		{"ECDSA P-256, SHA-256", testpki.MustSelfSigned(t, testpki.Spec{CommonName: "localhost"}), ""},
		{"ECDSA P-384, SHA-384", testpki.MustSelfSigned(t, testpki.Spec{CommonName: "localhost", KeyType: testpki.P384}), ""},
		{"RSA, SHA-512", rsaCA.MustIssue(t, testpki.Spec{CommonName: "localhost", KeyType: testpki.RSA2048, SignatureAlgorithm: x509.SHA512WithRSA}), ""},
		{"RSA-PSS, SHA-384", rsaCA.MustIssue(t, testpki.Spec{CommonName: "localhost", KeyType: testpki.RSA2048, SignatureAlgorithm: x509.SHA384WithRSAPSS}), ""},
		{"RSA, SHA-1", testpki.MustSelfSigned(t, testpki.Spec{CommonName: "localhost", KeyType: testpki.RSA2048, SignatureAlgorithm: x509.SHA1WithRSA}), ""},
		{"Ed25519", testpki.MustSelfSigned(t, testpki.Spec{CommonName: "localhost", KeyType: testpki.Ed25519}), "could not find digest for NID UNDEF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.SetServerCert(tt.cert.CertPEM, tt.cert.KeyPEM); err != nil {
				t.Skipf("the server does not take this certificate: %v", err)
			}
			for _, cb := range []string{"require", "prefer", "disable"} {
				got := traceAuth(t)
				conninfo := c.ConnInfo(fmt.Sprintf("user=%s password=%s sslmode=require channel_binding=%s", cbUser, cbPassword, cb))
				err := cbConnect(t, conninfo)
				pgauth.Trace.Store(nil)
				wantFail := tt.want != "" && cb != "disable"
				switch {
				case wantFail && (err == nil || !strings.Contains(err.Error(), tt.want)):
					t.Errorf("channel_binding=%s: %v, want an error containing %q", cb, err, tt.want)
				case !wantFail && err != nil:
					t.Errorf("channel_binding=%s: %v", cb, err)
				case !wantFail && cb != "disable":
					if o := got(); len(o) != 1 || !o[0].Bound {
						t.Errorf("channel_binding=%s: traced %+v, want a bound exchange", cb, o)
					}
				}
				if referee {
					ok, msg := cbPsql(t, conninfo, nil)
					if ok == wantFail || (wantFail && !strings.Contains(msg, tt.want)) {
						t.Errorf("psql, channel_binding=%s: ok %v, %q", cb, ok, msg)
					}
				}
			}
		})
	}
}

// TestSASLPrepServer sets passwords on the server, which prepares them with
// its own SASLprep, and logs in with them through pqssl: a login succeeds
// only if pqssl prepared the password the same way.
func TestSASLPrepServer(t *testing.T) {
	c := cbCluster(t)
	t.Setenv("HOME", t.TempDir())
	if err := c.SetHBA("hostssl all all 127.0.0.1/32 scram-sha-256"); err != nil {
		t.Fatal(err)
	}
	passwords := []struct {
		set   string // the password as the server stores it
		login string // an equivalent password to log in with
	}{
		{"pässwörd", "pa\u0308sswo\u0308rd"},
		{"ｐａｓｓ１", "pass1"},
		{"I\u2168x", "IIXx"},
		{"a\u00a0b", "a b"},
		{"a\u00adb\u200cc", "abc"},
		{"a\u200bb", "a b"},
		{"a\u0340", "a\u0340"},
		{"\u05d0\u05d1\u05d2", "\u05d0\u05d1\u05d2"},
		{"\u05d0a\u05d1", "\u05d0a\u05d1"},
		{"\u1100\u1161\u11a8", "\uac01"},
		{"\U0001d041\u0300", "\U0001d041\u0300"},
		{"\U0001d400\u0301z", "\u00c1z"},
		{"\u0221é", "\u0221é"},
		// x/text's norm.NFKC would compose U+0301 with the a
		// (TestNormNFKC in internal/pgauth).
		{"a\u0b56\u0334\u0301", "a\u0b56\u0334\u0301"},
	}
	for i, p := range passwords {
		t.Run(fmt.Sprintf("%+q", p.set), func(t *testing.T) {
			user := fmt.Sprintf("cb_prep_%d", i)
			if err := c.CreateUser(user, p.set); err != nil {
				t.Fatal(err)
			}
			for _, pw := range []string{p.set, p.login} {
				conninfo := c.ConnInfo(fmt.Sprintf("user=%s password='%s' sslmode=require channel_binding=require", user, pw))
				if err := cbConnect(t, conninfo); err != nil {
					t.Errorf("login with %+q: %v", pw, err)
				}
			}
		})
	}
}

// TestCancelThroughAuthConn shows that lib/pq's cancel requests, which go
// through pqssl's dialer, still reach the server.
func TestCancelThroughAuthConn(t *testing.T) {
	c := cbCluster(t)
	t.Setenv("HOME", t.TempDir())
	if err := c.SetHBA("hostssl all all 127.0.0.1/32 scram-sha-256"); err != nil {
		t.Fatal(err)
	}
	conn, err := NewConnector(c.ConnInfo(fmt.Sprintf("user=%s password=%s sslmode=require channel_binding=require", cbUser, cbPassword)))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = db.ExecContext(ctx, "select pg_sleep(20)")
	if err == nil {
		t.Fatal("pg_sleep was not interrupted")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel took %v", d)
	}
	// Had the cancel request not reached the server, the backend would
	// sleep on although the client went away.
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, err := c.Query("select count(*) from pg_stat_activity where state = 'active' and query = 'select pg_sleep(20)'")
		if err != nil {
			t.Fatal(err)
		}
		if rows[0][0] == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the query is still running: the cancel request did not reach the server")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHostileSCRAMServer runs SCRAM exchanges that a hostile or broken
// server corrupts, through pqssl and through libpq, which must both refuse
// them for the same reason, neither sending its proof where the other does
// not, and both within the connection's deadline.
func TestHostileSCRAMServer(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none"))
	const password = "correct horse"
	const connectTimeout = 2 * time.Second
	withPsql := haveCBPsql(t)
	tests := []struct {
		name   string
		server scramServer
		// request, if set, replaces the SCRAM exchange with one
		// authentication request, which the client may answer.
		request []byte
		// want is a substring of pqssl's error and libpq's; noLibpq skips
		// libpq, for an exchange it would spend minutes on.
		want           string
		wantType       any // *AuthError, *pq.Error or error (os.ErrDeadlineExceeded)
		wantSentFinal  bool
		libpqSentFinal bool // libpq answers where pqssl does not
		noLibpq        bool
	}{
		{
			name:    "MD5 salt of 3 bytes",
			request: authRequest(authMD5, []byte("slt")),
			want:    "fe_sendauth: error sending password authentication", wantType: &AuthError{},
		},
		{
			// libpq answers with the MD5 hash before it fails; pqssl
			// fails without answering.
			name:    "MD5 salt of 5 bytes",
			request: authRequest(authMD5, []byte("salts")),
			want:    "expected authentication request from server, but received s", wantType: &AuthError{},
			libpqSentFinal: true,
		},
		{
			name:    "SASL without mechanisms",
			request: authRequest(authSASL, []byte{0}),
			want:    "none of the server's SASL authentication mechanisms are supported", wantType: &AuthError{},
		},
		{
			name:    "SASL with an unterminated mechanism list",
			request: authRequest(authSASL, []byte(mechSCRAM)),
			want:    "invalid list of authentication mechanisms", wantType: &AuthError{},
		},
		{
			name:   "iteration count 0",
			server: scramServer{iterations: "0"},
			want:   "malformed SCRAM message (invalid iteration count)", wantType: &AuthError{},
		},
		{
			name:   "iteration count 2^31",
			server: scramServer{iterations: "2147483648"},
			want:   "malformed SCRAM message (invalid iteration count)", wantType: &AuthError{},
		},
		{
			name:   "negative iteration count",
			server: scramServer{iterations: "-4096"},
			want:   "malformed SCRAM message (invalid iteration count)", wantType: &AuthError{},
		},
		{
			name:   "iteration count with trailing garbage",
			server: scramServer{iterations: "4096x"},
			want:   "malformed SCRAM message (invalid iteration count)", wantType: &AuthError{},
		},
		{
			// libpq computes all 2^31-1 iterations; pqssl stops at the
			// connection's deadline.
			name:   "iteration count 2^31-1",
			server: scramServer{iterations: "2147483647"},
			want:   "timeout expired while computing the SCRAM proof", wantType: os.ErrDeadlineExceeded,
			noLibpq: true,
		},
		{
			name:   "salt not base64",
			server: scramServer{salt64: "not*base64"},
			want:   "malformed SCRAM message (invalid salt)", wantType: &AuthError{},
		},
		{
			name:   "ErrorResponse in place of server-first",
			server: scramServer{errorAt: 1},
			want:   "authentication interrupted by the server", wantType: &pq.Error{},
		},
		{
			name:   "ErrorResponse in place of server-final",
			server: scramServer{errorAt: 2},
			want:   "authentication interrupted by the server", wantType: &pq.Error{},
			wantSentFinal: true,
		},
		{
			name:   "stream closed in place of server-first",
			server: scramServer{closeAt: 1},
			want:   "SSL connection has been closed unexpectedly", wantType: io.ErrUnexpectedEOF,
		},
		{
			name:   "stream closed in place of server-final",
			server: scramServer{closeAt: 2},
			want:   "SSL connection has been closed unexpectedly", wantType: io.ErrUnexpectedEOF,
			wantSentFinal: true,
		},
		{
			name:   "stream stalls in place of server-first",
			server: scramServer{stallAt: 1},
			want:   "timeout expired", wantType: os.ErrDeadlineExceeded,
		},
		{
			name:   "stream stalls in place of server-final",
			server: scramServer{stallAt: 2},
			want:   "timeout expired", wantType: os.ErrDeadlineExceeded,
			wantSentFinal: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(chan scramSeen, 4)
			srv := fakeAuthServer(t, true, func(rw io.ReadWriter, leaf []byte) error {
				var s scramSeen
				defer func() { seen <- s }()
				if tt.request != nil {
					fakepg.Message(rw, 'R', tt.request)
					typ, _, err := readFrontendMessage(rw)
					s.sentFinal = err == nil && typ == 'p'
					io.ReadAll(rw)
					return nil
				}
				srv := tt.server
				srv.password, srv.mechs = password, []string{mechSCRAM}
				return srv.serve(rw, leaf, &s)
			})
			defer srv.Close()
			conninfo := fmt.Sprintf("host=127.0.0.1 port=%d user=alice password='%s' dbname=postgres sslmode=require connect_timeout=%d",
				srv.Port(), password, int(connectTimeout/time.Second))
			sessionSeen := func(who string) scramSeen {
				t.Helper()
				select {
				case s := <-seen:
					return s
				case <-time.After(10 * time.Second):
					t.Fatalf("%s: the fake server never finished its exchange", who)
					return scramSeen{}
				}
			}

			start := time.Now()
			err := cbConnect(t, conninfo)
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("pqssl: error %v, want one containing %q", err, tt.want)
			}
			if took > connectTimeout+time.Second {
				t.Errorf("pqssl: failed after %v, past connect_timeout %v", took, connectTimeout)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("pqssl: the error shows the password: %v", err)
			}
			switch w := tt.wantType.(type) {
			case *AuthError:
				var e *AuthError
				if !errors.As(err, &e) {
					t.Errorf("pqssl: error %T is not an *AuthError", err)
				}
			case *pq.Error:
				var e *pq.Error
				if !errors.As(err, &e) || e.Code != "28000" {
					t.Errorf("pqssl: error %T (%v) is not the server's *pq.Error 28000", err, err)
				}
			case error:
				if !errors.Is(err, w) {
					t.Errorf("pqssl: error %v is not %v", err, w)
				}
			}
			if s := sessionSeen("pqssl"); s.sentFinal != tt.wantSentFinal {
				t.Errorf("pqssl: sent its proof: %v, want %v", s.sentFinal, tt.wantSentFinal)
			}

			if !withPsql || tt.noLibpq {
				return
			}
			ok, msg := cbPsql(t, conninfo, nil)
			if ok {
				t.Fatalf("libpq connected")
			}
			t.Logf("pqssl: %v\nlibpq: %s", err, msg)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("libpq: %s\nwant a message containing %q", msg, tt.want)
			}
			if s := sessionSeen("libpq"); s.sentFinal != (tt.wantSentFinal || tt.libpqSentFinal) {
				t.Errorf("libpq: sent its proof: %v, want %v", s.sentFinal, tt.wantSentFinal || tt.libpqSentFinal)
			}
		})
	}
}
