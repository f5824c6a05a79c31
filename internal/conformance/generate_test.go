package conformance

import (
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pqssl/pqssl/internal/testpki"
)

var idPattern = regexp.MustCompile("^[a-z0-9-]+/[^\\s|`]+$")

// shape is what must stay the same between two generations: everything
// but the certificates.
type shape struct {
	ID, Group, Desc, DSN, Server string
	Env                          map[string]string
	Files                        []string
	Fast                         bool
}

func shapes(cases []Case) []shape {
	out := make([]shape, len(cases))
	for i, c := range cases {
		s := shape{ID: c.ID, Group: c.Group, Desc: c.Desc, DSN: c.DSN, Server: c.Server.Name, Env: c.Env, Fast: c.Fast}
		for _, f := range c.Files {
			s.Files = append(s.Files, f.Path)
		}
		out[i] = s
	}
	return out
}

func TestGenerate(t *testing.T) {
	full, err := Generate(Full)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) < 300 {
		t.Errorf("full matrix has %d cases, want at least 300", len(full))
	}
	groups := map[string]bool{}
	for _, g := range Groups {
		groups[g.Name] = true
	}
	perGroup := map[string]int{}
	for _, c := range full {
		if !idPattern.MatchString(c.ID) {
			t.Errorf("case ID %q is not of the form group/name without spaces, pipes or backquotes", c.ID)
		}
		if !strings.HasPrefix(c.ID, c.Group+"/") {
			t.Errorf("case %s is in group %q", c.ID, c.Group)
		}
		if !groups[c.Group] {
			t.Errorf("case %s: unknown group %q", c.ID, c.Group)
		}
		perGroup[c.Group]++
		if c.Server == nil || c.Server.Chain == nil || c.Server.Key == nil {
			t.Errorf("case %s has no server certificate", c.ID)
		}
		if c.Server != nil {
			if _, ok := hbaProfiles[c.Server.HBA]; !ok {
				t.Errorf("case %s: server %s has unknown pg_hba profile %q", c.ID, c.Server.Name, c.Server.HBA)
			}
		}
		if c.Desc == "" || strings.ContainsAny(c.Desc, "\n|") {
			t.Errorf("case %s: description %q", c.ID, c.Desc)
		}
		if c.MinLibpq > 0 && c.Expect == nil {
			t.Errorf("case %s needs libpq %d but gives no expected verdict", c.ID, c.MinLibpq)
		}
		if !strings.Contains(c.DSN, "{port}") && !strings.Contains(c.DSN, "{closed}") {
			t.Errorf("case %s: connection string %q does not name the test server's port", c.ID, c.DSN)
		}
		for _, f := range c.Files {
			if strings.HasPrefix(f.Path, "/") || strings.Contains(f.Path, "..") {
				t.Errorf("case %s: file %q is not inside the home directory", c.ID, f.Path)
			}
		}
	}
	for _, g := range Groups {
		if perGroup[g.Name] == 0 {
			t.Errorf("group %s has no case", g.Name)
		}
	}

	fast, err := Generate(Fast)
	if err != nil {
		t.Fatal(err)
	}
	// The fast subset covers every group, stays small, and is the full
	// matrix's cases in the same order.
	if len(fast) < 50 || len(fast) > len(full)/3 {
		t.Errorf("fast subset has %d cases (full: %d)", len(fast), len(full))
	}
	fastGroups := map[string]bool{}
	j := 0
	for _, c := range fast {
		fastGroups[c.Group] = true
		for j < len(full) && full[j].ID != c.ID {
			j++
		}
		if j == len(full) {
			t.Fatalf("fast case %s is not in the full matrix in the same order", c.ID)
		}
	}
	for _, g := range Groups {
		if !fastGroups[g.Name] {
			t.Errorf("fast subset has no case of group %s", g.Name)
		}
	}

	// A second generation makes new certificates but the same cases.
	again, err := Generate(Full)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(shapes(full), shapes(again)); diff != "" {
		t.Errorf("two generations differ (-first +second):\n%s", diff)
	}
}

func TestExceptionsNameCases(t *testing.T) {
	full, err := Generate(Full)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, c := range full {
		ids[c.ID] = true
	}
	seen := map[string]bool{}
	for _, e := range Exceptions {
		if !ids[e.ID] {
			t.Errorf("exception for unknown case %s", e.ID)
		}
		if seen[e.ID] {
			t.Errorf("exception for %s listed twice", e.ID)
		}
		seen[e.ID] = true
		if e.Reason == "" {
			t.Errorf("exception for %s gives no reason", e.ID)
		}
	}
}

// TestNameHash compares NameHash with OpenSSL's own, which names the files
// of an sslcrldir.
func TestNameHash(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	for _, cn := range []string{"Revocation Root", "  Mixed   CASE  name ", "localhost", "bücher.example"} {
		c, err := testpki.NewRoot(testpki.Spec{CommonName: cn})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "c.pem")
		if err := os.WriteFile(p, c.CertPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("openssl", "x509", "-hash", "-noout", "-in", p).Output()
		if err != nil {
			t.Fatalf("openssl x509 -hash: %v", err)
		}
		got, err := NameHash(c.Cert.RawSubject)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.TrimSpace(string(out)); got != want {
			t.Errorf("NameHash(CN=%q) = %s, openssl says %s", cn, got, want)
		}
	}
}

// TestWithSerial checks that a certificate given a negative serial number
// is still validly signed by its issuer.
func TestWithSerial(t *testing.T) {
	var b builder
	root := b.root(testpki.Spec{CommonName: "Serial Root"})
	leaf := b.issue(root, testpki.Spec{CommonName: "localhost"})
	neg := b.withSerial(leaf, big.NewInt(-42), root.Key)
	if b.err != nil {
		t.Fatal(b.err)
	}
	t.Setenv("GODEBUG", "x509negativeserial=1")
	blk, _ := pem.Decode(neg.CertPEM)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if c.SerialNumber.Cmp(big.NewInt(-42)) != 0 {
		t.Errorf("serial %v, want -42", c.SerialNumber)
	}
	if err := c.CheckSignatureFrom(root.Cert); err != nil {
		t.Errorf("signature: %v", err)
	}
	if c.Subject.CommonName != "localhost" {
		t.Errorf("subject %v", c.Subject)
	}
}

func TestWriteHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h")
	err := writeHome(home, []File{
		{Path: rootCrt, Data: []byte("root"), Mode: 0o644},
		{Path: "a/b/key", Data: []byte("key")},
		{Path: "crls", Dir: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{rootCrt: 0o644, "a/b/key": 0o600, "crls": os.ModeDir | 0o700} {
		fi, err := os.Stat(filepath.Join(home, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), mode)
		}
	}
	if err := writeHome(home, []File{{Path: "../escape", Data: []byte("x")}}); err == nil {
		t.Error("a file outside the home directory was accepted")
	}
}
