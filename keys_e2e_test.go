package pqssl

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
	"github.com/youmark/pkcs8"
)

// The tests in this file load client keys end to end: a real server with
// certificate authentication, pqssl on one side and, where psql is
// installed, libpq on the other as the referee.

// certAuthHBA accepts TLS connections with a client certificate only, so
// that a session proves the key was loaded and used.
var certAuthHBA = []string{
	"hostssl all all 127.0.0.1/32 cert",
	"hostssl all all ::1/128 cert",
}

// clientCA is the CA of every client certificate in this file, made once
// per process: an ECDSA root signs quickly.
var clientCA = sync.OnceValues(func() (*testpki.Cert, error) {
	return testpki.NewRoot(testpki.Spec{CommonName: "pqssl client key tests CA"})
})

// certAuthServer switches the shared cluster to certificate authentication
// with clientCA and returns it with the CA. The cluster goes back to its
// default configuration when tb ends.
func certAuthServer(tb testing.TB) (*pgtest.Cluster, *testpki.Cert) {
	tb.Helper()
	cluster := pgtest.Shared(tb)
	ca, err := clientCA()
	if err != nil {
		tb.Fatal(err)
	}
	o := pgtest.DefaultOptions()
	o.CA = ca.CertPEM
	o.HBA = certAuthHBA
	if err := cluster.Apply(o); err != nil {
		tb.Fatalf("server set-up: %v", err)
	}
	return cluster, ca
}

// issueClientCert returns a PEM certificate with CN "postgres" (the user
// the tests log in as) for pub, signed by ca, with its serial number. It
// needs only the public key, so that fixtures pqssl cannot load get a
// certificate too.
func issueClientCert(tb testing.TB, ca *testpki.Cert, pub crypto.PublicKey) ([]byte, *big.Int) {
	tb.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 100))
	if err != nil {
		tb.Fatal(err)
	}
	serial.Add(serial, big.NewInt(1)) // never zero
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: pgtest.Superuser},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		tb.Fatalf("issuing a client certificate: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), serial
}

