package pqssl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadPrivateKey feeds random and mutated PEM and DER key files to
// loadPrivateKey, which must return a key or an error, never panic or
// hang. The corpus is seeded with the fixtures (all of them but the
// 600,000-iteration one, which would only slow every run).
func FuzzLoadPrivateKey(f *testing.F) {
	rows := readManifest(f)
	for i, r := range rows {
		if strings.Contains(r.file, "600k") {
			continue
		}
		// A third of the matrix keeps seeding fast while covering every
		// format; the unencrypted ones are all included.
		if r.encrypted && i%3 != 0 {
			continue
		}
		data, err := os.ReadFile(filepath.Join(keysDir, "fixtures", r.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	pw := fixturePassword(f, "std")
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := loadPrivateKey("fuzz", data, constPassword(pw))
		if err != nil {
			if key != nil {
				t.Fatal("key and error both returned")
			}
			checkNoSecret(t, err, pw)
			return
		}
		if key.Public() == nil {
			t.Fatal("key without a public key")
		}
	})
}
