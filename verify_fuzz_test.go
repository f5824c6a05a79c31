package pqssl

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/testpki"
)

// FuzzVerifyDifferential builds a certificate chain, a trust store and
// optionally CRLs from the fuzzer's input, and checks that pqssl's chain
// verification (what verify-ca decides) gives the same verdict, reason and
// depth as "openssl verify" with the parameters libpq uses. Host names are
// not compared: libpq matches them with its own rule, not OpenSSL's, and
// TestVerifyHostname covers that rule.
//
// The seed corpus runs with go test. The long run is
//
//	go test -run '^$' -fuzz FuzzVerifyDifferential -fuzztime 60m -parallel 1 .
func FuzzVerifyDifferential(f *testing.F) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			f.Fatal("openssl not found; it is the referee of this test")
		}
		f.Skip("openssl not found")
	}
	for _, seed := range verifyFuzzSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fc := decodeFuzzChain(t, data)
		dir := t.TempDir()

		rootFile := testpki.WriteFile(t, filepath.Join(dir, "root.pem"), fc.caFile, 0o600)
		crlFile := ""
		if fc.crls != nil {
			crlFile = testpki.WriteFile(t, filepath.Join(dir, "crl.pem"), fc.crls, 0o600)
		}
		store, err := newTrustStoreSource(rootFile, crlFile, "", false).load("verify-ca")
		if err != nil {
			t.Fatalf("loading the trust store: %v\n%s", err, fc)
		}
		var got VerifyReason
		gotDepth := 0
		if _, err := store.verifyChain(certs(fc.peer...), time.Now()); err != nil {
			var ve *CertificateVerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *CertificateVerifyError: %v\n%s", err, err, fc)
			}
			got, gotDepth = ve.Reason, ve.Depth
		}

		args := []string{"-no-CApath"}
		ca := fc.caFile
		if fc.crls != nil {
			ca = cat(ca, fc.crls)
			args = append(args, "-crl_check_all")
		}
		args = append(args, "-CAfile", testpki.WriteFile(t, filepath.Join(dir, "ca+crl.pem"), ca, 0o600))
		code, depth := runOpensslVerify(t, openssl, args, fc.peer)
		if VerifyReason(code) != got || (code != 0 && depth != gotDepth) {
			t.Errorf("pqssl: reason %d (%v) at depth %d; openssl verify: error %d (%v) at depth %d\n%s",
				got, got, gotDepth, code, VerifyReason(code), depth, fc)
		}
	})
}

