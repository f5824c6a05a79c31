package pqssl

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

// connsPerOp is the number of new connections each iteration of the
// Connect benchmarks opens: "200 new connections" per op.
const connsPerOp = 200

// benchKeys sets the shared cluster up for certificate authentication and
// writes a client certificate and its key twice: unencrypted, and
// encrypted as PKCS #8 PBES2 with PBKDF2-HMAC-SHA256 at 600,000 iterations
// and AES-256-CBC (with password benchPassword).
func benchKeys(b *testing.B) (cluster *pgtest.Cluster, certFile, plainFile, encFile string) {
	b.Helper()
	cluster, ca := certAuthServer(b)
	dir := b.TempDir()
	key, certPEM, _ := newClientKey(b, ca)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		b.Fatal(err)
	}
	certFile = testpki.WriteFile(b, filepath.Join(dir, "client.crt"), certPEM, 0o644)
	plainFile = testpki.WriteFile(b, filepath.Join(dir, "plain.key"),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	encFile = testpki.WriteFile(b, filepath.Join(dir, "pbkdf2-600k.key"),
		encryptedKeyPEM(b, key, benchPassword, 600_000), 0o600)
	return cluster, certFile, plainFile, encFile
}

// benchPassword is the password of the encrypted benchmark key.
const benchPassword = `bench pa'ss\word`

// benchConnector returns a Connector for the key, after one connection
// through it: that one loads (and decrypts) the key, which a long-lived
// program does once. Its duration is logged.
func benchConnector(b *testing.B, dsn string) *Connector {
	b.Helper()
	c, err := NewConnector(dsn)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	cn, err := c.Connect(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	cn.Close()
	b.Logf("first connection, which loads the key: %v", time.Since(start).Round(time.Microsecond))
	return c
}

// connectClose opens a new connection through c and closes it.
func connectClose(b *testing.B, c *Connector) {
	cn, err := c.Connect(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	cn.Close()
}

// BenchmarkConnect200 opens 200 new connections per iteration (ns/op is
// the time for all 200; ns/conn for one) through one Connector, each with
// a full TLS handshake and certificate authentication against a real
// server, once with an unencrypted client key and once with the same key
// encrypted as PKCS #8 PBES2, PBKDF2-HMAC-SHA256 at 600,000 iterations
// and AES-256-CBC. The Connector keeps the decrypted key, so a long-lived
// program pays for the key derivation once, not per connection: the two
// must cost the same. The first connection of each Connector, which
// decrypts the key, is made before timing starts and its duration logged.
//
// Compare the two with benchstat:
//
//	go test -run '^$' -bench Connect -count 6 . | tee bench.txt
//	benchstat -col /key bench.txt
//
// On a busy machine the two sub-benchmarks, which run one after the other,
// see different loads; BenchmarkConnectPaired is immune to that.
func BenchmarkConnect200(b *testing.B) {
	cluster, certFile, plainFile, encFile := benchKeys(b)
	b.Setenv("HOME", b.TempDir())
	for _, bc := range []struct{ name, keyFile, pw string }{
		{"key=unencrypted", plainFile, ""},
		{"key=pbkdf2-600k", encFile, benchPassword},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := benchConnector(b, certDSN(cluster, certFile, bc.keyFile, bc.pw))
			for b.Loop() {
				for range connsPerOp {
					connectClose(b, c)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*connsPerOp), "ns/conn")
			if n := c.clientCerts.keyLoads.Load(); n != 1 {
				b.Errorf("the key was loaded %d times, want once", n)
			}
		})
	}
}

// BenchmarkConnectPaired opens 200 new connections per iteration, taking
// turns (plain, encrypted, encrypted, plain) between a Connector with the unencrypted key and one with the
// PBKDF2-600k key of BenchmarkConnect200, and reports the time per
// connection of each and their ratio (pbkdf2/unencrypted, 1 when the
// encrypted key costs nothing per connection). Taking turns exposes both
// to the same load, so the ratio holds on a busy machine.
func BenchmarkConnectPaired(b *testing.B) {
	cluster, certFile, plainFile, encFile := benchKeys(b)
	b.Setenv("HOME", b.TempDir())
	plain := benchConnector(b, certDSN(cluster, certFile, plainFile, ""))
	enc := benchConnector(b, certDSN(cluster, certFile, encFile, benchPassword))
	timed := func(c *Connector) time.Duration {
		start := time.Now()
		connectClose(b, c)
		return time.Since(start)
	}
	var tPlain, tEnc time.Duration
	for b.Loop() {
		// In the order plain, enc, enc, plain: a connection's cost
		// depends a little on its place (the server is still cleaning
		// up after the previous one), which this order cancels.
		for range connsPerOp / 4 {
			tPlain += timed(plain)
			tEnc += timed(enc)
			tEnc += timed(enc)
			tPlain += timed(plain)
		}
	}
	n := float64(b.N * connsPerOp / 2)
	b.ReportMetric(float64(tPlain.Nanoseconds())/n, "ns/conn-unencrypted")
	b.ReportMetric(float64(tEnc.Nanoseconds())/n, "ns/conn-pbkdf2")
	b.ReportMetric(float64(tEnc)/float64(tPlain), "pbkdf2/unencrypted")
	for _, c := range []*Connector{plain, enc} {
		if n := c.clientCerts.keyLoads.Load(); n != 1 {
			b.Errorf("a key was loaded %d times, want once", n)
		}
	}
}

// BenchmarkLibpqConnect20 is the referee for BenchmarkConnect200: libpq
// (pgbench -C, a new connection per transaction) opening 20 new
// connections per iteration with the same kind of keys. libpq reads and
// decrypts the key for every connection, so its cost per connection grows
// by the whole key derivation. ns/conn is pgbench's own "average
// connection time"; ns/op includes starting pgbench.
func BenchmarkLibpqConnect20(b *testing.B) {
	bin := pgtest.Require(b)
	pgbench := filepath.Join(filepath.Dir(bin.Psql), "pgbench")
	if _, err := os.Stat(pgbench); err != nil {
		pgtest.SkipOrFatal(b, "pgbench not found next to psql: %v", err)
	}
	cluster, certFile, plainFile, encFile := benchKeys(b)
	home := b.TempDir()
	dir := b.TempDir()
	// A transaction that sends nothing: the connection is all there is.
	script := testpki.WriteFile(b, filepath.Join(dir, "empty.sql"), []byte("\\set x 1\n"), 0o644)

	const conns = 20
	connTime := regexp.MustCompile(`average connection time = ([0-9.]+) ms`)
	for _, bc := range []struct{ name, keyFile, pw string }{
		{"key=unencrypted", plainFile, ""},
		{"key=pbkdf2-600k", encFile, benchPassword},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dsn := certDSN(cluster, certFile, bc.keyFile, bc.pw)
			var total float64
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				cmd := exec.CommandContext(ctx, pgbench, "-n", "-C", "-c", "1", "-t", strconv.Itoa(conns), "-f", script, dsn)
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=C"}
				// No terminal and no input: OpenSSL must not prompt.
				cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
				out, err := cmd.CombinedOutput()
				cancel()
				if err != nil {
					b.Fatalf("pgbench: %v\n%s", err, out)
				}
				m := connTime.FindSubmatch(out)
				if m == nil {
					b.Fatalf("no connection time in pgbench's output:\n%s", out)
				}
				ms, _ := strconv.ParseFloat(string(m[1]), 64)
				total += ms
			}
			b.ReportMetric(total*1e6/float64(b.N), "ns/conn")
		})
	}
}
