package testpki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestChainVerifies(t *testing.T) {
	root := MustRoot(t, Spec{CommonName: "Root"})
	inter := root.MustIssue(t, Spec{CommonName: "Inter", IsCA: true, MaxPathLenZero: true})
	leaf := inter.MustIssue(t, Spec{
		DNSNames:    []string{"db.example.com"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})

	roots := x509.NewCertPool()
	roots.AddCert(root.Cert)
	inters := x509.NewCertPool()
	inters.AddCert(inter.Cert)
	if _, err := leaf.Cert.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inters, DNSName: "db.example.com",
	}); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	if !root.Cert.IsCA || root.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("root: IsCA=%v KeyUsage=%v", root.Cert.IsCA, root.Cert.KeyUsage)
	}
	if inter.Cert.MaxPathLen != 0 || !inter.Cert.MaxPathLenZero {
		t.Errorf("inter: MaxPathLen=%d zero=%v", inter.Cert.MaxPathLen, inter.Cert.MaxPathLenZero)
	}
	if leaf.Cert.IsCA || !leaf.Cert.BasicConstraintsValid {
		t.Errorf("leaf: IsCA=%v BasicConstraintsValid=%v", leaf.Cert.IsCA, leaf.Cert.BasicConstraintsValid)
	}
	if _, ok := leaf.Key.(*ecdsa.PrivateKey); !ok {
		t.Errorf("default key is %T, want ECDSA", leaf.Key)
	}
	if d := time.Until(leaf.Cert.NotAfter); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("NotAfter in %v", d)
	}
	if leaf.Cert.Subject.CommonName == "" || leaf.Cert.Subject.CommonName == inter.Cert.Subject.CommonName {
		t.Errorf("default CN %q", leaf.Cert.Subject.CommonName)
	}
}

func TestPEM(t *testing.T) {
	c := MustRoot(t, Spec{KeyType: Ed25519})
	b, rest := pem.Decode(c.CertPEM)
	if b == nil || b.Type != "CERTIFICATE" || len(rest) != 0 {
		t.Fatalf("CertPEM: %q", c.CertPEM)
	}
	b, _ = pem.Decode(c.KeyPEM)
	if b == nil || b.Type != "PRIVATE KEY" {
		t.Fatalf("KeyPEM: %q", c.KeyPEM)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := k.(ed25519.PrivateKey); !ok {
		t.Errorf("key is %T", k)
	}

	other := MustRoot(t, Spec{})
	chain := ChainPEM(c, other)
	var n int
	for b, rest := pem.Decode(chain); b != nil; b, rest = pem.Decode(rest) {
		n++
	}
	if n != 2 {
		t.Errorf("ChainPEM: %d blocks", n)
	}
}

func TestRSAPool(t *testing.T) {
	seen := map[string]bool{}
	var first []byte
	for i := 0; i < PoolSize+1; i++ {
		c := MustSelfSigned(t, Spec{KeyType: RSA1024})
		k := c.Key.(*rsa.PrivateKey)
		if k.N.BitLen() != 1024 {
			t.Fatalf("bits %d", k.N.BitLen())
		}
		spki := string(c.Cert.RawSubjectPublicKeyInfo)
		if i == 0 {
			first = []byte(spki)
		}
		if i < PoolSize && seen[spki] {
			t.Fatalf("key %d reused within the first %d", i, PoolSize)
		}
		seen[spki] = true
		if i == PoolSize && spki != string(first) {
			t.Errorf("key %d not taken from the pool", i)
		}
	}
}

func TestSpecFields(t *testing.T) {
	root := MustRoot(t, Spec{})
	serial := big.NewInt(4242)
	_, ipnet, _ := net.ParseCIDR("10.0.0.0/8")
	crit := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}
	c := root.MustIssue(t, Spec{
		Subject:             &pkix.Name{CommonName: "a", Organization: []string{"O"}},
		CommonName:          "ignored",
		IsCA:                true,
		MaxPathLen:          2,
		KeyUsage:            x509.KeyUsageDigitalSignature,
		UnknownExtKeyUsage:  []asn1.ObjectIdentifier{{1, 2, 3}},
		SerialNumber:        serial,
		SignatureAlgorithm:  x509.ECDSAWithSHA384,
		ExtraExtensions:     []pkix.Extension{crit},
		PermittedDNSDomains: []string{"example.com"},
		ExcludedIPRanges:    []*net.IPNet{ipnet},
	})
	x := c.Cert
	if x.Subject.CommonName != "a" || x.Subject.Organization[0] != "O" {
		t.Errorf("subject %v", x.Subject)
	}
	if x.MaxPathLen != 2 || x.KeyUsage != x509.KeyUsageDigitalSignature || x.SerialNumber.Cmp(serial) != 0 {
		t.Errorf("MaxPathLen=%d KeyUsage=%v serial=%v", x.MaxPathLen, x.KeyUsage, x.SerialNumber)
	}
	if x.SignatureAlgorithm != x509.ECDSAWithSHA384 || len(x.UnknownExtKeyUsage) != 1 {
		t.Errorf("alg=%v eku=%v", x.SignatureAlgorithm, x.UnknownExtKeyUsage)
	}
	if len(x.UnhandledCriticalExtensions) != 1 || !x.PermittedDNSDomainsCritical ||
		x.PermittedDNSDomains[0] != "example.com" || len(x.ExcludedIPRanges) != 1 {
		t.Errorf("extensions: %v %v %v", x.UnhandledCriticalExtensions, x.PermittedDNSDomains, x.ExcludedIPRanges)
	}

	empty := root.MustIssue(t, Spec{Subject: &pkix.Name{}, NoKeyUsage: true, NoBasicConstraints: true})
	if len(empty.Cert.Subject.Names) != 0 || empty.Cert.KeyUsage != 0 || empty.Cert.BasicConstraintsValid {
		t.Errorf("empty: %v %v %v", empty.Cert.Subject, empty.Cert.KeyUsage, empty.Cert.BasicConstraintsValid)
	}
}

