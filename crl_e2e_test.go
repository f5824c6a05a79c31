package pqssl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

// crlScenario is one revocation set-up run against a real server through
// pqssl and, where psql is installed, through libpq.
type crlScenario struct {
	name string
	// files are written below a fresh home directory: paths relative to
	// it (".postgresql/root.crt", "crls/HASH.r0"...).
	files map[string][]byte
	// params are appended to the connection string, env is the
	// environment; "{home}" stands for the home directory in both.
	params string
	env    map[string]string
	// unreadable names one of files, to be made unreadable (mode 000).
	unreadable string
	want       outcome
	// libpqWant, when set, is libpq's outcome where pqssl differs from it
	// on purpose.
	libpqWant outcome
	// reason and depth are pqssl's expected *CertificateVerifyError when
	// want is outFail.
	reason VerifyReason
	depth  int
}

// crlScenarios returns the server set-up of the revocation scenarios (a
// leaf for localhost sent with its intermediate) and the scenarios.
func crlScenarios(t *testing.T) (pgtest.Options, []crlScenario) {
	now := time.Now()
	root := testpki.MustRoot(t, testpki.Spec{CommonName: "CRL E2E Root"})
	inter := root.MustIssue(t, testpki.Spec{CommonName: "CRL E2E Intermediate", IsCA: true})
	leaf := inter.MustIssue(t, testpki.Spec{CommonName: "localhost"})
	other := testpki.MustRoot(t, testpki.Spec{CommonName: "CRL E2E Other Root"})
	server := pgtest.DefaultOptions()
	server.ServerCert, server.ServerKey = testpki.ChainPEM(leaf, inter), leaf.KeyPEM

	rootCRL := pemCRL(t, root, testpki.CRLSpec{})
	interCRL := pemCRL(t, inter, testpki.CRLSpec{})
	all := cat(rootCRL, interCRL)
	revLeaf := pemCRL(t, inter, testpki.CRLSpec{Revoked: testpki.Serials(leaf)})
	revokedLeaf := cat(rootCRL, revLeaf)
	revokedInter := cat(pemCRL(t, root, testpki.CRLSpec{Revoked: testpki.Serials(inter)}), interCRL)
	expired := cat(rootCRL, pemCRL(t, inter, testpki.CRLSpec{ThisUpdate: now.Add(-48 * time.Hour), NextUpdate: now.Add(-24 * time.Hour)}))
	hR, hI := hashName(root), hashName(inter)

	const (
		rootcert = " sslrootcert={home}/root.crt"
		verifyCA = " sslmode=verify-ca" + rootcert
	)
	f := func(kv ...any) map[string][]byte {
		m := map[string][]byte{"root.crt": root.CertPEM}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].([]byte)
		}
		return m
	}
	return server, []crlScenario{
		// The sslcrl file.
		{name: "complete CRL set", files: f("all.crl", all), params: verifyCA + " sslcrl={home}/all.crl", want: outTLS},
		{name: "revoked leaf", files: f("c.crl", revokedLeaf), params: verifyCA + " sslcrl={home}/c.crl", want: outFail, reason: CertRevoked},
		{name: "revoked intermediate", files: f("c.crl", revokedInter), params: verifyCA + " sslcrl={home}/c.crl", want: outFail, reason: CertRevoked, depth: 1},
		{name: "CRL of another CA", files: f("c.crl", cat(rootCRL, pemCRL(t, other, testpki.CRLSpec{}))), params: verifyCA + " sslcrl={home}/c.crl",
			want: outFail, reason: UnableToGetCRL},
		{name: "expired CRL", files: f("c.crl", expired), params: verifyCA + " sslcrl={home}/c.crl", want: outFail, reason: CRLHasExpired},
		{name: "CRL without nextUpdate", files: f("c.crl", cat(rootCRL, pemCRL(t, inter, testpki.CRLSpec{NoNextUpdate: true}))),
			params: verifyCA + " sslcrl={home}/c.crl", want: outTLS},
		{name: "v1 CRL revoking the leaf", files: f("c.crl", cat(rootCRL, pemCRL(t, inter, testpki.CRLSpec{Version1: true, Revoked: testpki.Serials(leaf)}))),
			params: verifyCA + " sslcrl={home}/c.crl", want: outFail, reason: CertRevoked},
		{name: "root's CRL missing", files: f("c.crl", interCRL), params: verifyCA + " sslcrl={home}/c.crl", want: outFail, reason: UnableToGetCRL, depth: 1},
		{name: "intermediate's CRL missing", files: f("c.crl", rootCRL), params: verifyCA + " sslcrl={home}/c.crl", want: outFail, reason: UnableToGetCRL},
		{name: "CRL file holding certificates only", files: f("c.crl", root.CertPEM), params: verifyCA + " sslcrl={home}/c.crl", want: outFail, reason: UnableToGetCRL},
		{name: "trust anchor from the CRL file", files: map[string][]byte{"root.crt": other.CertPEM, "c.crl": cat(root.CertPEM, all)},
			params: verifyCA + " sslcrl={home}/c.crl", want: outTLS},
		// libpq reads the CRL file as PEM only and so checks nothing
		// with a DER file; pqssl uses it (deliberately stricter).
		{name: "DER CRL file", files: f("c.der", inter.MustCRL(t, testpki.CRLSpec{Revoked: testpki.Serials(leaf)})),
			params: verifyCA + " sslcrl={home}/c.der", want: outFail, reason: CertRevoked, libpqWant: outTLS},
		{name: "DER CRL file, nothing revoked, root's CRL missing", files: f("c.der", inter.MustCRL(t, testpki.CRLSpec{})),
			params: verifyCA + " sslcrl={home}/c.der", want: outFail, reason: UnableToGetCRL, depth: 1, libpqWant: outTLS},
		{name: "CRL file with a malformed block is not loaded", files: f("c.crl", cat(revokedLeaf, []byte("-----BEGIN X509 CRL-----\n!!!!\n-----END X509 CRL-----\n"))),
			params: verifyCA + " sslcrl={home}/c.crl", want: outTLS},
		{name: "CRL file unreadable", files: f("c.crl", revokedLeaf), unreadable: "c.crl", params: verifyCA + " sslcrl={home}/c.crl", want: outTLS},
		{name: "CRL file missing", files: f(), params: verifyCA + " sslcrl={home}/missing.crl", want: outTLS},
		{name: "CRL path is a directory", files: f("d/x", []byte("x")), params: verifyCA + " sslcrl={home}/d", want: outTLS},
		{name: "CRL path below a file", files: f("c.crl", revokedLeaf), params: verifyCA + " sslcrl={home}/c.crl/x", want: outTLS},

		// sslcrldir.
		{name: "hashed directory", files: f("crls/"+hR+".r0", rootCRL, "crls/"+hI+".r0", interCRL), params: verifyCA + " sslcrldir={home}/crls", want: outTLS},
		{name: "hashed directory revoking the leaf", files: f("crls/"+hR+".r0", rootCRL, "crls/"+hI+".r0", revLeaf),
			params: verifyCA + " sslcrldir={home}/crls", want: outFail, reason: CertRevoked},
		{name: "hashed directory with wrong names", files: f("crls/"+hR+".0", rootCRL, "crls/"+hI+".crl", interCRL, "crls/all.crl", all),
			params: verifyCA + " sslcrldir={home}/crls", want: outFail, reason: UnableToGetCRL},
		{name: "hashed directory with a gap", files: f("crls/"+hR+".r0", rootCRL, "crls/"+hI+".r1", interCRL),
			params: verifyCA + " sslcrldir={home}/crls", want: outFail, reason: UnableToGetCRL},
		{name: "hashed directory, both CRLs under the intermediate's name", files: f("crls/"+hI+".r0", all),
			params: verifyCA + " sslcrldir={home}/crls", want: outTLS},
		{name: "hashed directory, both CRLs under the root's name", files: f("crls/"+hR+".r0", all),
			params: verifyCA + " sslcrldir={home}/crls", want: outFail, reason: UnableToGetCRL},
		{name: "hashed directory, CRL before a malformed block", files: f("crls/"+hR+".r0", rootCRL,
			"crls/"+hI+".r0", cat(interCRL, []byte("-----BEGIN X509 CRL-----\n!!!!\n-----END X509 CRL-----\n"))),
			params: verifyCA + " sslcrldir={home}/crls", want: outTLS},
		{name: "hashed directory of DER files", files: f("crls/"+hR+".r0", root.MustCRL(t, testpki.CRLSpec{}), "crls/"+hI+".r0", inter.MustCRL(t, testpki.CRLSpec{})),
			params: verifyCA + " sslcrldir={home}/crls", want: outFail, reason: UnableToGetCRL},
		{name: "trust anchor from the hashed directory", files: map[string][]byte{"root.crt": other.CertPEM,
			"crls/" + hR + ".0": root.CertPEM, "crls/" + hR + ".r0": rootCRL, "crls/" + hI + ".r0": interCRL},
			params: verifyCA + " sslcrldir={home}/crls", want: outTLS},
		{name: "hashed directory that does not exist", files: f(), params: verifyCA + " sslcrldir={home}/missing", want: outFail, reason: UnableToGetCRL},
		{name: "empty hashed directory", files: f("crls/README", []byte("x")), params: verifyCA + " sslcrldir={home}/crls", want: outFail, reason: UnableToGetCRL},
		{name: "two hashed directories", files: f("a/"+hR+".r0", rootCRL, "b/"+hI+".r0", interCRL),
			params: verifyCA + " sslcrldir={home}/a:{home}/b", want: outTLS},
		{name: "two hashed directories, the first one's CRL is used", files: f("a/"+hR+".r0", rootCRL, "a/"+hI+".r0", interCRL, "b/"+hI+".r0", revLeaf),
			params: verifyCA + " sslcrldir={home}/a:{home}/b", want: outTLS},
		{name: "sslcrldir a lone colon", files: f(), params: verifyCA + " sslcrldir=:", want: outFail, reason: UnableToGetCRL},

		// Both, and the default file.
		{name: "sslcrl and sslcrldir both loaded", files: f("r.crl", rootCRL, "crls/"+hI+".r0", revLeaf),
			params: verifyCA + " sslcrl={home}/r.crl sslcrldir={home}/crls", want: outFail, reason: CertRevoked},
		{name: "sslcrl unloadable: sslcrldir ignored", files: f("crls/"+hR+".r0", rootCRL, "crls/"+hI+".r0", revLeaf),
			params: verifyCA + " sslcrl={home}/missing.crl sslcrldir={home}/crls", want: outTLS},
		{name: "sslcrl a directory: sslcrldir ignored", files: f("crls/"+hR+".r0", rootCRL, "crls/"+hI+".r0", revLeaf),
			params: verifyCA + " sslcrl={home}/crls sslcrldir={home}/crls", want: outTLS},
		{name: "sslcrl complete, sslcrldir missing", files: f("c.crl", all), params: verifyCA + " sslcrl={home}/c.crl sslcrldir={home}/missing", want: outTLS},
		{name: "default root.crl revoking the leaf", files: map[string][]byte{".postgresql/root.crt": root.CertPEM, ".postgresql/root.crl": revokedLeaf},
			params: " sslmode=verify-ca", want: outFail, reason: CertRevoked},
		{name: "default root.crl complete", files: map[string][]byte{".postgresql/root.crt": root.CertPEM, ".postgresql/root.crl": all},
			params: " sslmode=verify-ca", want: outTLS},
		{name: "default root.crl with an explicit root file", files: f(".postgresql/root.crl", revokedLeaf), params: verifyCA, want: outFail, reason: CertRevoked},
		{name: "default root.crl through an empty sslcrl", files: f(".postgresql/root.crl", revokedLeaf), params: verifyCA + " sslcrl=''", want: outFail, reason: CertRevoked},
		{name: "default root.crl not used with sslcrldir", files: f(".postgresql/root.crl", revokedLeaf, "crls/"+hR+".r0", rootCRL, "crls/"+hI+".r0", interCRL),
			params: verifyCA + " sslcrldir={home}/crls", want: outTLS},
		{name: "CRLs in the root file, no CRL location", files: map[string][]byte{"root.crt": cat(root.CertPEM, revokedLeaf)}, params: verifyCA, want: outTLS},
		{name: "CRLs in the root file, empty sslcrldir", files: map[string][]byte{"root.crt": cat(root.CertPEM, revokedLeaf), "crls/README": []byte("x")},
			params: verifyCA + " sslcrldir={home}/crls", want: outFail, reason: CertRevoked},

		// Modes and the environment.
		{name: "require with a root file", files: f("c.crl", revokedLeaf), params: " sslmode=require" + rootcert + " sslcrl={home}/c.crl", want: outFail, reason: CertRevoked},
		{name: "require without a root file", files: map[string][]byte{"c.crl": revokedLeaf}, params: " sslmode=require sslcrl={home}/c.crl", want: outTLS},
		{name: "verify-full, revoked", files: f("c.crl", revokedLeaf), params: " sslmode=verify-full" + rootcert + " sslcrl={home}/c.crl", want: outFail, reason: CertRevoked},
		{name: "verify-full, complete", files: f("c.crl", all), params: " sslmode=verify-full" + rootcert + " sslcrl={home}/c.crl", want: outTLS},
		{name: "prefer falls back to plaintext", files: f("c.crl", revokedLeaf), params: " sslmode=prefer" + rootcert + " sslcrl={home}/c.crl", want: outPlain},
		{name: "PGSSLCRL", files: f("c.crl", revokedLeaf), params: verifyCA, env: map[string]string{"PGSSLCRL": "{home}/c.crl"}, want: outFail, reason: CertRevoked},
		{name: "PGSSLCRL overridden by sslcrl", files: f("c.crl", revokedLeaf, "all.crl", all), params: verifyCA + " sslcrl={home}/all.crl",
			env: map[string]string{"PGSSLCRL": "{home}/c.crl"}, want: outTLS},
		{name: "PGSSLCRLDIR", files: f("crls/"+hR+".r0", rootCRL, "crls/"+hI+".r0", revLeaf), params: verifyCA,
			env: map[string]string{"PGSSLCRLDIR": "{home}/crls"}, want: outFail, reason: CertRevoked},
		{name: "PGSSLCRLDIR that does not exist", files: f(), params: verifyCA, env: map[string]string{"PGSSLCRLDIR": "{home}/missing"},
			want: outFail, reason: UnableToGetCRL},
	}
}

