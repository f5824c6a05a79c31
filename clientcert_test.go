package pqssl

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fixtureSigner loads an unencrypted fixture key.
func fixtureSigner(t testing.TB, file string) crypto.Signer {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(keysDir, "fixtures", file))
	if err != nil {
		t.Fatal(err)
	}
	k, err := loadPrivateKey(file, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// certPEM returns a PEM certificate for key, signed by signer (self-signed
// when signer is nil).
func certPEM(t testing.TB, cn string, key, signer crypto.Signer, parent *x509.Certificate) ([]byte, *x509.Certificate) {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  parent == nil,
		BasicConstraintsValid: true,
	}
	if parent == nil {
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), c
}

// replaceFile writes data to path through a new file renamed over it, as
// certificate rotation tools do.
func replaceFile(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func fixtureBytes(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(keysDir, "fixtures", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// slowKey is encrypted with PBKDF2-SHA256 at 600,000 iterations: the cost
// that the cache exists to pay only once.
const slowKey = "ec256.pkcs8.pbkdf2-hmacWithSHA256-600k.aes-256-cbc.pem"

type certFiles struct {
	dir, cert, key string
	ecCert         []byte
	ecLeaf         *x509.Certificate
}

func newCertFiles(t *testing.T) *certFiles {
	dir := t.TempDir()
	f := &certFiles{dir: dir, cert: filepath.Join(dir, "client.crt"), key: filepath.Join(dir, "client.key")}
	f.ecCert, f.ecLeaf = certPEM(t, "pqssl", fixtureSigner(t, "ec256.pkcs8.pem"), nil, nil)
	replaceFile(t, f.cert, f.ecCert)
	replaceFile(t, f.key, fixtureBytes(t, slowKey))
	return f
}

func TestClientCertCache(t *testing.T) {
	pw := fixturePassword(t, "std")
	f := newCertFiles(t)
	src := newClientCertSource(f.cert, f.key, false, pw, nil)
	ctx := context.Background()
	for i := range 20 {
		c, err := src.certificate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Leaf.Equal(f.ecLeaf) || len(c.Certificate) != 1 {
			t.Fatalf("call %d: wrong certificate", i)
		}
	}
	if n := src.keyLoads.Load(); n != 1 {
		t.Fatalf("key decrypted %d times in 20 calls, want 1", n)
	}

	// Rotation: a new certificate and key renamed over the old ones are
	// picked up by the next call, and then cached in turn.
	rsaCert, rsaLeaf := certPEM(t, "pqssl", fixtureSigner(t, "rsa.pkcs8.pem"), nil, nil)
	replaceFile(t, f.key, fixtureBytes(t, "rsa.pkcs8.pbkdf2-hmacWithSHA256.aes-256-cbc.pem"))
	replaceFile(t, f.cert, rsaCert)
	for range 5 {
		c, err := src.certificate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Leaf.Equal(rsaLeaf) {
			t.Fatal("rotated certificate not picked up")
		}
	}
	if n := src.keyLoads.Load(); n != 2 {
		t.Fatalf("key loads after rotation = %d, want 2", n)
	}

	// Rewriting only the certificate (same key) is a change too.
	rsaCert2, rsaLeaf2 := certPEM(t, "pqssl", fixtureSigner(t, "rsa.pkcs8.pem"), nil, nil)
	replaceFile(t, f.cert, rsaCert2)
	if c, err := src.certificate(ctx); err != nil || !c.Leaf.Equal(rsaLeaf2) {
		t.Fatalf("renewed certificate not picked up: %v", err)
	}
}

func TestClientCertConcurrent(t *testing.T) {
	pw := fixturePassword(t, "std")
	f := newCertFiles(t)
	src := newClientCertSource(f.cert, f.key, false, pw, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := src.certificate(context.Background())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := src.keyLoads.Load(); n != 1 {
		t.Fatalf("8 concurrent calls decrypted the key %d times, want 1", n)
	}
}

func TestClientCertRetryAfterFailure(t *testing.T) {
	pw := fixturePassword(t, "std")
	f := newCertFiles(t)
	replaceFile(t, f.key, fixtureBytes(t, "ec256.pkcs8.pbkdf2-sha256.aes-128-cbc.pem"))
	var calls atomic.Int32
	type ctxKey struct{}
	src := newClientCertSource(f.cert, f.key, false, "", func(ctx context.Context, keyFile string) (string, error) {
		if keyFile != f.key {
			t.Errorf("password function got key file %q, want %q", keyFile, f.key)
		}
		if ctx.Value(ctxKey{}) != "v" {
			t.Error("password function did not get the caller's context values")
		}
		if calls.Add(1) == 1 {
			return "wrong", nil
		}
		return pw, nil
	})
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")
	if _, err := src.certificate(ctx); !errors.Is(err, ErrIncorrectPassword) {
		t.Fatalf("first call: %v, want ErrIncorrectPassword", err)
	}
	if _, err := src.certificate(ctx); err != nil {
		t.Fatalf("second call (after the failure, not cached): %v", err)
	}
	if _, err := src.certificate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("password function called %d times, want 2", n)
	}
}

func TestClientCertCancel(t *testing.T) {
	pw := fixturePassword(t, "std")
	f := newCertFiles(t)
	replaceFile(t, f.key, fixtureBytes(t, "ec256.pkcs8.pbkdf2-sha256.aes-128-cbc.pem"))
	release := make(chan struct{})
	src := newClientCertSource(f.cert, f.key, false, "", func(ctx context.Context, keyFile string) (string, error) {
		<-release
		return pw, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := src.certificate(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocked password function: %v, want the context's error", err)
	}
	close(release)
	if _, err := src.certificate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestClientCertFiles(t *testing.T) {
	libpq := libpqErrors(t)
	pw := fixturePassword(t, "std")
	dir := t.TempDir()
	ecKey := fixtureSigner(t, "ec256.pkcs8.pem")
	caKey := fixtureSigner(t, "rsa.pkcs8.pem")
	caPEM, caCert := certPEM(t, "ca", caKey, nil, nil)
	leafPEM, _ := certPEM(t, "pqssl", ecKey, caKey, caCert)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		replaceFile(t, p, data)
		return p
	}
	ecKeyFile := write("ec.key", fixtureBytes(t, "ec256.pkcs8.pbkdf2-sha256.aes-128-cbc.pem"))
	chainFile := write("chain.crt", append(append([]byte{}, leafPEM...), caPEM...))
	caFile := write("ca.crt", caPEM)
	garbage := write("garbage.crt", []byte("not a certificate"))
	ctx := context.Background()

	// The whole chain is sent.
	c, err := newClientCertSource(chainFile, ecKeyFile, false, pw, nil).certificate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Certificate) != 2 {
		t.Fatalf("chain has %d certificates, want 2", len(c.Certificate))
	}

	tests := []struct {
		name       string
		cert, key  string
		password   string
		want       string // "" = no certificate and no error
		is         error
		wantReason KeyFileReason
	}{
		{name: "no cert file", cert: filepath.Join(dir, "none.crt"), key: ecKeyFile},
		{name: "cert path under a file (ENOTDIR)", cert: filepath.Join(caFile, "x"), key: ecKeyFile},
		{name: "no home directory", cert: "", key: ""},
		{name: "key missing", cert: chainFile, key: filepath.Join(dir, "none.key"),
			want: strings.ReplaceAll(libpq["key-missing"], "KEY", filepath.Join(dir, "none.key"))},
		{name: "mismatch", cert: caFile, key: ecKeyFile, password: pw,
			want: `certificate does not match private key file "` + ecKeyFile + `": key values mismatch`, wantReason: KeyMismatch},
		{name: "not a certificate", cert: garbage, key: ecKeyFile, password: pw,
			want: `could not read certificate file "` + garbage + `": no PEM certificate found`},
		{name: "no password", cert: chainFile, key: ecKeyFile, is: ErrPasswordRequired,
			want: `could not load private key file "` + ecKeyFile + `": ` + ErrPasswordRequired.Error()},
		{name: "wrong password", cert: chainFile, key: ecKeyFile, password: "nope", is: ErrIncorrectPassword,
			want: strings.ReplaceAll(libpq["wrong-password-pbes2-aes-256-cbc"], "KEY", ecKeyFile)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newClientCertSource(tt.cert, tt.key, false, tt.password, nil).certificate(ctx)
			if tt.want == "" {
				if c != nil || err != nil {
					t.Fatalf("got (%v, %v), want (nil, nil)", c, err)
				}
				return
			}
			if err == nil || libpqText(err) != tt.want {
				t.Fatalf("err = %v\nwant %s", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("errors.Is(err, %v) = false", tt.is)
			}
			var kfe *KeyFileError
			if tt.wantReason != 0 && (!errors.As(err, &kfe) || kfe.Reason != tt.wantReason) {
				t.Fatalf("err = %#v, want reason %d", err, tt.wantReason)
			}
			checkNoSecret(t, err, pw)
		})
	}
}

func TestClientCertInline(t *testing.T) {
	pw := fixturePassword(t, "std")
	keyPEM := fixtureBytes(t, "ec256.pkcs8.pbkdf2-sha256.aes-128-cbc.pem")
	certData, leaf := certPEM(t, "pqssl", fixtureSigner(t, "ec256.pkcs8.pem"), nil, nil)
	src := newClientCertSource(string(certData), string(keyPEM), true, pw, nil)
	for range 3 {
		c, err := src.certificate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !c.Leaf.Equal(leaf) {
			t.Fatal("wrong certificate")
		}
	}
	if n := src.keyLoads.Load(); n != 1 {
		t.Fatalf("inline key decrypted %d times, want 1", n)
	}
	// Errors name the parameter, never the PEM data.
	_, err := newClientCertSource(string(certData), string(keyPEM), true, "wrong", nil).certificate(context.Background())
	if err == nil || libpqText(err) != `could not load private key file "sslkey": bad decrypt` {
		t.Fatalf("err = %v", err)
	}
}

// The source is what a tls.Config wants.
var _ = func(s *clientCertSource) (*tls.Certificate, error) { return s.certificate(context.Background()) }

// TestClientCertWaitersDeadlines holds a key load in the password function
// while callers with different deadlines wait for it: each returns at its
// own deadline with the context's error, the load goes on, and the first
// caller after it completes gets the key without a second decryption.
func TestClientCertWaitersDeadlines(t *testing.T) {
	pw := fixturePassword(t, "std")
	f := newCertFiles(t)
	release := make(chan struct{})
	var asked atomic.Int32
	src := newClientCertSource(f.cert, f.key, false, "", func(ctx context.Context, keyFile string) (string, error) {
		asked.Add(1)
		<-release
		return pw, nil
	})
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i+1)*50*time.Millisecond)
			defer cancel()
			_, errs[i] = src.certificate(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("caller %d: %v, want its own deadline", i, err)
		}
	}
	close(release)
	if c, err := src.certificate(context.Background()); err != nil || c == nil {
		t.Fatalf("after the load: %v", err)
	}
	if n, a := src.keyLoads.Load(), asked.Load(); n != 1 || a != 1 {
		t.Errorf("%d key loads, %d password requests; want 1 and 1", n, a)
	}
}