func TestSHA1AndVersion1(t *testing.T) {
	root := MustRoot(t, Spec{KeyType: RSA2048, Version1: true})
	if root.Cert.Version != 1 || root.Cert.BasicConstraintsValid || len(root.Cert.Extensions) != 0 {
		t.Fatalf("version %d, extensions %v", root.Cert.Version, root.Cert.Extensions)
	}
	if err := root.Cert.CheckSignature(root.Cert.SignatureAlgorithm, root.Cert.RawTBSCertificate, root.Cert.Signature); err != nil {
		t.Errorf("v1 signature: %v", err)
	}
	leaf := root.MustIssue(t, Spec{SignatureAlgorithm: x509.SHA1WithRSA, Version1: true})
	if leaf.Cert.SignatureAlgorithm != x509.SHA1WithRSA || leaf.Cert.Version != 1 {
		t.Errorf("alg %v version %d", leaf.Cert.SignatureAlgorithm, leaf.Cert.Version)
	}
}

func TestCRL(t *testing.T) {
	root := MustRoot(t, Spec{})
	leaf := root.MustIssue(t, Spec{})
	der, err := root.CRL(Serials(leaf), time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(root.Cert); err != nil {
		t.Errorf("CRL signature: %v", err)
	}
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.Cert.SerialNumber) != 0 {
		t.Errorf("entries %v", crl.RevokedCertificateEntries)
	}
	if b, _ := pem.Decode(CRLPEM(der)); b == nil || b.Type != "X509 CRL" {
		t.Errorf("CRLPEM")
	}
	// A non-CA issuer can sign a CRL too, for negative tests.
	if _, err := leaf.CRL(nil, time.Time{}, time.Time{}); err != nil {
		t.Errorf("CRL from a leaf: %v", err)
	}
}