// TestRevocationScenarios runs the revocation scenarios against a real
// server through pqssl and, where psql is installed, through libpq, and
// asserts that both reach the expected verdict.
func TestRevocationScenarios(t *testing.T) {
	cluster := pgtest.Shared(t)
	server, scenarios := crlScenarios(t)
	if err := cluster.Apply(server); err != nil {
		t.Fatalf("server set-up: %v", err)
	}
	haveLibpq := psqlAvailable(t)
	var checked, againstLibpq int
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			if sc.unreadable != "" && os.Geteuid() == 0 {
				t.Skip("root reads any file; the directory and ENOTDIR scenarios cover unloadable paths")
			}
			home := t.TempDir()
			if err := os.Mkdir(filepath.Join(home, ".postgresql"), 0o700); err != nil {
				t.Fatal(err)
			}
			for name, data := range sc.files {
				p := filepath.Join(home, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				mode := os.FileMode(0o644)
				if name == sc.unreadable {
					mode = 0
				}
				testpki.WriteFile(t, p, data, mode)
			}
			expand := strings.NewReplacer("{home}", home).Replace
			dsn := fmt.Sprintf("host=localhost hostaddr=127.0.0.1 port=%d user=postgres dbname=postgres", cluster.Port) + expand(sc.params)
			env := map[string]string{}
			for k, v := range sc.env {
				env[k] = expand(v)
			}

			t.Setenv("HOME", home)
			for k, v := range env {
				t.Setenv(k, v)
			}
			got, err := connectPqssl(t, dsn)
			if got != sc.want {
				t.Errorf("pqssl: %s (err %v), want %s", got, err, sc.want)
			}
			if sc.want == outFail {
				var ve *CertificateVerifyError
				if !errors.As(err, &ve) || ve.Reason != sc.reason || ve.Depth != sc.depth {
					t.Errorf("pqssl error %v, want %q at depth %d", err, sc.reason, sc.depth)
				}
			}
			checked++

			if !haveLibpq {
				return
			}
			lgot, lmsg := connectLibpq(t, dsn, home, env)
			againstLibpq++
			libpqWant := sc.want
			if sc.libpqWant != "" {
				libpqWant = sc.libpqWant
			}
			if lgot != libpqWant {
				t.Errorf("libpq: %s (%s), want %s", lgot, lmsg, libpqWant)
			}
			// libpq 15 says only "certificate verify failed", or passes
			// on what OpenSSL left in its error queue while reading a
			// hashed directory ("no start line").
			if lgot == outFail && !strings.Contains(lmsg, "SSL error: ") {
				t.Errorf("libpq failed for another reason: %s", lmsg)
			}
		})
	}
	t.Logf("%d revocation scenarios checked through pqssl, %d of them also through libpq", checked, againstLibpq)
}