// quoteConnValue quotes s as a value of a libpq key=value connection
// string: in single quotes, with backslash and quote escaped by a
// backslash.
func quoteConnValue(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// certDSN is the connection string of the tests: TLS without server
// verification, user postgres, the given certificate and key, and
// sslpassword when pw is not empty.
func certDSN(cluster *pgtest.Cluster, certFile, keyFile, pw string) string {
	dsn := fmt.Sprintf("host=%s port=%d user=%s dbname=postgres sslmode=require connect_timeout=10 sslcert=%s sslkey=%s",
		cluster.Host, cluster.Port, pgtest.Superuser, quoteConnValue(certFile), quoteConnValue(keyFile))
	if pw != "" {
		dsn += " sslpassword=" + quoteConnValue(pw)
	}
	return dsn
}

// pqsslSession connects through pqssl with a new Connector and returns what
// the server saw of the session.
func pqsslSession(dsn string, opts ...Option) (pgtest.Session, error) {
	c, err := NewConnector(dsn, opts...)
	if err != nil {
		return pgtest.Session{}, err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return pgtest.QuerySession(ctx, db)
}

// libpqVerdict is the outcome of one psql run: the session when it
// connected, libpq's message when not.
type libpqVerdict struct {
	ok      bool
	session pgtest.Session
	msg     string
	broken  error // psql could not be run, was killed, or printed nonsense
}

func runLibpq(dsn, home string) libpqVerdict { return runLibpqOf(nil, dsn, home) }

// runLibpqOf is runLibpq with the psql of installation bin.
func runLibpqOf(bin *pgtest.Binaries, dsn, home string) libpqVerdict {
	r := pgtest.Psql{Bin: bin, ConnInfo: dsn, Env: map[string]string{"HOME": home, "PGCONNECT_TIMEOUT": "10"}}.Run(context.Background())
	if r.Err != nil {
		return libpqVerdict{broken: errors.New(r.String())}
	}
	if !r.OK {
		return libpqVerdict{msg: strings.TrimSpace(r.Stderr)}
	}
	s, err := r.Session()
	if err != nil {
		return libpqVerdict{broken: err}
	}
	return libpqVerdict{ok: true, session: s}
}

// fixtureRun is what became of one manifest row.
type fixtureRun struct {
	row      keyFixture
	keyFile  string
	serial   string // of the certificate for the row's key
	pqErr    error
	pqSess   pgtest.Session
	pqWrong  error // with the wrong password; only for encrypted rows
	libpq    *libpqVerdict
	libpqBad *libpqVerdict // with the wrong password
	libpq18  *libpqVerdict // libpq 18's, where it is installed
}

// wrongPassword differs from every fixture password but has the same
// awkward characters, so that it is quoted the same way.
const wrongPassword = `pa ss'wo\rd?`

// TestClientKeyFixtures connects with every key of testdata/keys (written
// by the openssl CLI) through pqssl and through libpq against a server that
// requires a client certificate. Every key libpq loads must work through
// pqssl; libpq must still give the verdict recorded in the manifest; with a
// wrong password both must fail, pqssl with "bad decrypt".
func TestClientKeyFixtures(t *testing.T) {
	rows := readManifest(t)
	passwords := map[string]string{"std": fixturePassword(t, "std"), "utf8": fixturePassword(t, "utf8")}

	t.Run("password quoting", func(t *testing.T) {
		for _, pw := range []string{passwords["std"], passwords["utf8"], wrongPassword, `\`, `'`, `\'`, ` `, `a\\b`, `''`} {
			dsn := "host=127.0.0.1 sslpassword=" + quoteConnValue(pw)
			cfg, err := parseConfig(dsn, func(string) (string, bool) { return "", false })
			if err != nil {
				t.Errorf("parsing the quoted password: %v", err)
				continue
			}
			if cfg.sslpassword != pw {
				// Printing the test passwords is harmless.
				t.Errorf("sslpassword %q quoted as %s reads back as %q", pw, quoteConnValue(pw), cfg.sslpassword)
			}
		}
	})

	cluster, ca := certAuthServer(t)
	haveLibpq := psqlAvailable(t)
	libpq18 := pgtest.OptionalInstallation(t, 18)
	home := t.TempDir() // no ~/.postgresql: sslmode=require verifies nothing
	t.Setenv("HOME", home)
	dir := t.TempDir()

	// One certificate per base key, for its public key.
	certFiles, serials := map[string]string{}, map[string]string{}
	for _, r := range rows {
		if _, ok := certFiles[r.key]; ok {
			continue
		}
		certPEM, serial := issueClientCert(t, ca, fixturePublicKey(t, r.key))
		certFiles[r.key] = testpki.WriteFile(t, filepath.Join(dir, r.key+".crt"), certPEM, 0o644)
		serials[r.key] = serial.String()
	}

	runs := make([]*fixtureRun, len(rows))
	for i, r := range rows {
		data, err := os.ReadFile(filepath.Join(keysDir, "fixtures", r.file))
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = &fixtureRun{
			row:     r,
			keyFile: testpki.WriteFile(t, filepath.Join(dir, r.file), data, 0o600),
			serial:  serials[r.key],
		}
	}

	// psql and the backends dominate; a few workers keep the cores busy
	// while some wait on the server.
	start := time.Now()
	work := make(chan *fixtureRun)
	var wg sync.WaitGroup
	for range min(2*runtime.NumCPU(), 8) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fr := range work {
				r := fr.row
				pw := passwords[r.password]
				cert := certFiles[r.key]
				dsn := certDSN(cluster, cert, fr.keyFile, pw)
				fr.pqSess, fr.pqErr = pqsslSession(dsn)
				wrongDSN := ""
				if r.encrypted {
					wrongDSN = certDSN(cluster, cert, fr.keyFile, wrongPassword)
					_, fr.pqWrong = pqsslSession(wrongDSN)
				}
				if !haveLibpq {
					continue
				}
				v := runLibpq(dsn, home)
				fr.libpq = &v
				if libpq18 != nil {
					v := runLibpqOf(libpq18, dsn, home)
					fr.libpq18 = &v
				}
				if r.encrypted {
					v := runLibpq(wrongDSN, home)
					fr.libpqBad = &v
				}
			}
		}()
	}
	for _, fr := range runs {
		work <- fr
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)

	var libpqLoads, pqsslLoads, extras, wrongChecked, checked18 int
	extraKinds := map[string]int{} // scheme of the keys only pqssl loads
	for _, fr := range runs {
		r := fr.row
		pqOK := fr.pqErr == nil
		if !pqOK && !r.libpqLoads && r.note != "" {
			// Where both fail, pqssl's message starts as libpq's does.
			want := strings.ReplaceAll(r.note, `"key"`, strconv.Quote(fr.keyFile))
			if !strings.Contains(fr.pqErr.Error(), want) {
				t.Errorf("%s: pqssl says %q, libpq %q", r.file, fr.pqErr, want)
			}
		}
		if pqOK {
			pqsslLoads++
			if !fr.pqSess.SSL || fr.pqSess.ClientSerial != fr.serial {
				t.Errorf("%s: pqssl session %+v does not show the client certificate %s", r.file, fr.pqSess, fr.serial)
			}
		} else {
			checkNoPassword(t, r.file, fr.pqErr, passwords[r.password])
		}

		if v := fr.libpq18; v != nil {
			checked18++
			if v.broken != nil || v.ok != r.libpqLoads {
				t.Errorf("%s: libpq 18 loads: %v (%s %v), the manifest (libpq 15) says %v", r.file, v.ok, v.msg, v.broken, r.libpqLoads)
			}
		}
		libpqOK := r.libpqLoads // the manifest's verdict, without psql
		if v := fr.libpq; v != nil {
			if v.broken != nil {
				t.Errorf("%s: psql: %v", r.file, v.broken)
				continue
			}
			libpqOK = v.ok
			if v.ok != r.libpqLoads {
				t.Errorf("%s: libpq loads: %v, the manifest says %v (%s)", r.file, v.ok, r.libpqLoads, v.msg)
			}
			if v.ok && v.session.ClientSerial != fr.serial {
				t.Errorf("%s: libpq session %+v does not show the client certificate %s", r.file, v.session, fr.serial)
			}
			if !v.ok && r.note != "" {
				want := strings.ReplaceAll(r.note, `"key"`, strconv.Quote(fr.keyFile))
				if !strings.Contains(v.msg, want) {
					t.Errorf("%s: libpq says %q, the manifest %q", r.file, v.msg, want)
				}
			}
		}
		if libpqOK {
			libpqLoads++
			if !pqOK {
				t.Errorf("%s: libpq loads the key, pqssl fails: %v", r.file, fr.pqErr)
			}
		} else if pqOK {
			extras++
			kind := r.scheme
			if strings.HasSuffix(r.file, ".der") {
				kind = "DER " + kind
			}
			extraKinds[kind]++
		}

		if r.encrypted {
			wrongChecked++
			if fr.pqWrong == nil {
				t.Errorf("%s: pqssl connected with a wrong password", r.file)
			} else {
				checkNoPassword(t, r.file, fr.pqWrong, wrongPassword)
				if pqOK && !errors.Is(fr.pqWrong, ErrIncorrectPassword) {
					t.Errorf("%s: pqssl with a wrong password: %v, want %q", r.file, fr.pqWrong, ErrIncorrectPassword)
				}
			}
			if v := fr.libpqBad; v != nil {
				switch {
				case v.broken != nil:
					t.Errorf("%s: psql with a wrong password: %v", r.file, v.broken)
				case v.ok:
					t.Errorf("%s: libpq connected with a wrong password", r.file)
				}
			}
		}
	}
	libpqSrc := "live, psql"
	if !haveLibpq {
		libpqSrc = "from the manifest: psql not installed"
	}
	if checked18 > 0 {
		libpqSrc += fmt.Sprintf("; libpq 18 agrees on %d", checked18)
	}
	t.Logf("%d fixtures in %v: libpq loads %d (%s), pqssl loads %d, pqssl only %d; %d encrypted ones also tried with a wrong password",
		len(runs), elapsed.Round(time.Millisecond), libpqLoads, libpqSrc, pqsslLoads, extras, wrongChecked)
	if len(extraKinds) > 0 {
		kinds := make([]string, 0, len(extraKinds))
		for k, n := range extraKinds {
			kinds = append(kinds, fmt.Sprintf("%s (%d)", k, n))
		}
		slices.Sort(kinds)
		t.Logf("schemes of the keys pqssl loads and libpq does not: %s", strings.Join(kinds, ", "))
	}
}