// TestNewCRL checks the CRL shapes NewCRL makes by rewriting what
// crypto/x509 produces, with openssl as the judge of the result where it is
// installed.
func TestNewCRL(t *testing.T) {
	root := MustRoot(t, Spec{})
	leaf := root.MustIssue(t, Spec{})
	this := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	tests := []struct {
		name  string
		spec  CRLSpec
		check func(t *testing.T, der []byte)
	}{
		{"no nextUpdate", CRLSpec{Revoked: Serials(leaf), NoNextUpdate: true, ThisUpdate: this}, func(t *testing.T, der []byte) {
			crl, err := x509.ParseRevocationList(der)
			if err != nil {
				t.Fatal(err)
			}
			if !crl.NextUpdate.IsZero() || !crl.ThisUpdate.Equal(this) || len(crl.RevokedCertificateEntries) != 1 {
				t.Errorf("this %v next %v entries %d", crl.ThisUpdate, crl.NextUpdate, len(crl.RevokedCertificateEntries))
			}
			if err := crl.CheckSignatureFrom(root.Cert); err != nil {
				t.Errorf("signature: %v", err)
			}
		}},
		{"no authority key id", CRLSpec{NoAuthorityKeyId: true}, func(t *testing.T, der []byte) {
			crl, err := x509.ParseRevocationList(der)
			if err != nil {
				t.Fatal(err)
			}
			if crl.AuthorityKeyId != nil || crl.Number == nil {
				t.Errorf("akid %x number %v", crl.AuthorityKeyId, crl.Number)
			}
			if err := crl.CheckSignatureFrom(root.Cert); err != nil {
				t.Errorf("signature: %v", err)
			}
		}},
		{"nextUpdate before thisUpdate", CRLSpec{ThisUpdate: this, NextUpdate: this.Add(-time.Hour)}, func(t *testing.T, der []byte) {
			crl, err := x509.ParseRevocationList(der)
			if err != nil {
				t.Fatal(err)
			}
			if !crl.NextUpdate.Equal(this.Add(-time.Hour)) {
				t.Errorf("next %v", crl.NextUpdate)
			}
		}},
		{"version 1", CRLSpec{Revoked: Serials(leaf), Version1: true}, func(t *testing.T, der []byte) {
			// crypto/x509 reads v2 CRLs only.
			if _, err := x509.ParseRevocationList(der); err == nil {
				t.Errorf("crypto/x509 parsed a v1 CRL")
			}
			var c rawCertificate
			if _, err := asn1.Unmarshal(der, &c); err != nil {
				t.Fatal(err)
			}
			var first asn1.RawValue
			if _, err := asn1.Unmarshal(c.TBS.Bytes, &first); err != nil || first.Tag != asn1.TagSequence {
				t.Errorf("TBSCertList starts with tag %d, want the signature algorithm", first.Tag)
			}
		}},
		{"number and entries", CRLSpec{Number: big.NewInt(42), Entries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(7), ReasonCode: 1}}}, func(t *testing.T, der []byte) {
			crl, err := x509.ParseRevocationList(der)
			if err != nil {
				t.Fatal(err)
			}
			if crl.Number.Int64() != 42 || len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].ReasonCode != 1 ||
				crl.RevokedCertificateEntries[0].RevocationTime.IsZero() {
				t.Errorf("number %v entries %+v", crl.Number, crl.RevokedCertificateEntries)
			}
		}},
	}
	openssl, _ := exec.LookPath("openssl")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der := root.MustCRL(t, tt.spec)
			tt.check(t, der)
			if openssl == "" {
				return
			}
			dir := t.TempDir()
			crlFile := WriteFile(t, filepath.Join(dir, "crl.der"), der, 0o600)
			caFile := WriteFile(t, filepath.Join(dir, "ca.pem"), root.CertPEM, 0o600)
			out, err := exec.Command(openssl, "crl", "-inform", "DER", "-in", crlFile, "-CAfile", caFile, "-noout").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "verify OK") {
				t.Errorf("openssl crl: %v\n%s", err, out)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	p := WriteFile(t, filepath.Join(t.TempDir(), "k"), []byte("x"), 0o640)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
}
