package pqssl

import (
	"bufio"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/youmark/pkcs8"
)

const keysDir = "testdata/keys"

// keyFixture is one row of testdata/keys/manifest.tsv.
type keyFixture struct {
	file, key, format, scheme string
	encrypted                 bool
	password                  string // "std", "utf8" or "-"
	libpqLoads                bool
	note                      string
}

func readManifest(t testing.TB) []keyFixture {
	t.Helper()
	f, err := os.Open(filepath.Join(keysDir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []keyFixture
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if cols[0] == "file" {
			continue
		}
		if len(cols) != 8 {
			t.Fatalf("manifest: bad row %q", sc.Text())
		}
		rows = append(rows, keyFixture{
			file: cols[0], key: cols[1], format: cols[2], scheme: cols[3],
			encrypted: cols[4] == "yes", password: cols[5],
			libpqLoads: cols[6] == "yes", note: cols[7],
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 300 {
		t.Fatalf("manifest has only %d rows", len(rows))
	}
	return rows
}

// fixturePassword returns the password a fixture was encrypted with.
func fixturePassword(t testing.TB, which string) string {
	t.Helper()
	name := "password.txt"
	if which == "utf8" {
		name = "password-utf8.txt"
	}
	b, err := os.ReadFile(filepath.Join(keysDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

func fixturePublicKey(t testing.TB, key string) crypto.PublicKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(keysDir, "pub", key+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func constPassword(pw string) func() (string, error) {
	return func() (string, error) { return pw, nil }
}

// TestLoadPrivateKeyMatrix loads every fixture that the openssl CLI wrote:
// whatever libpq loads must load, with the same password, and give the
// expected key; a wrong password must give libpq's "bad decrypt".
func TestLoadPrivateKeyMatrix(t *testing.T) {
	rows := readManifest(t)
	std := fixturePassword(t, "std")
	var libpqN, oursN int
	var extras, missing []string
	for _, r := range rows {
		t.Run(r.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(keysDir, "fixtures", r.file))
			if err != nil {
				t.Fatal(err)
			}
			pw := ""
			if r.encrypted {
				pw = fixturePassword(t, r.password)
			}
			path := "/keys/" + r.file
			key, err := loadPrivateKey(path, data, constPassword(pw))
			if r.libpqLoads {
				libpqN++
			}
			if err != nil {
				checkNoSecret(t, err, pw)
				if r.libpqLoads {
					missing = append(missing, r.file)
					t.Fatalf("libpq loads %s (%s), pqssl: %v", r.file, r.scheme, err)
				}
				return
			}
			oursN++
			if !r.libpqLoads {
				extras = append(extras, r.scheme)
			}
			want := fixturePublicKey(t, r.key)
			if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(want) {
				t.Fatalf("%s: public key differs from pub/%s.pem", r.file, r.key)
			}
			if !r.encrypted {
				return
			}
			wrongs := []string{"wrong", std + "x", "pa ss'wo\\rD"}
			if strings.Contains(r.scheme, "scrypt") || strings.Contains(r.scheme, "600k") {
				wrongs = wrongs[:1] // slow by design
			}
			for _, wrong := range wrongs {
				_, err := loadPrivateKey(path, data, constPassword(wrong))
				if !errors.Is(err, ErrIncorrectPassword) {
					t.Fatalf("wrong password %q: err = %v, want ErrIncorrectPassword", wrong, err)
				}
				if got, want := libpqText(err), `could not load private key file "`+path+`": bad decrypt`; got != want {
					t.Fatalf("wrong password: error %q, want %q", got, want)
				}
				var kfe *KeyFileError
				if !errors.As(err, &kfe) || kfe.Path != path || kfe.Reason != KeyUnloadable {
					t.Fatalf("wrong password: error %#v is not a KeyFileError for %s", err, path)
				}
				checkNoSecret(t, err, pw)
			}
			_, err = loadPrivateKey(path, data, constPassword(""))
			if !errors.Is(err, ErrPasswordRequired) {
				t.Fatalf("no password: err = %v, want ErrPasswordRequired", err)
			}
		})
	}
	sort.Strings(extras)
	t.Logf("matrix: %d fixtures; libpq loads %d; pqssl loads %d; extras (pqssl only): %d", len(rows), libpqN, oursN, len(extras))
	t.Logf("extras: %s", strings.Join(dedupe(extras), ", "))
	if len(missing) > 0 {
		t.Errorf("pqssl fails to load %d keys that libpq loads: %v", len(missing), missing)
	}
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// checkNoSecret fails if err's text contains the password.
func checkNoSecret(t testing.TB, err error, pw string) {
	t.Helper()
	if pw != "" && strings.Contains(err.Error(), pw) {
		t.Fatalf("error text contains the password: %v", err)
	}
}

// TestYoumarkAgrees decrypts the PBES2 fixtures that github.com/youmark/pkcs8
// also handles (PBKDF2 with SHA-1 or SHA-256, or scrypt; AES-CBC or
// 3DES-CBC) with both, as a second opinion on the PBES2 code.
func TestYoumarkAgrees(t *testing.T) {
	n := 0
	for _, r := range readManifest(t) {
		s := r.scheme
		if !strings.HasPrefix(s, "pbes2:") || !(strings.Contains(s, "-cbc") && (strings.Contains(s, "aes-") || strings.Contains(s, "des-ede3"))) {
			continue
		}
		if !(strings.Contains(s, "hmacWithSHA1:") || strings.Contains(s, "hmacWithSHA256:") || strings.Contains(s, "scrypt:")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(keysDir, "fixtures", r.file))
		if err != nil {
			t.Fatal(err)
		}
		if block, _ := pem.Decode(data); block != nil {
			data = block.Bytes
		}
		pw := fixturePassword(t, r.password)
		theirs, err := pkcs8.ParsePKCS8PrivateKey(data, []byte(pw))
		if err != nil {
			t.Fatalf("%s: youmark/pkcs8: %v", r.file, err)
		}
		ours, err := parseDERKey(data, constPassword(pw))
		if err != nil {
			t.Fatalf("%s: %v", r.file, err)
		}
		if !ours.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(theirs.(crypto.Signer).Public()) {
			t.Fatalf("%s: keys differ", r.file)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d fixtures compared", n)
	}
}

func TestLoadPrivateKeyErrors(t *testing.T) {
	rsaPEM, err := os.ReadFile(filepath.Join(keysDir, "fixtures", "rsa.pkcs1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := os.ReadFile(filepath.Join(keysDir, "pub", "rsa.pem"))
	if err != nil {
		t.Fatal(err)
	}
	rc2, err := os.ReadFile(filepath.Join(keysDir, "fixtures", "rsa.pkcs8.PBE-SHA1-RC2-128.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pwErr := errors.New("keychain locked")
	tests := []struct {
		name     string
		data     []byte
		password func() (string, error)
		want     string // error text, "" for success
		is       error
	}{
		{"empty", nil, nil, `could not load private key file "k": ` + errNoKey.Error(), nil},
		{"garbage", []byte("hello"), nil, `could not load private key file "k": ` + errNoKey.Error(), nil},
		{"public key only", pubPEM, nil, `could not load private key file "k": ` + errNoKey.Error(), nil},
		{"key after other blocks", append(append([]byte{}, pubPEM...), rsaPEM...), nil, "", nil},
		{"unsupported scheme", rc2, constPassword("x"), `could not load private key file "k": unsupported encryption scheme pbeWithSHAAnd128BitRC2-CBC`, nil},
		{"password func error", rc2, func() (string, error) { return "", pwErr }, `could not load private key file "k": keychain locked`, pwErr},
		{"dsa", []byte("-----BEGIN DSA PRIVATE KEY-----\nMAA=\n-----END DSA PRIVATE KEY-----\n"), nil, `could not load private key file "k": unsupported key type DSA`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadPrivateKey("k", tt.data, tt.password)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || libpqText(err) != tt.want {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
	var u *UnsupportedKeyError
	if _, err := loadPrivateKey("k", rc2, constPassword("x")); !errors.As(err, &u) || !strings.Contains(u.What, "RC2") {
		t.Fatalf("unsupported scheme: err = %v, want an UnsupportedKeyError naming RC2", err)
	}
}

// libpqErrors reads testdata/keys/libpq-errors.tsv, libpq's messages as
// measure-libpq.sh recorded them, with the key path shown as KEY.
func libpqErrors(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(keysDir, "libpq-errors.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		name, msg, _ := strings.Cut(line, "\t")
		m[name] = strings.TrimSpace(msg)
	}
	return m
}

// TestKeyFileChecks checks the key-file rules applied before anything is
// read: existence, regular file, and the permission rule, against libpq's
// recorded messages.
func TestKeyFileChecks(t *testing.T) {
	libpq := libpqErrors(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	expect := func(name string) string { return strings.ReplaceAll(libpq[name], "KEY", path) }

	if _, err := statKeyFile(path); err == nil || libpqText(err) != expect("key-missing") {
		t.Errorf("missing key: %v, want %s", err, expect("key-missing"))
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := statKeyFile(path); err == nil || libpqText(err) != expect("key-directory") {
		t.Errorf("directory: %v, want %s", err, expect("key-directory"))
	}
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	// A FIFO must be refused without opening it (which would block).
	if _, _, err := readKeyFile(path); err == nil || libpqText(err) != expect("key-directory") {
		t.Errorf("fifo: %v, want %s", err, expect("key-directory"))
	}
	os.Remove(path)

	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	me := os.Getuid()
	owners := []struct {
		name string
		uid  int
	}{{"self", me}}
	if me == 0 {
		owners = append(owners, struct {
			name string
			uid  int
		}{"other", 4242})
	} else if u, err := user.Lookup("root"); err == nil && u.Uid == "0" {
		t.Log("not root: cannot chown; testing own files only")
	}
	tests := []struct {
		mode          os.FileMode
		okRoot, okUsr bool
	}{
		{0o600, true, true},
		{0o400, true, true},
		{0o700, true, true},
		{0o640, true, false},
		{0o650, false, false},
		{0o660, false, false},
		{0o604, false, false},
		{0o644, false, false},
		{0o606, false, false},
		{0o601, false, false},
		{0o610, false, false},
		{0o620, false, false},
	}
	for _, o := range owners {
		if err := os.Chown(path, o.uid, -1); err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			want := tt.okUsr
			if o.uid == 0 {
				want = tt.okRoot
			}
			_, err := statKeyFile(path)
			if want && err != nil {
				t.Errorf("owner %s, mode %o: %v, want success", o.name, tt.mode, err)
			}
			if !want {
				var kfe *KeyFileError
				if !errors.As(err, &kfe) || kfe.Reason != KeyPermissions {
					t.Errorf("owner %s, mode %o: %v, want the permission error", o.name, tt.mode, err)
				} else if libpqText(err) != expect("perm-0644") {
					t.Errorf("message %q, want libpq's %q", err, expect("perm-0644"))
				}
			}
		}
	}
}