// checkNoPassword reports an error text that contains the password.
func checkNoPassword(t *testing.T, what string, err error, pw string) {
	t.Helper()
	if pw != "" && strings.Contains(err.Error(), pw) {
		t.Errorf("%s: error text contains the password: %v", what, err)
	}
}

// TestClientKeyPermissions gives the key file the usual modes, owned by the
// current user and (when running as root) by another one, and checks that
// pqssl accepts exactly the files libpq accepts.
func TestClientKeyPermissions(t *testing.T) {
	cluster, ca := certAuthServer(t)
	haveLibpq := psqlAvailable(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := t.TempDir()

	leaf := ca.MustIssue(t, testpki.Spec{CommonName: pgtest.Superuser, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	certFile := testpki.WriteFile(t, filepath.Join(dir, "client.crt"), leaf.CertPEM, 0o644)

	owners := []keyOwner{{"current user", -1, -1}}
	if os.Geteuid() == 0 {
		owners[0].name = "root"
		other, err := otherUser()
		if err != nil {
			pgtest.SkipOrFatal(t, "no user other than root to own a key file: %v", err)
		}
		owners = append(owners, other)
	} else {
		t.Log("not running as root: the keys owned by another user are not tried")
	}

	var checked int
	for _, o := range owners {
		rootOwned := o.uid == 0 || o.uid < 0 && os.Geteuid() == 0
		for _, mode := range []os.FileMode{0o400, 0o600, 0o700, 0o640, 0o660, 0o604, 0o644} {
			t.Run(fmt.Sprintf("%s %04o", o.name, mode), func(t *testing.T) {
				keyFile := testpki.WriteFile(t, filepath.Join(dir, fmt.Sprintf("client-%d-%o.key", o.uid, mode)), leaf.KeyPEM, mode)
				if o.uid >= 0 {
					if err := os.Chown(keyFile, o.uid, o.gid); err != nil {
						t.Fatal(err)
					}
				}
				dsn := certDSN(cluster, certFile, keyFile, "")

				// The rule as the reference states it; where psql runs,
				// libpq's verdict is the one pqssl must give.
				want := mode&0o077 == 0 || rootOwned && mode&0o037 == 0
				var v libpqVerdict
				if haveLibpq {
					if v = runLibpq(dsn, home); v.broken != nil {
						t.Fatalf("psql: %v", v.broken)
					}
					if v.ok != want {
						t.Errorf("libpq connects: %v (%s); the reference's rule says %v", v.ok, v.msg, want)
					}
					want = v.ok
				}

				_, err := pqsslSession(dsn)
				if got := err == nil; got != want {
					t.Errorf("pqssl connects: %v (%v), libpq: %v", got, err, want)
				}
				var kfe *KeyFileError
				if err != nil && (!errors.As(err, &kfe) || kfe.Reason != KeyPermissions || kfe.Path != keyFile) {
					t.Errorf("pqssl error %v is not a KeyFileError with reason KeyPermissions for the key file", err)
				}
				if haveLibpq && !v.ok && err != nil && !strings.Contains(v.msg, libpqText(err)) {
					t.Errorf("messages differ:\nlibpq: %s\npqssl: %v", v.msg, err)
				}
				checked++
			})
		}
	}
	t.Logf("%d owner and mode combinations checked", checked)
}

// keyOwner is the owner given to a key file.
type keyOwner struct {
	name     string
	uid, gid int // -1: leave as created
}

// otherUser returns a system user other than root, to own key files: the
// server's postgres account, else nobody.
func otherUser() (o keyOwner, err error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, lerr := user.Lookup(name)
		if lerr != nil {
			err = errors.Join(err, lerr)
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		o.name, o.uid, o.gid = name, uid, gid
		return o, nil
	}
	return o, err
}

// testKeyIterations is the PBKDF2 iteration count of the encrypted keys
// made by the tests: a real key derivation, yet quick enough that the tests
// stay fast.
const testKeyIterations = 100_000

// encryptedKeyPEM returns key as an "ENCRYPTED PRIVATE KEY" (PKCS #8,
// PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC), with the given iteration
// count.
func encryptedKeyPEM(tb testing.TB, key crypto.Signer, password string, iterations int) []byte {
	tb.Helper()
	der, err := pkcs8.MarshalPrivateKey(key, []byte(password), &pkcs8.Opts{
		Cipher:  pkcs8.AES256CBC,
		KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 16, IterationCount: iterations, HMACHash: crypto.SHA256},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
}

// newClientKey returns a fresh ECDSA key with a client certificate for it.
func newClientKey(tb testing.TB, ca *testpki.Cert) (crypto.Signer, []byte, *big.Int) {
	tb.Helper()
	key, err := testpki.NewKey(testpki.P256)
	if err != nil {
		tb.Fatal(err)
	}
	certPEM, serial := issueClientCert(tb, ca, key.Public())
	return key, certPEM, serial
}

// sessionSerial opens a new connection from db (which keeps no idle
// connection) and returns the serial of the client certificate it
// presented.
func sessionSerial(t *testing.T, db *sql.DB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := pgtest.QuerySession(ctx, db)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	return s.ClientSerial
}

// TestClientCertRotation replaces the client certificate and key under a
// running Connector, as a certificate renewal job does, and checks that the
// next connection presents the new certificate while an unchanged key is
// decrypted only once.
func TestClientCertRotation(t *testing.T) {
	cluster, ca := certAuthServer(t)
	t.Setenv("HOME", t.TempDir())
	dir := t.TempDir()
	const pw = `rotate me\'`
	certFile, keyFile := filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")

	key1, cert1, serial1 := newClientKey(t, ca)
	testpki.WriteFile(t, certFile, cert1, 0o644)
	testpki.WriteFile(t, keyFile, encryptedKeyPEM(t, key1, pw, testKeyIterations), 0o600)

	c, err := NewConnector(certDSN(cluster, certFile, keyFile, pw))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	db.SetMaxIdleConns(0) // every query opens a new connection

	for i := range 3 {
		if got := sessionSerial(t, db); got != serial1.String() {
			t.Fatalf("connection %d: client serial %s, want %s", i+1, got, serial1)
		}
	}
	if n := c.clientCerts.keyLoads.Load(); n != 1 {
		t.Errorf("3 connections with unchanged files loaded the key %d times, want 1", n)
	}

	// Renewal: new key and certificate, each written to a temporary file
	// and renamed over the old one.
	key2, cert2, serial2 := newClientKey(t, ca)
	replaceFileMode(t, keyFile, encryptedKeyPEM(t, key2, pw, testKeyIterations), 0o600)
	replaceFileMode(t, certFile, cert2, 0o644)
	for i := range 3 {
		if got := sessionSerial(t, db); got != serial2.String() {
			t.Fatalf("connection %d after rotation: client serial %s, want %s", i+1, got, serial2)
		}
	}
	if n := c.clientCerts.keyLoads.Load(); n != 2 {
		t.Errorf("key loads after rotation and 3 connections: %d, want 2", n)
	}

	// Renewal of the certificate alone, for the same key.
	cert3, serial3 := issueClientCert(t, ca, key2.Public())
	replaceFileMode(t, certFile, cert3, 0o644)
	if got := sessionSerial(t, db); got != serial3.String() {
		t.Fatalf("after renewing the certificate alone: client serial %s, want %s", got, serial3)
	}
	if n := c.clientCerts.keyLoads.Load(); n != 2 {
		t.Errorf("key loads after renewing the certificate alone: %d, want 2 (the key file did not change)", n)
	}
}

// replaceFileMode writes data to a temporary file next to path, with the
// given mode, and renames it over path.
func replaceFileMode(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	tmp := testpki.WriteFile(t, path+".tmp", data, mode)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestSSLPasswordFunc checks WithSSLPasswordFunc against a real server:
// when it is asked, how often, and what becomes of its errors.
func TestSSLPasswordFunc(t *testing.T) {
	cluster, ca := certAuthServer(t)
	t.Setenv("HOME", t.TempDir())
	dir := t.TempDir()
	const pw = `func pa'ss\word`
	key, certPEM, serial := newClientKey(t, ca)
	certFile := testpki.WriteFile(t, filepath.Join(dir, "client.crt"), certPEM, 0o644)
	keyFile := testpki.WriteFile(t, filepath.Join(dir, "client.key"), encryptedKeyPEM(t, key, pw, testKeyIterations), 0o600)
	noPassword := certDSN(cluster, certFile, keyFile, "")

	// counter is a password function that counts its calls and records
	// the key file it was asked about.
	type counter struct {
		calls   atomic.Int64
		keyFile atomic.Value
	}
	passwordFunc := func(cnt *counter, pw string, err error) Option {
		return WithSSLPasswordFunc(func(ctx context.Context, keyFile string) (string, error) {
			cnt.calls.Add(1)
			cnt.keyFile.Store(keyFile)
			return pw, err
		})
	}
	openDB := func(t *testing.T, dsn string, opts ...Option) *sql.DB {
		t.Helper()
		c, err := NewConnector(dsn, opts...)
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(c)
		db.SetMaxIdleConns(0)
		t.Cleanup(func() { db.Close() })
		return db
	}
	ping := func(db *sql.DB) error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return db.PingContext(ctx)
	}

	t.Run("supplies the password once", func(t *testing.T) {
		var cnt counter
		db := openDB(t, noPassword, passwordFunc(&cnt, pw, nil))
		for i := range 5 {
			if got := sessionSerial(t, db); got != serial.String() {
				t.Fatalf("connection %d: client serial %s, want %s", i+1, got, serial)
			}
		}
		if n := cnt.calls.Load(); n != 1 {
			t.Errorf("password function called %d times for 5 connections, want 1", n)
		}
		if got, _ := cnt.keyFile.Load().(string); got != keyFile {
			t.Errorf("password function got key file %q, want %q", got, keyFile)
		}
	})

	t.Run("its error surfaces", func(t *testing.T) {
		var cnt counter
		errVault := errors.New("secret store unreachable")
		db := openDB(t, noPassword, passwordFunc(&cnt, pw, errVault))
		for range 2 {
			err := ping(db)
			if !errors.Is(err, errVault) {
				t.Fatalf("got %v, want the password function's error", err)
			}
			var kfe *KeyFileError
			if !errors.As(err, &kfe) || kfe.Path != keyFile {
				t.Errorf("error %v is not a KeyFileError for %s", err, keyFile)
			}
			checkNoPassword(t, "password function error", err, pw)
		}
		// A failure is not remembered: the next connection asks again.
		if n := cnt.calls.Load(); n != 2 {
			t.Errorf("password function called %d times for 2 failed connections, want 2", n)
		}
	})

	t.Run("a wrong password from it", func(t *testing.T) {
		var cnt counter
		db := openDB(t, noPassword, passwordFunc(&cnt, wrongPassword, nil))
		err := ping(db)
		if !errors.Is(err, ErrIncorrectPassword) {
			t.Errorf("got %v, want %q", err, ErrIncorrectPassword)
		} else {
			checkNoPassword(t, "wrong password", err, wrongPassword)
		}
	})

	t.Run("an empty password from it", func(t *testing.T) {
		var cnt counter
		db := openDB(t, noPassword, passwordFunc(&cnt, "", nil))
		if err := ping(db); !errors.Is(err, ErrPasswordRequired) {
			t.Errorf("got %v, want %q", err, ErrPasswordRequired)
		}
	})

	t.Run("sslpassword wins", func(t *testing.T) {
		var cnt counter
		db := openDB(t, certDSN(cluster, certFile, keyFile, pw), passwordFunc(&cnt, wrongPassword, nil))
		if got := sessionSerial(t, db); got != serial.String() {
			t.Fatalf("client serial %s, want %s", got, serial)
		}
		if n := cnt.calls.Load(); n != 0 {
			t.Errorf("password function called %d times though sslpassword was given", n)
		}
	})

	t.Run("no password at all", func(t *testing.T) {
		db := openDB(t, noPassword)
		start := time.Now()
		err := ping(db)
		if !errors.Is(err, ErrPasswordRequired) {
			t.Fatalf("got %v, want %q", err, ErrPasswordRequired)
		}
		if !strings.Contains(err.Error(), keyFile) || !strings.Contains(err.Error(), "password") {
			t.Errorf("error %q does not name the key file and the missing password", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("failing took %v", d)
		}
	})

	t.Run("no password at all, with a terminal", func(t *testing.T) {
		runWithTerminal(t, noPassword)
	})
}

// The child process of runWithTerminal runs TestSSLPasswordTerminalChild
// with these variables set.
const (
	terminalChildEnv = "PQSSL_TEST_TERMINAL_CHILD_DSN"
	terminalHomeEnv  = "PQSSL_TEST_TERMINAL_CHILD_HOME"
)

// runWithTerminal connects with dsn, whose key is encrypted and which gives
// no password, in a child process that has a controlling terminal (made by
// script(1)), whose input is never written to. OpenSSL would prompt there,
// and libpq with it; pqssl must fail at once without a prompt.
func runWithTerminal(t *testing.T, dsn string) {
	script, err := exec.LookPath("script")
	if err != nil {
		pgtest.SkipOrFatal(t, "script(1), to run a test under a terminal, is not installed")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	child := shellQuote(exe) + " -test.run='^TestSSLPasswordTerminalChild$' -test.count=1 -test.v"
	cmd := exec.CommandContext(ctx, script, "-q", "-e", "-c", child, "/dev/null")
	cmd.Env = append(os.Environ(), terminalChildEnv+"="+dsn, terminalHomeEnv+"="+os.Getenv("HOME"))
	// A pipe nobody writes to: a prompt would wait on it forever.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)
	text := out.String()
	if ctx.Err() != nil {
		t.Fatalf("the child hung (killed after %v); its output:\n%s", d, text)
	}
	if strings.Contains(text, "CHILD: no terminal") {
		pgtest.SkipOrFatal(t, "script(1) gave the child no controlling terminal")
	}
	if err != nil || !strings.Contains(text, "CHILD: password required") {
		t.Fatalf("child: %v; its output:\n%s", err, text)
	}
	if strings.Contains(strings.ToLower(text), "pass phrase") {
		t.Errorf("the child prompted for a pass phrase:\n%s", text)
	}
	t.Logf("with a controlling terminal, pqssl failed without a prompt (child ran %v)", d.Round(time.Millisecond))
}

// TestSSLPasswordTerminalChild is the child process of runWithTerminal; it
// does nothing in a normal test run.
func TestSSLPasswordTerminalChild(t *testing.T) {
	dsn := os.Getenv(terminalChildEnv)
	if dsn == "" {
		t.Skip("runs only as the child of TestSSLPasswordFunc")
	}
	t.Setenv("HOME", os.Getenv(terminalHomeEnv))
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		fmt.Println("CHILD: no terminal:", err)
		return
	}
	tty.Close()
	if _, err := pqsslSession(dsn); errors.Is(err, ErrPasswordRequired) {
		fmt.Println("CHILD: password required")
	} else {
		t.Errorf("CHILD: got %v, want %q", err, ErrPasswordRequired)
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
