// This file holds the key and signature algorithm and encoding cases.

package conformance

import (
	"crypto/x509"
	"fmt"
	"math/big"

	"github.com/pqssl/pqssl/internal/testpki"
)

// algorithms: key types and sizes, signature algorithms, serial numbers.
func (g *gen) algorithms() {
	type alg struct {
		id, desc       string
		rootSpec       testpki.Spec
		interSpec      testpki.Spec
		leafSpec       testpki.Spec
		negativeSerial bool
		interInRoot    bool // the server sends the leaf alone
		direct         bool // the root issues the leaf
		modes          []string
		fast           bool
	}
	// The server refuses to load a leaf or intermediate that OpenSSL's
	// security level 2 rejects (RSA-1024 keys, SHA-1 signatures): such
	// certificates are placed in the root file instead (interInRoot), where
	// only the clients judge them.
	list := []alg{
		{id: "leaf-rsa2048", desc: "RSA-2048 leaf", leafSpec: testpki.Spec{KeyType: testpki.RSA2048}, modes: []string{"verify-ca"}},
		{id: "leaf-rsa4096", desc: "RSA-4096 leaf", leafSpec: testpki.Spec{KeyType: testpki.RSA4096}, modes: []string{"verify-ca"}},
		{id: "leaf-p256", desc: "ECDSA P-256 leaf", leafSpec: testpki.Spec{KeyType: testpki.P256}, modes: []string{"verify-ca"}},
		{id: "leaf-p384", desc: "ECDSA P-384 leaf", leafSpec: testpki.Spec{KeyType: testpki.P384}, modes: []string{"verify-ca"}},
		{id: "leaf-ed25519", desc: "Ed25519 leaf", leafSpec: testpki.Spec{KeyType: testpki.Ed25519}, modes: []string{"verify-ca", "require"}, fast: true},
		{id: "intermediate-rsa1024", desc: "RSA-1024 intermediate (in the root file)", interSpec: testpki.Spec{KeyType: testpki.RSA1024}, interInRoot: true, modes: []string{"verify-ca"}, fast: true},
		{id: "root-rsa1024", desc: "RSA-1024 root", rootSpec: testpki.Spec{KeyType: testpki.RSA1024}, modes: []string{"verify-ca", "require"}},
		{id: "root-rsa1024-direct", desc: "RSA-1024 root issuing the leaf directly", rootSpec: testpki.Spec{KeyType: testpki.RSA1024}, direct: true, modes: []string{"verify-ca"}},
		{id: "all-rsa2048", desc: "RSA-2048 root, intermediate and leaf", rootSpec: testpki.Spec{KeyType: testpki.RSA2048}, interSpec: testpki.Spec{KeyType: testpki.RSA2048}, leafSpec: testpki.Spec{KeyType: testpki.RSA2048}, modes: []string{"verify-full"}},
		{id: "all-rsa4096", desc: "RSA-4096 root, intermediate and leaf", rootSpec: testpki.Spec{KeyType: testpki.RSA4096}, interSpec: testpki.Spec{KeyType: testpki.RSA4096}, leafSpec: testpki.Spec{KeyType: testpki.RSA4096}, modes: []string{"verify-full"}},
		{id: "all-p384", desc: "ECDSA P-384 root, intermediate and leaf", rootSpec: testpki.Spec{KeyType: testpki.P384}, interSpec: testpki.Spec{KeyType: testpki.P384}, leafSpec: testpki.Spec{KeyType: testpki.P384}, modes: []string{"verify-full"}},
		{id: "all-ed25519", desc: "Ed25519 root, intermediate and leaf", rootSpec: testpki.Spec{KeyType: testpki.Ed25519}, interSpec: testpki.Spec{KeyType: testpki.Ed25519}, leafSpec: testpki.Spec{KeyType: testpki.Ed25519}, modes: []string{"verify-full"}},
		{id: "mixed-rsa-root-ec-leaf", desc: "RSA-4096 root, RSA-2048 intermediate, P-256 leaf", rootSpec: testpki.Spec{KeyType: testpki.RSA4096}, interSpec: testpki.Spec{KeyType: testpki.RSA2048}, modes: []string{"verify-full"}},
		{id: "mixed-ec-root-rsa-leaf", desc: "P-384 root, Ed25519 intermediate, RSA-2048 leaf", rootSpec: testpki.Spec{KeyType: testpki.P384}, interSpec: testpki.Spec{KeyType: testpki.Ed25519}, leafSpec: testpki.Spec{KeyType: testpki.RSA2048}, modes: []string{"verify-full"}},
		{id: "sig-sha1-intermediate", desc: "intermediate signed with SHA-1 (RSA), in the root file", rootSpec: testpki.Spec{KeyType: testpki.RSA2048}, interSpec: testpki.Spec{SignatureAlgorithm: x509.SHA1WithRSA}, interInRoot: true, modes: []string{"verify-ca"}, fast: true},
		{id: "sig-ecdsa-sha1-intermediate", desc: "intermediate signed with ECDSA-SHA1, in the root file", interSpec: testpki.Spec{SignatureAlgorithm: x509.ECDSAWithSHA1}, interInRoot: true, modes: []string{"verify-ca"}},
		{id: "sig-sha1-root-self", desc: "root self-signed with SHA-1 (RSA)", rootSpec: testpki.Spec{KeyType: testpki.RSA2048, SignatureAlgorithm: x509.SHA1WithRSA}, modes: []string{"verify-ca"}},
		{id: "sig-sha1-root-self-direct", desc: "root self-signed with SHA-1 (RSA) issuing the leaf directly", rootSpec: testpki.Spec{KeyType: testpki.RSA2048, SignatureAlgorithm: x509.SHA1WithRSA}, direct: true, modes: []string{"verify-ca"}},
		{id: "sig-sha256-rsa", desc: "leaf signed with SHA-256 (RSA)", interSpec: testpki.Spec{KeyType: testpki.RSA2048}, leafSpec: testpki.Spec{SignatureAlgorithm: x509.SHA256WithRSA}, modes: []string{"verify-ca"}},
		{id: "sig-sha512-rsa", desc: "leaf signed with SHA-512 (RSA)", interSpec: testpki.Spec{KeyType: testpki.RSA2048}, leafSpec: testpki.Spec{SignatureAlgorithm: x509.SHA512WithRSA}, modes: []string{"verify-ca"}},
		{id: "sig-rsa-pss-leaf", desc: "leaf signed with RSA-PSS SHA-256", interSpec: testpki.Spec{KeyType: testpki.RSA2048}, leafSpec: testpki.Spec{SignatureAlgorithm: x509.SHA256WithRSAPSS}, modes: []string{"verify-ca"}, fast: true},
		{id: "sig-rsa-pss-chain", desc: "intermediate and leaf signed with RSA-PSS SHA-384", rootSpec: testpki.Spec{KeyType: testpki.RSA2048}, interSpec: testpki.Spec{KeyType: testpki.RSA2048, SignatureAlgorithm: x509.SHA384WithRSAPSS}, leafSpec: testpki.Spec{SignatureAlgorithm: x509.SHA384WithRSAPSS}, modes: []string{"verify-ca"}},
		{id: "sig-ecdsa-sha384", desc: "leaf signed with ECDSA-SHA384", leafSpec: testpki.Spec{SignatureAlgorithm: x509.ECDSAWithSHA384}, modes: []string{"verify-ca"}},
		{id: "sig-ecdsa-sha512", desc: "leaf signed with ECDSA-SHA512 by a P-384 intermediate", interSpec: testpki.Spec{KeyType: testpki.P384}, leafSpec: testpki.Spec{SignatureAlgorithm: x509.ECDSAWithSHA512}, modes: []string{"verify-ca"}},
		{id: "serial-zero", desc: "leaf with serial number 0", leafSpec: testpki.Spec{SerialNumber: big.NewInt(0)}, modes: []string{"verify-ca", "require"}},
		{id: "serial-one", desc: "leaf with serial number 1", leafSpec: testpki.Spec{SerialNumber: big.NewInt(1)}, modes: []string{"verify-ca"}},
		{id: "serial-20-bytes", desc: "leaf with a 20-byte serial number", leafSpec: testpki.Spec{SerialNumber: new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 159), big.NewInt(1))}, modes: []string{"verify-ca"}},
		{id: "serial-negative", desc: "leaf with a negative serial number", negativeSerial: true, modes: []string{"verify-ca", "require"}, fast: true},
	}
	for _, a := range list {
		rs := a.rootSpec
		rs.CommonName = "Algorithm Root " + a.id
		root := g.b.root(rs)
		is := a.interSpec
		is.CommonName, is.IsCA = "Algorithm Intermediate "+a.id, true
		inter := g.b.issue(root, is)
		if a.direct {
			inter = root
		}
		ls := a.leafSpec
		ls.CommonName, ls.DNSNames = "localhost", []string{"localhost"}
		leaf := g.b.issue(inter, ls)
		if a.negativeSerial {
			leaf = g.b.withSerial(leaf, big.NewInt(-1234567), inter.Key)
		}
		chain, roots := testpki.ChainPEM(leaf, inter), rootFile(root)
		switch {
		case a.direct:
			chain = leaf.CertPEM
		case a.interInRoot:
			chain, roots = leaf.CertPEM, rootFile(root, inter)
		}
		srv := g.server("alg-"+a.id, chain, leaf.KeyPEM, "both", nil, nil)
		for i, m := range a.modes {
			var files []File
			if m != "require" {
				files = []File{roots}
			}
			desc := a.desc + ", " + m
			if m == "require" {
				desc += " without root file"
			}
			g.add(Case{
				ID: fmt.Sprintf("%s/%s/%s", GroupAlgorithm, a.id, m), Group: GroupAlgorithm,
				Desc: desc, Server: srv, Files: files,
				DSN:  dsn("localhost", "sslmode="+m),
				Fast: a.fast && i == 0,
			})
		}
	}
}
