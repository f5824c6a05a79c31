// This file holds the certificate extension cases.

package conformance

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"strings"

	"github.com/pqssl/pqssl/internal/testpki"
)

// extensions: basic constraints, path lengths, key usage, extended key
// usage, name constraints, unknown critical extensions, X.509 v1.
func (g *gen) extensions() {
	root := g.b.root(testpki.Spec{CommonName: "Extension Root"})
	type ext struct {
		id, desc string
		root     *testpki.Cert // nil = root
		inters   []testpki.Spec
		leaf     testpki.Spec
		fast     bool
		mode     string
	}
	leafSpec := func(s testpki.Spec) testpki.Spec {
		if s.CommonName == "" && s.Subject == nil {
			s.CommonName = "localhost"
		}
		if s.DNSNames == nil && s.IPAddresses == nil && s.ExtraExtensions == nil {
			s.DNSNames = []string{"localhost"}
		}
		return s
	}
	ca := func(name string, s testpki.Spec) testpki.Spec {
		s.CommonName = "Extension " + name
		return s
	}
	unknownCrit := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}, Critical: true, Value: []byte{0x05, 0x00}}
	unknownNonCrit := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 2}, Critical: false, Value: []byte{0x05, 0x00}}
	inter := func(s testpki.Spec) []testpki.Spec { return []testpki.Spec{ca("Intermediate", s)} }
	std := inter(testpki.Spec{IsCA: true})
	ipnet := func(s string) *net.IPNet {
		_, n, err := net.ParseCIDR(s)
		g.b.fail(err)
		return n
	}

	// Roots with unusual extensions get their own root certificates.
	rootNoBCwithKU := g.b.selfSigned(testpki.Spec{CommonName: "Extension Root no BC", NoBasicConstraints: true, IsCA: true})
	rootNoBCnoKU := g.b.selfSigned(testpki.Spec{CommonName: "Extension Root no BC no KU", NoBasicConstraints: true, NoKeyUsage: true})
	rootCAFalse := g.b.selfSigned(testpki.Spec{CommonName: "Extension Root CA false", KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
	rootPath0 := g.b.root(testpki.Spec{CommonName: "Extension Root pathlen 0", MaxPathLen: 0, MaxPathLenZero: true})
	rootPath1 := g.b.root(testpki.Spec{CommonName: "Extension Root pathlen 1", MaxPathLen: 1})
	rootClientEKU := g.b.root(testpki.Spec{CommonName: "Extension Root clientAuth", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	rootCrit := g.b.root(testpki.Spec{CommonName: "Extension Root critical", ExtraExtensions: []pkix.Extension{unknownCrit}})
	rootNoCertSign := g.b.root(testpki.Spec{CommonName: "Extension Root no certSign", KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign})
	rootV1 := g.b.root(testpki.Spec{CommonName: "Extension Root v1", Version1: true})
	rootNC := g.b.root(testpki.Spec{CommonName: "Extension Root constrained", PermittedDNSDomains: []string{"example.test"}})

	list := []ext{
		{id: "baseline", desc: "root, intermediate, leaf with default extensions", inters: std, fast: true},
		{id: "eku/leaf-serverAuth", desc: "leaf EKU serverAuth", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}},
		{id: "eku/leaf-clientAuth", desc: "leaf EKU clientAuth only", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, fast: true},
		{id: "eku/leaf-clientAuth-require-no-root", desc: "leaf EKU clientAuth only, require without root file", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, mode: "require-noroot"},
		{id: "eku/leaf-server-and-client", desc: "leaf EKU serverAuth and clientAuth", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}},
		{id: "eku/leaf-any", desc: "leaf EKU anyExtendedKeyUsage only", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}, fast: true},
		{id: "eku/leaf-codeSigning", desc: "leaf EKU codeSigning only", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}},
		{id: "eku/leaf-nsSGC", desc: "leaf EKU Netscape server gated crypto only", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageNetscapeServerGatedCrypto}}},
		{id: "eku/leaf-unknown", desc: "leaf EKU with an unknown purpose only", inters: std, leaf: testpki.Spec{UnknownExtKeyUsage: []asn1.ObjectIdentifier{{1, 3, 6, 1, 4, 1, 55555, 9}}}},
		{id: "eku/intermediate-serverAuth", desc: "intermediate EKU serverAuth", inters: inter(testpki.Spec{IsCA: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})},
		{id: "eku/intermediate-clientAuth", desc: "intermediate EKU clientAuth only", inters: inter(testpki.Spec{IsCA: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}), fast: true},
		{id: "eku/intermediate-any", desc: "intermediate EKU anyExtendedKeyUsage only", inters: inter(testpki.Spec{IsCA: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})},
		{id: "eku/intermediate-codeSigning", desc: "intermediate EKU codeSigning only", inters: inter(testpki.Spec{IsCA: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})},
		{id: "eku/root-clientAuth", desc: "trusted root EKU clientAuth only", root: rootClientEKU, inters: std},
		{id: "ku/leaf-digitalSignature", desc: "leaf keyUsage digitalSignature", inters: std, leaf: testpki.Spec{KeyUsage: x509.KeyUsageDigitalSignature}},
		{id: "ku/leaf-keyEncipherment", desc: "ECDSA leaf keyUsage keyEncipherment only", inters: std, leaf: testpki.Spec{KeyUsage: x509.KeyUsageKeyEncipherment}},
		{id: "ku/leaf-keyEncipherment-rsa", desc: "RSA leaf keyUsage keyEncipherment only", inters: std, leaf: testpki.Spec{KeyUsage: x509.KeyUsageKeyEncipherment, KeyType: testpki.RSA2048}},
		{id: "ku/leaf-keyAgreement", desc: "ECDSA leaf keyUsage keyAgreement only", inters: std, leaf: testpki.Spec{KeyUsage: x509.KeyUsageKeyAgreement}},
		{id: "ku/leaf-keyCertSign", desc: "leaf keyUsage keyCertSign only", inters: std, leaf: testpki.Spec{KeyUsage: x509.KeyUsageCertSign}, fast: true},
		{id: "ku/leaf-absent", desc: "leaf without keyUsage", inters: std, leaf: testpki.Spec{NoKeyUsage: true}},
		{id: "ku/intermediate-no-certSign", desc: "intermediate keyUsage without keyCertSign", inters: inter(testpki.Spec{IsCA: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign}), fast: true},
		{id: "ku/intermediate-absent", desc: "intermediate without keyUsage", inters: inter(testpki.Spec{IsCA: true, NoKeyUsage: true})},
		{id: "ku/root-no-certSign", desc: "trusted root keyUsage without keyCertSign", root: rootNoCertSign, inters: std},
		{id: "bc/intermediate-ca-false", desc: "intermediate with basicConstraints CA:FALSE", inters: inter(testpki.Spec{IsCA: false, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}), fast: true},
		{id: "bc/intermediate-absent", desc: "intermediate without basicConstraints (keyCertSign set)", inters: inter(testpki.Spec{IsCA: true, NoBasicConstraints: true})},
		{id: "bc/intermediate-absent-no-ku", desc: "intermediate without basicConstraints or keyUsage", inters: inter(testpki.Spec{IsCA: true, NoBasicConstraints: true, NoKeyUsage: true})},
		{id: "bc/root-absent", desc: "trusted root without basicConstraints (keyCertSign set)", root: rootNoBCwithKU, inters: std},
		{id: "bc/root-absent-no-ku", desc: "trusted root without basicConstraints or keyUsage", root: rootNoBCnoKU, inters: std},
		{id: "bc/root-ca-false", desc: "trusted self-signed root with CA:FALSE", root: rootCAFalse, inters: std},
		{id: "bc/leaf-ca-true", desc: "leaf with CA:TRUE", inters: std, leaf: testpki.Spec{IsCA: true}},
		{id: "pathlen/root-0-one-intermediate", desc: "root pathlen 0 above an intermediate", root: rootPath0, inters: std, fast: true},
		{id: "pathlen/root-0-direct", desc: "root pathlen 0 issuing the leaf directly", root: rootPath0},
		{id: "pathlen/root-1-two-intermediates", desc: "root pathlen 1 above two intermediates", root: rootPath1,
			inters: []testpki.Spec{ca("Level 1", testpki.Spec{IsCA: true}), ca("Level 2", testpki.Spec{IsCA: true})}},
		{id: "pathlen/root-1-one-intermediate", desc: "root pathlen 1 above one intermediate", root: rootPath1, inters: std},
		{id: "pathlen/intermediate-0-leaf", desc: "intermediate pathlen 0 issuing the leaf", inters: inter(testpki.Spec{IsCA: true, MaxPathLenZero: true})},
		{id: "pathlen/intermediate-0-sub-ca", desc: "intermediate pathlen 0 above another intermediate",
			inters: []testpki.Spec{ca("Level 1", testpki.Spec{IsCA: true, MaxPathLenZero: true}), ca("Level 2", testpki.Spec{IsCA: true})}},
		{id: "pathlen/intermediate-0-self-issued", desc: "intermediate pathlen 0 above a self-issued intermediate (same name, new key)",
			inters: []testpki.Spec{ca("Rollover", testpki.Spec{IsCA: true, MaxPathLenZero: true}), ca("Rollover", testpki.Spec{IsCA: true})}},
		{id: "v1/root", desc: "X.509 v1 root", root: rootV1, inters: std, fast: true},
		{id: "v1/intermediate", desc: "X.509 v1 intermediate", inters: inter(testpki.Spec{IsCA: true, Version1: true}), fast: true},
		{id: "v1/leaf", desc: "X.509 v1 leaf (CN localhost)", inters: std, leaf: testpki.Spec{Version1: true}},
		{id: "critical/leaf-unknown", desc: "leaf with an unknown critical extension", inters: std, leaf: testpki.Spec{ExtraExtensions: []pkix.Extension{unknownCrit}, DNSNames: []string{"localhost"}}, fast: true},
		{id: "critical/leaf-unknown-require-no-root", desc: "leaf with an unknown critical extension, require without root file", inters: std, leaf: testpki.Spec{ExtraExtensions: []pkix.Extension{unknownCrit}, DNSNames: []string{"localhost"}}, mode: "require-noroot"},
		{id: "critical/intermediate-unknown", desc: "intermediate with an unknown critical extension", inters: inter(testpki.Spec{IsCA: true, ExtraExtensions: []pkix.Extension{unknownCrit}})},
		{id: "critical/root-unknown", desc: "trusted root with an unknown critical extension", root: rootCrit, inters: std},
		{id: "critical/leaf-unknown-noncritical", desc: "leaf with an unknown non-critical extension", inters: std, leaf: testpki.Spec{ExtraExtensions: []pkix.Extension{unknownNonCrit}, DNSNames: []string{"localhost"}}},
		{id: "nc/permitted-dns-inside", desc: "intermediate permits DNS example.test, leaf SAN db.example.test",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{"example.test"}}), leaf: testpki.Spec{CommonName: "db.example.test", DNSNames: []string{"db.example.test"}}, fast: true},
		{id: "nc/permitted-dns-outside", desc: "intermediate permits DNS example.test, leaf SAN localhost",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{"example.test"}}), fast: true},
		{id: "nc/permitted-dns-suffix-trick", desc: "intermediate permits DNS example.test, leaf SAN db.badexample.test",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{"example.test"}}), leaf: testpki.Spec{CommonName: "db.example.test", DNSNames: []string{"db.badexample.test"}}},
		{id: "nc/permitted-dns-leading-dot", desc: "intermediate permits DNS .example.test, leaf SAN example.test",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{".example.test"}}), leaf: testpki.Spec{CommonName: "example.test", DNSNames: []string{"example.test"}}},
		{id: "nc/permitted-dns-cn-only-inside", desc: "intermediate permits DNS example.test, leaf CN db.example.test, no SAN",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{"example.test"}}), leaf: testpki.Spec{CommonName: "db.example.test", ExtraExtensions: []pkix.Extension{}}},
		{id: "nc/permitted-dns-cn-only-outside", desc: "intermediate permits DNS example.test, leaf CN localhost, no SAN",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{"example.test"}}), leaf: testpki.Spec{CommonName: "localhost", ExtraExtensions: []pkix.Extension{}}, fast: true},
		{id: "nc/permitted-dns-cn-not-hostname", desc: "intermediate permits DNS example.test, leaf CN 'Database Server', no SAN",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{"example.test"}}), leaf: testpki.Spec{CommonName: "Database Server", ExtraExtensions: []pkix.Extension{}}},
		{id: "nc/excluded-dns-inside", desc: "intermediate excludes DNS bad.example.test, leaf SAN db.bad.example.test",
			inters: inter(testpki.Spec{IsCA: true, ExcludedDNSDomains: []string{"bad.example.test"}}), leaf: testpki.Spec{CommonName: "db.bad.example.test", DNSNames: []string{"db.bad.example.test"}}},
		{id: "nc/excluded-dns-outside", desc: "intermediate excludes DNS bad.example.test, leaf SAN localhost",
			inters: inter(testpki.Spec{IsCA: true, ExcludedDNSDomains: []string{"bad.example.test"}})},
		{id: "nc/permitted-ip-inside", desc: "intermediate permits IP 127.0.0.0/8, leaf SAN IP 127.0.0.1",
			inters: inter(testpki.Spec{IsCA: true, PermittedIPRanges: []*net.IPNet{ipnet("127.0.0.0/8")}}), leaf: testpki.Spec{CommonName: "localhost", IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}},
		{id: "nc/permitted-ip-outside", desc: "intermediate permits IP 10.0.0.0/8, leaf SAN IP 127.0.0.1",
			inters: inter(testpki.Spec{IsCA: true, PermittedIPRanges: []*net.IPNet{ipnet("10.0.0.0/8")}}), leaf: testpki.Spec{CommonName: "localhost", IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}, fast: true},
		{id: "nc/excluded-ip-inside", desc: "intermediate excludes IP 127.0.0.0/8, leaf SAN IP 127.0.0.1",
			inters: inter(testpki.Spec{IsCA: true, ExcludedIPRanges: []*net.IPNet{ipnet("127.0.0.0/8")}}), leaf: testpki.Spec{CommonName: "localhost", IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}},
		{id: "nc/permitted-ip-dns-leaf", desc: "intermediate permits IP 10.0.0.0/8 only, leaf SAN dNSName localhost",
			inters: inter(testpki.Spec{IsCA: true, PermittedIPRanges: []*net.IPNet{ipnet("10.0.0.0/8")}})},
		{id: "nc/permitted-ip-cn-ip", desc: "intermediate permits IP 10.0.0.0/8, leaf CN 127.0.0.1, no SAN",
			inters: inter(testpki.Spec{IsCA: true, PermittedIPRanges: []*net.IPNet{ipnet("10.0.0.0/8")}}), leaf: testpki.Spec{CommonName: "127.0.0.1", ExtraExtensions: []pkix.Extension{}}},
		{id: "nc/root-permitted-dns-outside", desc: "trusted root permits DNS example.test, leaf SAN localhost", root: rootNC, inters: std},
	}
	for _, e := range list {
		r := e.root
		if r == nil {
			r = root
		}
		issuer := r
		var sent []*testpki.Cert
		for _, s := range e.inters {
			if s.CommonName == issuer.Cert.Subject.CommonName {
				// Self-issued: crypto/x509 writes no authority key id
				// then, which would make it look self-signed.
				s.AuthorityKeyId = issuer.Cert.SubjectKeyId
			}
			c := g.b.issue(issuer, s)
			sent = append([]*testpki.Cert{c}, sent...)
			issuer = c
		}
		ls := e.leaf
		if len(ls.ExtraExtensions) == 0 && ls.ExtraExtensions != nil {
			// An empty, non-nil list marks a leaf without SAN.
			ls.ExtraExtensions = nil
			if ls.CommonName == "" {
				ls.CommonName = "localhost"
			}
		} else {
			ls = leafSpec(ls)
		}
		leaf := g.b.issue(issuer, ls)
		chain := testpki.ChainPEM(append([]*testpki.Cert{leaf}, sent...)...)
		srv := g.server("ext-"+strings.ReplaceAll(e.id, "/", "-"), chain, leaf.KeyPEM, "both", nil, nil)
		files := []File{rootFile(r)}
		mode := "verify-ca"
		if e.mode == "require-noroot" {
			files, mode = nil, "require"
		}
		g.add(Case{
			ID: GroupExtension + "/" + e.id, Group: GroupExtension,
			Desc:   e.desc + ", " + mode,
			Server: srv, Files: files,
			DSN:  dsn("localhost", "sslmode="+mode),
			Fast: e.fast,
		})
	}
}