// verifyFuzzSeeds are inputs chosen to reach the main branches of
// decodeFuzzChain: a plain valid chain, each kind of failure, CRLs.
var verifyFuzzSeeds = [][]byte{
	{},     // root and leaf, all defaults: accepted
	{1},    // one intermediate
	{2},    // two intermediates
	{0, 1}, // root expired
	{0, 0, 0, 0, 0, 0, 0, 2},
	{1, 0, 0, 0, 0, 0, 0, 0, 0, 3},
	{0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 4},
	{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
	{2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
	{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1},
	{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1, 3, 1, 4},
	{1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 2},
	{0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3},
	{2, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
	[]byte("pqssl differential verification"),
	[]byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0\xef\xee\xed\xec\xeb\xea\xe9\xe8\xe7\xe6\xe5\xe4"),
}

// fuzzBytes hands out the fuzzer's input a byte at a time, then zeros, so
// that every input decodes and short inputs mean defaults.
type fuzzBytes []byte

func (b *fuzzBytes) next(n int) int {
	if len(*b) == 0 {
		return 0
	}
	v := int((*b)[0])
	*b = (*b)[1:]
	return v % n
}

// fuzzChain is one decoded case.
type fuzzChain struct {
	caFile []byte          // content of sslrootcert
	crls   []byte          // content of sslcrl, nil for none
	peer   []*testpki.Cert // as the server sends it, leaf first
	desc   []string
}

func (fc *fuzzChain) String() string { return strings.Join(fc.desc, "\n") }

var (
	fuzzKeyTypes = []string{testpki.P256, testpki.P384, testpki.Ed25519, testpki.RSA2048, testpki.RSA1024}
	fuzzKeysOnce sync.Once
	// fuzzKeys[position][keyType]: a distinct key for each position in the
	// chain, so that no two certificates of one case share a key (and so a
	// subject key identifier) unless the case asks for it.
	fuzzKeys [6]map[string]crypto.Signer
)

func fuzzKey(t *testing.T, pos int, keyType string) crypto.Signer {
	fuzzKeysOnce.Do(func() {
		for i := range fuzzKeys {
			fuzzKeys[i] = make(map[string]crypto.Signer)
			for _, kt := range fuzzKeyTypes {
				k, err := testpki.NewKey(kt)
				if err != nil {
					panic(err)
				}
				fuzzKeys[i][kt] = k
			}
		}
	})
	return fuzzKeys[pos][keyType]
}

var oidUnknownCritical = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}

// decodeFuzzChain turns data into a root, up to two intermediates and a
// leaf, their placement in the CA file or the server's chain, a decoy root,
// and CRLs.
func decodeFuzzChain(t *testing.T, data []byte) *fuzzChain {
	b := fuzzBytes(data)
	fc := &fuzzChain{}
	now := time.Now()
	nInter := b.next(3)
	n := nInter + 2 // root, intermediates, leaf
	issued := make([]*testpki.Cert, n)
	for i := 0; i < n; i++ {
		isRoot, isLeaf := i == 0, i == n-1
		var spec testpki.Spec
		var d []string
		spec.IsCA = !isLeaf
		keyType := fuzzKeyTypes[0]
		if k := b.next(16); k < len(fuzzKeyTypes) {
			keyType = fuzzKeyTypes[k]
		}
		spec.Key = fuzzKey(t, i, keyType)
		d = append(d, keyType)
		switch b.next(16) {
		case 1:
			spec.NotBefore, spec.NotAfter = now.Add(-72*time.Hour), now.Add(-24*time.Hour)
			d = append(d, "expired")
		case 2:
			spec.NotBefore, spec.NotAfter = now.Add(24*time.Hour), now.Add(72*time.Hour)
			d = append(d, "not yet valid")
		}
		if !isRoot && b.next(8) == 1 {
			switch issued[i-1].Cert.PublicKeyAlgorithm {
			case x509.RSA:
				spec.SignatureAlgorithm = x509.SHA1WithRSA
				d = append(d, "signed with SHA-1")
			case x509.ECDSA:
				spec.SignatureAlgorithm = x509.ECDSAWithSHA1
				d = append(d, "signed with SHA-1")
			}
		}
		if spec.IsCA {
			switch b.next(16) {
			case 1:
				spec.NoBasicConstraints = true
				d = append(d, "no basicConstraints")
			case 2:
				spec.MaxPathLenZero = true
				d = append(d, "pathlen 0")
			case 3:
				spec.MaxPathLen = 1
				d = append(d, "pathlen 1")
			case 4:
				if !isRoot {
					spec.IsCA = false
					spec.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
					d = append(d, "CA:FALSE with keyCertSign")
				}
			}
		}
		switch b.next(16) {
		case 1:
			spec.NoKeyUsage = true
			d = append(d, "no keyUsage")
		case 2:
			spec.KeyUsage = x509.KeyUsageDigitalSignature
			d = append(d, "keyUsage digitalSignature")
		case 3:
			spec.KeyUsage = x509.KeyUsageCertSign
			d = append(d, "keyUsage keyCertSign")
		case 4:
			spec.KeyUsage = x509.KeyUsageKeyEncipherment | x509.KeyUsageCRLSign
			d = append(d, "keyUsage keyEncipherment, cRLSign")
		}
		switch b.next(16) {
		case 1:
			spec.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			d = append(d, "EKU serverAuth")
		case 2:
			spec.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
			d = append(d, "EKU clientAuth")
		case 3:
			spec.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
			d = append(d, "EKU any")
		case 4:
			spec.UnknownExtKeyUsage = []asn1.ObjectIdentifier{{1, 3, 6, 1, 4, 1, 55555, 2}}
			d = append(d, "EKU unknown")
		}
		if spec.IsCA || !isLeaf {
			switch b.next(10) {
			case 1:
				spec.PermittedDNSDomains = []string{"example.com"}
				d = append(d, "permitted DNS example.com")
			case 2:
				spec.ExcludedDNSDomains = []string{"host.example.com"}
				d = append(d, "excluded DNS host.example.com")
			case 3:
				spec.PermittedIPRanges = []*net.IPNet{{IP: net.IPv4(10, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)}}
				d = append(d, "permitted IP 10.0.0.0/8")
			case 4:
				spec.ExcludedIPRanges = []*net.IPNet{{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)}}
				d = append(d, "excluded IP 127.0.0.0/8")
			case 5:
				spec.PermittedDNSDomains = []string{"other.org"}
				d = append(d, "permitted DNS other.org")
			}
		}
		if isLeaf {
			cn := []string{"host.example.com", "other.org", "", "*.example.com"}[b.next(4)]
			if cn == "" {
				spec.Subject = &pkix.Name{}
			} else {
				spec.CommonName = cn
			}
			d = append(d, fmt.Sprintf("CN %q", cn))
			switch b.next(6) {
			case 1:
				spec.DNSNames = []string{"host.example.com"}
			case 2:
				spec.DNSNames = []string{"*.example.com"}
			case 3:
				spec.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
			case 4:
				spec.DNSNames = []string{"host.example.com"}
				spec.IPAddresses = []net.IP{net.IPv4(10, 1, 2, 3)}
			case 5:
				spec.DNSNames = []string{"a.other.org"}
			}
			if len(spec.DNSNames)+len(spec.IPAddresses) > 0 {
				d = append(d, fmt.Sprintf("SAN %v %v", spec.DNSNames, spec.IPAddresses))
			}
		} else {
			spec.CommonName = fmt.Sprintf("fuzz CA %d", i)
		}
		if s := b.next(6); s > 0 && s < 4 {
			spec.SerialNumber = big.NewInt(int64(s))
			d = append(d, fmt.Sprintf("serial %d", s))
		}
		if b.next(24) == 1 {
			spec.ExtraExtensions = []pkix.Extension{{Id: oidUnknownCritical, Critical: true, Value: []byte{5, 0}}}
			d = append(d, "unknown critical extension")
		}
		var c *testpki.Cert
		var err error
		if isRoot {
			c, err = testpki.NewRoot(spec)
			if err == nil && !spec.IsCA {
				t.Fatal("root without CA")
			}
		} else {
			c, err = issued[i-1].Issue(spec)
		}
		if err != nil {
			t.Fatalf("certificate %d: %v", i, err)
		}
		issued[i] = c
		fc.desc = append(fc.desc, fmt.Sprintf("cert %d: %s", i, strings.Join(d, ", ")))
	}

	// Placement: the leaf is always sent first; each CA is in the CA file,
	// sent, both or neither. The root is in the CA file by default.
	fc.peer = []*testpki.Cert{issued[n-1]}
	var inFile []*testpki.Cert
	for i := n - 2; i >= 0; i-- {
		p := b.next(16)
		if i == 0 {
			p = []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 2, 0}[p]
		} else {
			p = []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 3, 3, 0, 2}[p]
		}
		if p&2 != 0 {
			fc.peer = append(fc.peer, issued[i])
		}
		if p&1 != 0 {
			inFile = append(inFile, issued[i])
		}
		fc.desc = append(fc.desc, fmt.Sprintf("cert %d: in CA file %v, sent %v", i, p&1 != 0, p&2 != 0))
	}
	if b.next(4) == 1 && len(fc.peer) > 2 {
		fc.peer[1], fc.peer[len(fc.peer)-1] = fc.peer[len(fc.peer)-1], fc.peer[1]
		fc.desc = append(fc.desc, "server sends its chain out of order")
	}
	// A decoy root in the CA file: unrelated, or with the real root's name
	// but another key, so that chain building must pick by key.
	switch b.next(4) {
	case 1:
		inFile = append(inFile, testpki.MustRoot(t, testpki.Spec{Key: fuzzKey(t, 4, testpki.P256)}))
		fc.desc = append(fc.desc, "decoy: unrelated root")
	case 2:
		decoy, err := testpki.NewRoot(testpki.Spec{Key: fuzzKey(t, 4, testpki.P256), CommonName: issued[0].Cert.Subject.CommonName})
		if err != nil {
			t.Fatal(err)
		}
		inFile = append(inFile, decoy)
		fc.desc = append(fc.desc, "decoy: root with the same name, other key")
	}
	if len(inFile) == 0 {
		// An empty CA file is a load error for libpq; an unrelated root
		// keeps the case about the chain.
		inFile = append(inFile, testpki.MustRoot(t, testpki.Spec{Key: fuzzKey(t, 5, testpki.P256)}))
	}
	fc.caFile = testpki.ChainPEM(inFile...)

	// CRLs: with none, revocation is not checked. With any, every CA in
	// the chain needs one (libpq's X509_V_FLAG_CRL_CHECK_ALL).
	if b.next(2) == 1 {
		fc.crls = []byte{}
		for i := 0; i < n-1; i++ {
			k := b.next(12)
			if k == 7 {
				fc.desc = append(fc.desc, fmt.Sprintf("CRL of cert %d: none", i))
				continue
			}
			var spec testpki.CRLSpec
			var d []string
			switch k {
			case 2:
				spec.Revoked = testpki.Serials(issued[i+1])
				d = append(d, "revokes its subject")
			case 3:
				spec.Revoked = []*big.Int{big.NewInt(424242)}
				d = append(d, "revokes another serial")
			case 4:
				spec.ThisUpdate, spec.NextUpdate = now.Add(-72*time.Hour), now.Add(-24*time.Hour)
				d = append(d, "expired")
			case 5:
				spec.ThisUpdate, spec.NextUpdate = now.Add(24*time.Hour), now.Add(72*time.Hour)
				d = append(d, "not yet valid")
			case 6:
				spec.ExtraExtensions = []pkix.Extension{{Id: oidUnknownCritical, Critical: true, Value: []byte{5, 0}}}
				d = append(d, "unknown critical extension")
			}
			if b.next(4) == 1 {
				spec.NoNextUpdate = true
				d = append(d, "no nextUpdate")
			}
			der, err := issued[i].NewCRL(spec)
			if err != nil {
				t.Fatalf("CRL of cert %d: %v", i, err)
			}
			fc.crls = append(fc.crls, testpki.CRLPEM(der)...)
			fc.desc = append(fc.desc, fmt.Sprintf("CRL of cert %d: %s", i, strings.Join(d, ", ")))
		}
		if len(fc.crls) == 0 {
			fc.crls = nil
		}
	}
	return fc
}
