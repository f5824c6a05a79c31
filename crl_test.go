package pqssl

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/oid"

	"github.com/pqssl/pqssl/internal/testpki"
)

// ---------------------------------------------------------------------------
// Helpers

// der encodes one element with the given class and tag around content.
func derElem(t testing.TB, class, tag int, compound bool, content ...[]byte) []byte {
	t.Helper()
	b, err := asn1.Marshal(asn1.RawValue{Class: class, Tag: tag, IsCompound: compound, Bytes: bytes.Join(content, nil)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func derSeq(t testing.TB, content ...[]byte) []byte {
	return derElem(t, asn1.ClassUniversal, asn1.TagSequence, true, content...)
}

func derCtx(t testing.TB, tag int, compound bool, content ...[]byte) []byte {
	return derElem(t, asn1.ClassContextSpecific, tag, compound, content...)
}

// uriName is a GeneralName uniformResourceIdentifier.
func uriName(t testing.TB, uri string) []byte { return derCtx(t, gnURI, false, []byte(uri)) }

// fullNameDP is a DistributionPointName holding one fullName URI.
func fullNameDP(t testing.TB, uri string) []byte { return derCtx(t, 0, true, uriName(t, uri)) }

// relativeDP is a DistributionPointName relative to the CRL issuer: one
// common name.
func relativeDP(t testing.TB, cn string) []byte {
	return derCtx(t, 1, true, cnATV(t, cn))
}

// dirNameDP is a DistributionPointName holding one fullName directoryName:
// the RDNs of the DER name base followed by a common name.
func dirNameDP(t testing.TB, base []byte, cn string) []byte {
	var name asn1.RawValue
	if _, err := asn1.Unmarshal(base, &name); err != nil {
		t.Fatal(err)
	}
	dn := derSeq(t, name.Bytes, derElem(t, asn1.ClassUniversal, asn1.TagSet, true, cnATV(t, cn)))
	return derCtx(t, 0, true, derCtx(t, gnDirectoryName, true, dn))
}

func cnATV(t testing.TB, cn string) []byte {
	oid, err := asn1.Marshal(oid.CommonName)
	if err != nil {
		t.Fatal(err)
	}
	return derSeq(t, oid, derElem(t, asn1.ClassUniversal, tagUTF8String, false, []byte(cn)))
}

// idpSpec describes an issuingDistributionPoint extension.
type idpSpec struct {
	uri                              string // fullName; "" for no distributionPoint (unless dp)
	dp                               []byte // the DistributionPointName, overriding uri
	onlyUser, onlyCA, onlyAttr, indi bool
	reasons                          []byte // ReasonFlags content octets; nil for none
}

func idpExtension(t testing.TB, s idpSpec) pkix.Extension {
	var parts [][]byte
	switch {
	case s.dp != nil:
		parts = append(parts, derCtx(t, 0, true, s.dp))
	case s.uri != "":
		parts = append(parts, derCtx(t, 0, true, fullNameDP(t, s.uri)))
	}
	flag := func(tag int, on bool) {
		if on {
			parts = append(parts, derCtx(t, tag, false, []byte{0xff}))
		}
	}
	flag(1, s.onlyUser)
	flag(2, s.onlyCA)
	if s.reasons != nil {
		parts = append(parts, derCtx(t, 3, false, s.reasons))
	}
	flag(4, s.indi)
	flag(5, s.onlyAttr)
	return pkix.Extension{Id: oid.IssuingDistributionPoint, Critical: true, Value: derSeq(t, parts...)}
}

// crldpExtension is a cRLDistributionPoints extension with one point: the
// URI as fullName (none when empty) and the reasons (none when nil).
func crldpExtension(t testing.TB, uri string, reasons []byte) pkix.Extension {
	return crldpExtensionDP(t, fullNameDP(t, uri), reasons)
}

// crldpExtensionDP is crldpExtension with any DistributionPointName.
func crldpExtensionDP(t testing.TB, dp []byte, reasons []byte) pkix.Extension {
	var parts [][]byte
	if dp != nil {
		parts = append(parts, derCtx(t, 0, true, dp))
	}
	if reasons != nil {
		parts = append(parts, derCtx(t, 1, false, reasons))
	}
	return pkix.Extension{Id: oid.CRLDistributionPoints, Value: derSeq(t, derSeq(t, parts...))}
}

// hashName is the hashed-directory name of a certificate's subject.
func hashName(c *testpki.Cert) string { return nameHash(newCertInfo(c.Cert).subject) }

func pemCRL(t testing.TB, issuer *testpki.Cert, spec testpki.CRLSpec) []byte {
	t.Helper()
	return testpki.CRLPEM(issuer.MustCRL(t, spec))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// ---------------------------------------------------------------------------
// Revocation cases, checked against OpenSSL

// crlCase is a verification with revocation checking: a root file, a CRL
// file and hashed directories as libpq would load them.
type crlCase struct {
	name    string
	roots   []byte
	crlFile []byte // content of sslcrl; nil for none
	// dirs are the sslcrldir directories, in order, each a map from file
	// name to content; nil for no sslcrldir.
	dirs []map[string][]byte
	// missingDir adds a directory that does not exist to sslcrldir.
	missingDir bool
	peer       []*testpki.Cert
	want       VerifyReason
	depth      int
	// noCheck: the CRL location does not load, so libpq checks no
	// revocation (and openssl verify is run without -crl_check_all).
	noCheck bool
	// libpqDiffers: pqssl differs from libpq on purpose here, so openssl
	// verify, which models libpq, is not asked.
	libpqDiffers bool
}

func crlCases(t testing.TB) []crlCase {
	now := time.Now()
	root := testpki.MustRoot(t, testpki.Spec{CommonName: "CRL Root"})
	inter := root.MustIssue(t, testpki.Spec{CommonName: "CRL Inter", IsCA: true})
	leaf := inter.MustIssue(t, testpki.Spec{DNSNames: []string{"localhost"}})
	chain := []*testpki.Cert{leaf, inter}
	other := testpki.MustRoot(t, testpki.Spec{CommonName: "CRL Other Root"})
	// Same name as inter, another key.
	twin := root.MustIssue(t, testpki.Spec{CommonName: "CRL Inter", IsCA: true})
	expiredLeaf := inter.MustIssue(t, testpki.Spec{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})

	rootCRL := pemCRL(t, root, testpki.CRLSpec{})
	interCRL := pemCRL(t, inter, testpki.CRLSpec{})
	all := cat(rootCRL, interCRL)
	revokes := func(issuer *testpki.Cert, certs ...*testpki.Cert) []byte {
		return pemCRL(t, issuer, testpki.CRLSpec{Revoked: testpki.Serials(certs...)})
	}
	withExt := func(issuer *testpki.Cert, exts ...pkix.Extension) []byte {
		return pemCRL(t, issuer, testpki.CRLSpec{ExtraExtensions: exts})
	}
	// entry is a CRL of inter with one entry.
	entry := func(serial *big.Int, reason int, exts ...pkix.Extension) []byte {
		return pemCRL(t, inter, testpki.CRLSpec{Entries: []x509.RevocationListEntry{{SerialNumber: serial, ReasonCode: reason, ExtraExtensions: exts}}})
	}
	badSig := func(issuer *testpki.Cert) []byte {
		der := issuer.MustCRL(t, testpki.CRLSpec{})
		der = bytes.Clone(der)
		der[len(der)-5] ^= 0x55
		return testpki.CRLPEM(der)
	}

	// Leaves with distribution points.
	dpLeaf := inter.MustIssue(t, testpki.Spec{ExtraExtensions: []pkix.Extension{crldpExtension(t, "http://crl.test/inter.crl", nil)}})
	// (crypto/x509 refuses certificates whose distribution points use
	// relative names, so only CRLs have them here.)
	dirLeaf := inter.MustIssue(t, testpki.Spec{ExtraExtensions: []pkix.Extension{crldpExtensionDP(t, dirNameDP(t, inter.Cert.RawSubject, "part1"), nil)}})
	dpReasonsLeaf := inter.MustIssue(t, testpki.Spec{ExtraExtensions: []pkix.Extension{crldpExtension(t, "http://crl.test/inter.crl", []byte{0x06, 0x40})}})
	// An intermediate that may not sign CRLs.
	noCRLSign := root.MustIssue(t, testpki.Spec{CommonName: "CRL Inter No cRLSign", IsCA: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
	noCRLSignLeaf := noCRLSign.MustIssue(t, testpki.Spec{})
	selfSigned := testpki.MustSelfSigned(t, testpki.Spec{CommonName: "CRL Self-Signed Leaf"})
	selfSignedCRLSign := testpki.MustSelfSigned(t, testpki.Spec{CommonName: "CRL Self-Signed Leaf 2",
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign})

	unknownCritical := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}, Critical: true, Value: []byte{5, 0}}
	deltaIndicator := pkix.Extension{Id: oid.DeltaCRLIndicator, Critical: true, Value: []byte{2, 1, 1}}
	hR, hI := hashName(root), hashName(inter)

	return []crlCase{
		{name: "complete set, nothing revoked", roots: root.CertPEM, crlFile: all, peer: chain},
		{name: "revoked leaf", roots: root.CertPEM, crlFile: cat(rootCRL, revokes(inter, leaf)), peer: chain, want: CertRevoked, depth: 0},
		{name: "revoked intermediate", roots: root.CertPEM, crlFile: cat(revokes(root, inter), interCRL), peer: chain, want: CertRevoked, depth: 1},
		{name: "root revokes itself", roots: root.CertPEM, crlFile: cat(revokes(root, root), interCRL), peer: chain, want: CertRevoked, depth: 2},
		{name: "revoked leaf listed by the wrong CA", roots: root.CertPEM, crlFile: cat(revokes(root, leaf), interCRL), peer: chain},
		{name: "root's CRL missing", roots: root.CertPEM, crlFile: interCRL, peer: chain, want: UnableToGetCRL, depth: 1},
		{name: "intermediate's CRL missing", roots: root.CertPEM, crlFile: rootCRL, peer: chain, want: UnableToGetCRL, depth: 0},
		{name: "CRL of another CA", roots: root.CertPEM, crlFile: cat(rootCRL, pemCRL(t, other, testpki.CRLSpec{})), peer: chain, want: UnableToGetCRL, depth: 0},
		{name: "CRL of a namesake CA, key id differs", roots: root.CertPEM, crlFile: cat(rootCRL, pemCRL(t, twin, testpki.CRLSpec{})), peer: chain,
			want: UnableToGetCRL, depth: 0},
		{name: "CRL of a namesake CA without key id", roots: root.CertPEM, crlFile: cat(rootCRL, pemCRL(t, twin, testpki.CRLSpec{NoAuthorityKeyId: true})),
			peer: chain, want: CRLSignatureFailure, depth: 0},
		{name: "bad CRL signature", roots: root.CertPEM, crlFile: cat(rootCRL, badSig(inter)), peer: chain, want: CRLSignatureFailure, depth: 0},
		{name: "expired CRL", roots: root.CertPEM, crlFile: cat(rootCRL, pemCRL(t, inter, testpki.CRLSpec{ThisUpdate: now.Add(-48 * time.Hour), NextUpdate: now.Add(-time.Hour)})),
			peer: chain, want: CRLHasExpired, depth: 0},
		{name: "CRL not yet valid", roots: root.CertPEM, crlFile: cat(rootCRL, pemCRL(t, inter, testpki.CRLSpec{ThisUpdate: now.Add(time.Hour), NextUpdate: now.Add(48 * time.Hour)})),
			peer: chain, want: CRLNotYetValid, depth: 0},
		{name: "CRL without nextUpdate", roots: root.CertPEM, crlFile: cat(rootCRL, pemCRL(t, inter, testpki.CRLSpec{NoNextUpdate: true})), peer: chain},
		{name: "expired CRL beside a current one", roots: root.CertPEM,
			crlFile: cat(rootCRL, pemCRL(t, inter, testpki.CRLSpec{ThisUpdate: now.Add(-48 * time.Hour), NextUpdate: now.Add(-time.Hour)}), interCRL), peer: chain},
		{name: "newer CRL no longer lists the leaf", roots: root.CertPEM,
			crlFile: cat(rootCRL, pemCRL(t, inter, testpki.CRLSpec{Revoked: testpki.Serials(leaf), ThisUpdate: now.Add(-3 * time.Hour)}),
				pemCRL(t, inter, testpki.CRLSpec{ThisUpdate: now.Add(-2 * time.Hour)})), peer: chain},
		{name: "newer CRL lists the leaf", roots: root.CertPEM,
			crlFile: cat(rootCRL, pemCRL(t, inter, testpki.CRLSpec{ThisUpdate: now.Add(-3 * time.Hour)}),
				pemCRL(t, inter, testpki.CRLSpec{Revoked: testpki.Serials(leaf), ThisUpdate: now.Add(-2 * time.Hour)})), peer: chain,
			want: CertRevoked},
		{name: "current CRL beats a newer expired one", roots: root.CertPEM,
			crlFile: cat(rootCRL, pemCRL(t, inter, testpki.CRLSpec{Revoked: testpki.Serials(leaf), ThisUpdate: now.Add(-3 * time.Hour)}),
				pemCRL(t, inter, testpki.CRLSpec{ThisUpdate: now.Add(-2 * time.Hour), NextUpdate: now.Add(-time.Hour)})), peer: chain,
			want: CertRevoked},
		{name: "unhandled critical CRL extension", roots: root.CertPEM, crlFile: cat(rootCRL, withExt(inter, unknownCritical)), peer: chain,
			want: UnhandledCriticalCRLExtension},
		{name: "unhandled critical entry extension", roots: root.CertPEM, crlFile: cat(rootCRL, entry(big.NewInt(99), 0, unknownCritical)), peer: chain,
			want: UnhandledCriticalCRLExtension},
		{name: "critical CRL extension beside a clean CRL", roots: root.CertPEM, crlFile: cat(rootCRL, withExt(inter, unknownCritical), interCRL), peer: chain},
		{name: "removeFromCRL entry", roots: root.CertPEM, crlFile: cat(rootCRL, entry(leaf.Cert.SerialNumber, crlReasonRemoveFromCRL)), peer: chain},
		{name: "keyCompromise entry", roots: root.CertPEM, crlFile: cat(rootCRL, entry(leaf.Cert.SerialNumber, 1)), peer: chain, want: CertRevoked},
		{name: "IDP onlyContainsCACerts, leaf", roots: root.CertPEM, crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{onlyCA: true}))), peer: chain,
			want: DifferentCRLScope},
		{name: "IDP onlyContainsUserCerts, intermediate", roots: root.CertPEM, crlFile: cat(withExt(root, idpExtension(t, idpSpec{onlyUser: true})), interCRL), peer: chain,
			want: DifferentCRLScope, depth: 1},
		{name: "IDP onlyContainsUserCerts, leaf", roots: root.CertPEM, crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{onlyUser: true}))), peer: chain},
		{name: "IDP onlyContainsAttributeCerts", roots: root.CertPEM, crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{onlyAttr: true}))), peer: chain,
			want: DifferentCRLScope},
		{name: "IDP with two only flags", roots: root.CertPEM, crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{onlyUser: true, onlyCA: true}))), peer: chain,
			want: UnableToGetCRL},
		{name: "indirect CRL", roots: root.CertPEM, crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{indi: true}))), peer: chain, want: UnableToGetCRL},
		{name: "CRL for some reasons only", roots: root.CertPEM, crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{reasons: []byte{0x06, 0x40}}))), peer: chain,
			want: UnableToGetCRL},
		{name: "IDP distribution point, certificate has none", roots: root.CertPEM,
			crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{uri: "http://crl.test/inter.crl"}))), peer: chain, want: DifferentCRLScope},
		{name: "IDP distribution point matches the certificate's", roots: root.CertPEM,
			crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{uri: "http://crl.test/inter.crl"}))), peer: []*testpki.Cert{dpLeaf, inter}},
		{name: "IDP distribution point differs from the certificate's", roots: root.CertPEM,
			crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{uri: "http://crl.test/other.crl"}))), peer: []*testpki.Cert{dpLeaf, inter},
			want: DifferentCRLScope},
		{name: "relative IDP name matches a directoryName", roots: root.CertPEM,
			crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{dp: relativeDP(t, "PART1")}))), peer: []*testpki.Cert{dirLeaf, inter}},
		{name: "relative IDP name differs from a directoryName", roots: root.CertPEM,
			crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{dp: relativeDP(t, "part2")}))), peer: []*testpki.Cert{dirLeaf, inter},
			want: DifferentCRLScope},
		{name: "directoryName IDP matches", roots: root.CertPEM,
			crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{dp: dirNameDP(t, inter.Cert.RawSubject, " Part1 ")}))), peer: []*testpki.Cert{dirLeaf, inter}},
		{name: "directoryName IDP differs", roots: root.CertPEM,
			crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{dp: dirNameDP(t, root.Cert.RawSubject, "part1")}))), peer: []*testpki.Cert{dirLeaf, inter},
			want: DifferentCRLScope},
		{name: "URI IDP against a directoryName", roots: root.CertPEM,
			crlFile: cat(rootCRL, withExt(inter, idpExtension(t, idpSpec{uri: "http://crl.test/inter.crl"}))), peer: []*testpki.Cert{dirLeaf, inter},
			want: DifferentCRLScope},
		{name: "certificate distribution point, CRL without IDP", roots: root.CertPEM, crlFile: all, peer: []*testpki.Cert{dpLeaf, inter}},
		{name: "certificate distribution point for some reasons", roots: root.CertPEM, crlFile: all, peer: []*testpki.Cert{dpReasonsLeaf, inter},
			want: UnableToGetCRL},
		{name: "issuer without cRLSign", roots: root.CertPEM, crlFile: cat(rootCRL, pemCRL(t, noCRLSign, testpki.CRLSpec{})),
			peer: []*testpki.Cert{noCRLSignLeaf, noCRLSign}, want: KeyUsageNoCRLSign},
		{name: "delta CRL taken as complete", roots: root.CertPEM, crlFile: cat(rootCRL, withExt(inter, deltaIndicator)), peer: chain},
		{name: "delta CRL from an issuer without cRLSign", roots: root.CertPEM, crlFile: cat(rootCRL, withExt(noCRLSign, deltaIndicator)),
			peer: []*testpki.Cert{noCRLSignLeaf, noCRLSign}},
		{name: "v1 CRL", roots: root.CertPEM, crlFile: cat(rootCRL, pemCRL(t, inter, testpki.CRLSpec{Version1: true})), peer: chain},
		{name: "v1 CRL revoking the leaf", roots: root.CertPEM, crlFile: cat(rootCRL, pemCRL(t, inter, testpki.CRLSpec{Version1: true, Revoked: testpki.Serials(leaf)})),
			peer: chain, want: CertRevoked},
		{name: "revocation is checked before validity periods", roots: root.CertPEM, crlFile: cat(rootCRL, revokes(inter, expiredLeaf)),
			peer: []*testpki.Cert{expiredLeaf, inter}, want: CertRevoked},
		{name: "expired leaf, not revoked", roots: root.CertPEM, crlFile: all, peer: []*testpki.Cert{expiredLeaf, inter}, want: CertHasExpired},
		{name: "chain errors come first", roots: other.CertPEM, crlFile: all, peer: chain, want: UnableToGetIssuerCertLocally, depth: 1},
		{name: "self-signed leaf needs its own CRL", roots: selfSigned.CertPEM, crlFile: rootCRL, peer: []*testpki.Cert{selfSigned}, want: UnableToGetCRL},
		{name: "self-signed leaf with its own CRL, no cRLSign", roots: selfSigned.CertPEM, crlFile: pemCRL(t, selfSigned, testpki.CRLSpec{}),
			peer: []*testpki.Cert{selfSigned}, want: KeyUsageNoCRLSign},
		{name: "self-signed leaf with its own CRL", roots: selfSignedCRLSign.CertPEM, crlFile: pemCRL(t, selfSignedCRLSign, testpki.CRLSpec{}),
			peer: []*testpki.Cert{selfSignedCRLSign}},

		// The CRL file as OpenSSL loads it.
		{name: "CRL file holding a trust anchor", roots: other.CertPEM, crlFile: cat(root.CertPEM, all), peer: chain},
		{name: "CRL file with certificates only", roots: root.CertPEM, crlFile: root.CertPEM, peer: chain, want: UnableToGetCRL},
		// libpq reads a DER CRL file as nothing; pqssl uses it.
		{name: "DER CRL file", roots: root.CertPEM, crlFile: inter.MustCRL(t, testpki.CRLSpec{Revoked: testpki.Serials(leaf)}), peer: chain,
			want: CertRevoked, libpqDiffers: true},
		{name: "CRL file with a malformed block", roots: root.CertPEM, crlFile: cat(revokes(inter, leaf), []byte("-----BEGIN X509 CRL-----\n!!!!\n-----END X509 CRL-----\n")),
			peer: chain, noCheck: true},
		{name: "CRL file with a key", roots: root.CertPEM, crlFile: cat(rootCRL, revokes(inter, leaf), leaf.KeyPEM), peer: chain, want: CertRevoked},
		{name: "empty CRL file", roots: root.CertPEM, crlFile: []byte{}, peer: chain, noCheck: true},
		{name: "CRLs in the root file", roots: cat(root.CertPEM, rootCRL, revokes(inter, leaf)), dirs: []map[string][]byte{{}}, peer: chain, want: CertRevoked},

		// Hashed directories.
		{name: "directory, correct names", roots: root.CertPEM, dirs: []map[string][]byte{{hR + ".r0": rootCRL, hI + ".r0": interCRL}}, peer: chain},
		{name: "directory, revoked leaf", roots: root.CertPEM, dirs: []map[string][]byte{{hR + ".r0": rootCRL, hI + ".r0": revokes(inter, leaf)}}, peer: chain,
			want: CertRevoked},
		{name: "directory, wrong names", roots: root.CertPEM, dirs: []map[string][]byte{{hR + ".0": rootCRL, hI + ".crl": interCRL, "root.crl": all}}, peer: chain,
			want: UnableToGetCRL},
		{name: "directory, second file after a gap", roots: root.CertPEM, dirs: []map[string][]byte{{hR + ".r0": rootCRL, hI + ".r1": interCRL}}, peer: chain,
			want: UnableToGetCRL},
		{name: "directory, second file", roots: root.CertPEM,
			dirs: []map[string][]byte{{hR + ".r0": rootCRL, hI + ".r0": pemCRL(t, inter, testpki.CRLSpec{ThisUpdate: now.Add(-3 * time.Hour)}),
				hI + ".r1": revokes(inter, leaf)}}, peer: chain, want: CertRevoked},
		{name: "directory, both CRLs in the intermediate's file", roots: root.CertPEM, dirs: []map[string][]byte{{hI + ".r0": all}}, peer: chain},
		{name: "directory, both CRLs in the root's file", roots: root.CertPEM, dirs: []map[string][]byte{{hR + ".r0": all}}, peer: chain, want: UnableToGetCRL},
		{name: "directory, malformed first file", roots: root.CertPEM, dirs: []map[string][]byte{{hR + ".r0": rootCRL, hI + ".r0": []byte("junk\n"), hI + ".r1": interCRL}},
			peer: chain, want: UnableToGetCRL},
		{name: "directory, CRL before a malformed block", roots: root.CertPEM,
			dirs: []map[string][]byte{{hR + ".r0": rootCRL, hI + ".r0": cat(interCRL, []byte("-----BEGIN X509 CRL-----\n!!!!\n-----END X509 CRL-----\n"))}}, peer: chain},
		{name: "directory, DER files", roots: root.CertPEM, dirs: []map[string][]byte{{hR + ".r0": root.MustCRL(t, testpki.CRLSpec{}), hI + ".r0": inter.MustCRL(t, testpki.CRLSpec{})}},
			peer: chain, want: UnableToGetCRL},
		{name: "directory, certificates before the CRL", roots: root.CertPEM, dirs: []map[string][]byte{{hR + ".r0": cat(root.CertPEM, rootCRL), hI + ".r0": interCRL}}, peer: chain},
		{name: "directory, trust anchor in it", roots: other.CertPEM, dirs: []map[string][]byte{{hR + ".0": root.CertPEM, hR + ".r0": rootCRL, hI + ".r0": interCRL}}, peer: chain},
		{name: "directory, anchor under a wrong name", roots: other.CertPEM, dirs: []map[string][]byte{{hR + ".1": root.CertPEM, hR + ".r0": rootCRL, hI + ".r0": interCRL}},
			peer: chain, want: UnableToGetIssuerCertLocally, depth: 1},
		{name: "directory, empty", roots: root.CertPEM, dirs: []map[string][]byte{{}}, peer: chain, want: UnableToGetCRL},
		{name: "directory that does not exist", roots: root.CertPEM, missingDir: true, peer: chain, want: UnableToGetCRL},
		{name: "two directories", roots: root.CertPEM, dirs: []map[string][]byte{{hR + ".r0": rootCRL}, {hI + ".r0": interCRL}}, peer: chain},
		{name: "two directories, the first one's CRL wins", roots: root.CertPEM,
			dirs: []map[string][]byte{{hR + ".r0": rootCRL, hI + ".r0": pemCRL(t, inter, testpki.CRLSpec{ThisUpdate: now.Add(-3 * time.Hour)})}, {hI + ".r0": revokes(inter, leaf)}},
			peer: chain},
		{name: "file and directory", roots: root.CertPEM, crlFile: rootCRL, dirs: []map[string][]byte{{hI + ".r0": revokes(inter, leaf)}}, peer: chain, want: CertRevoked},
		{name: "unloadable file and directory", roots: root.CertPEM, crlFile: []byte("junk\n"), dirs: []map[string][]byte{{hI + ".r0": revokes(inter, leaf)}},
			peer: chain, noCheck: true},
	}
}

// loadCRLCase writes the case's files and loads the trust store the way a
// connection does.
func loadCRLCase(t *testing.T, tc crlCase) (store *trustStore, rootFile, crlFile string, dirs []string) {
	t.Helper()
	base := t.TempDir()
	rootFile = testpki.WriteFile(t, filepath.Join(base, "root.crt"), tc.roots, 0o644)
	if tc.crlFile != nil {
		crlFile = testpki.WriteFile(t, filepath.Join(base, "root.crl"), tc.crlFile, 0o644)
	}
	for i, files := range tc.dirs {
		d := filepath.Join(base, "crls"+strconv.Itoa(i))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			testpki.WriteFile(t, filepath.Join(d, name), data, 0o644)
		}
		dirs = append(dirs, d)
	}
	if tc.missingDir {
		dirs = append(dirs, filepath.Join(base, "missing"))
	}
	src := newTrustStoreSource(rootFile, crlFile, strings.Join(dirs, ":"), false)
	store, err := src.load("verify-ca")
	if err != nil {
		t.Fatal(err)
	}
	return store, rootFile, crlFile, dirs
}

func TestRevocation(t *testing.T) {
	openssl, _ := exec.LookPath("openssl")
	for _, tc := range crlCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			store, rootFile, crlFile, dirs := loadCRLCase(t, tc)
			if store.crlCheck == tc.noCheck {
				t.Errorf("CRL checking %v, want %v", store.crlCheck, !tc.noCheck)
			}
			_, err := store.verifyChain(certs(tc.peer...), time.Now())
			var got VerifyReason
			depth := 0
			if err != nil {
				var ve *CertificateVerifyError
				if !errors.As(err, &ve) {
					t.Fatalf("error %T is not a *CertificateVerifyError: %v", err, err)
				}
				got, depth = ve.Reason, ve.Depth
			}
			if got != tc.want || depth != tc.depth {
				t.Errorf("verifyChain: %v (reason %d at depth %d), want reason %d (%v) at depth %d", err, got, depth, tc.want, tc.want, tc.depth)
			}
			if openssl == "" || tc.libpqDiffers {
				return
			}
			if len(tc.dirs) > 1 {
				t.Log("openssl verify takes a single -CApath directory")
				return
			}
			code, odepth := opensslVerifyCRL(t, openssl, tc, rootFile, crlFile, dirs)
			if VerifyReason(code) != tc.want || (code != 0 && odepth != tc.depth) {
				t.Errorf("openssl verify: error %d at depth %d, want %d at depth %d", code, odepth, tc.want, tc.depth)
			}
		})
	}
}

// opensslVerifyCRL runs "openssl verify" with a store like libpq's: the
// root file and, when it loads, the CRL file in one CA file, the hashed
// directories as CApath, and CRL checking for the whole chain unless no CRL
// location loaded.
func opensslVerifyCRL(t *testing.T, openssl string, tc crlCase, rootFile, crlFile string, dirs []string) (code, depth int) {
	t.Helper()
	tmp := t.TempDir()
	ca := cat(tc.roots, []byte("\n"))
	if crlFile != "" && !tc.noCheck {
		ca = cat(ca, tc.crlFile)
	}
	caFile := testpki.WriteFile(t, filepath.Join(tmp, "ca.pem"), ca, 0o600)
	args := []string{"-CAfile", caFile}
	if !tc.noCheck {
		args = append(args, "-crl_check_all")
	}
	if len(tc.dirs) == 1 && !tc.noCheck {
		// "openssl verify" insists on an existing directory: a missing
		// one, which adds nothing, is left out.
		args = append(args, "-CApath", dirs[0])
	} else {
		args = append(args, "-no-CApath")
	}
	return runOpensslVerify(t, openssl, args, tc.peer)
}

// ---------------------------------------------------------------------------
// Configuration, loading and errors

func TestCRLLocations(t *testing.T) {
	tests := []struct {
		dsn       string
		env       map[string]string
		file, dir string
	}{
		{dsn: "", file: "/home/u/.postgresql/root.crl"},
		{dsn: "sslcrl=/x/a.crl", file: "/x/a.crl"},
		{dsn: "sslcrldir=/x/crls", dir: "/x/crls"},
		{dsn: "sslcrl=/x/a.crl sslcrldir=/x/crls", file: "/x/a.crl", dir: "/x/crls"},
		{dsn: "sslcrl=''", file: "/home/u/.postgresql/root.crl"},
		{dsn: "sslcrldir=''", file: "/home/u/.postgresql/root.crl"},
		{dsn: "", env: map[string]string{"PGSSLCRL": "/e/a.crl"}, file: "/e/a.crl"},
		{dsn: "", env: map[string]string{"PGSSLCRLDIR": "/e/crls"}, dir: "/e/crls"},
		{dsn: "sslcrl=/x/a.crl", env: map[string]string{"PGSSLCRL": "/e/a.crl", "PGSSLCRLDIR": "/e/crls"}, file: "/x/a.crl", dir: "/e/crls"},
		{dsn: "sslinline=true", file: "/home/u/.postgresql/root.crl"},
	}
	for _, tt := range tests {
		env := map[string]string{"HOME": "/home/u"}
		for k, v := range tt.env {
			env[k] = v
		}
		cfg, err := parseConfig(tt.dsn, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatalf("%q: %v", tt.dsn, err)
		}
		file, dir := crlLocations(cfg)
		if file != tt.file || dir != tt.dir {
			t.Errorf("%q %v: file %q dir %q, want %q %q", tt.dsn, tt.env, file, dir, tt.file, tt.dir)
		}
	}
}

func TestSplitCRLDirs(t *testing.T) {
	for in, want := range map[string][]string{
		"":          nil,
		":":         nil,
		"/a":        {"/a"},
		"/a:/b":     {"/a", "/b"},
		"/a::/b:/a": {"/a", "/b"},
		":/a:":      {"/a"},
	} {
		got := splitCRLDirs(in)
		if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("splitCRLDirs(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCRLFileReloaded checks that the CRL file is parsed once per change,
// that changes are noticed, and that a file that stops loading switches
// revocation checking off, as libpq would on its next connection.
func TestCRLFileReloaded(t *testing.T) {
	root := testpki.MustRoot(t, testpki.Spec{CommonName: "Reload Root"})
	leaf := root.MustIssue(t, testpki.Spec{})
	dir := t.TempDir()
	rootFile := testpki.WriteFile(t, filepath.Join(dir, "root.crt"), root.CertPEM, 0o644)
	crlPath := filepath.Join(dir, "root.crl")
	src := newTrustStoreSource(rootFile, crlPath, "", false)
	verify := func() (*trustStore, error) {
		t.Helper()
		s, err := src.load("require")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.verifyChain(certs(leaf), time.Now())
		return s, err
	}

	s1, err := verify()
	if s1.crlCheck || err != nil {
		t.Fatalf("no CRL file: check %v, err %v", s1.crlCheck, err)
	}
	replaceFile(t, crlPath, pemCRL(t, root, testpki.CRLSpec{}))
	s2, err := verify()
	if !s2.crlCheck || err != nil {
		t.Fatalf("clean CRL: check %v, err %v", s2.crlCheck, err)
	}
	if s3, _ := verify(); s3 != s2 {
		t.Errorf("unchanged files gave a new store")
	}
	replaceFile(t, crlPath, pemCRL(t, root, testpki.CRLSpec{Revoked: testpki.Serials(leaf)}))
	if _, err := verify(); !isReason(err, CertRevoked) {
		t.Errorf("revoking CRL: %v", err)
	}
	replaceFile(t, crlPath, []byte("not a CRL\n"))
	if s, err := verify(); s.crlCheck || err != nil {
		t.Errorf("unloadable CRL file: check %v, err %v", s.crlCheck, err)
	}
	// Concurrent connections share the store; each verification reads the
	// directories into its own state.
	crlDir := filepath.Join(dir, "crls")
	if err := os.Mkdir(crlDir, 0o755); err != nil {
		t.Fatal(err)
	}
	testpki.WriteFile(t, filepath.Join(crlDir, hashName(root)+".r0"), pemCRL(t, root, testpki.CRLSpec{}), 0o644)
	dirSrc := newTrustStoreSource(rootFile, "", crlDir, false)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := dirSrc.load("require")
			if err == nil {
				_, err = s.verifyChain(certs(leaf), time.Now())
			}
			if err != nil {
				t.Errorf("concurrent verification: %v", err)
			}
		}()
	}
	wg.Wait()
	// A new root file keeps the CRLs.
	replaceFile(t, crlPath, pemCRL(t, root, testpki.CRLSpec{Revoked: testpki.Serials(leaf)}))
	replaceFile(t, rootFile, cat(root.CertPEM, []byte("\n")))
	if _, err := verify(); !isReason(err, CertRevoked) {
		t.Errorf("after the root file changed: %v", err)
	}
}

func isReason(err error, r VerifyReason) bool {
	var ve *CertificateVerifyError
	return errors.As(err, &ve) && ve.Reason == r
}

func TestRevocationErrors(t *testing.T) {
	root := testpki.MustRoot(t, testpki.Spec{CommonName: "Error Root"})
	leaf := root.MustIssue(t, testpki.Spec{CommonName: "Revoked Leaf", SerialNumber: big.NewInt(0x1234abcd)})
	crl := pemCRL(t, root, testpki.CRLSpec{Revoked: testpki.Serials(leaf)})
	store := mustStore(t, root.CertPEM).withCRLs(mustStore(t, crl), nil)

	_, err := store.verifyChain(certs(leaf), time.Now())
	var ve *CertificateVerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("got %T %v", err, err)
	}
	if want := `certificate verify failed: certificate revoked (subject "CN=Revoked Leaf", serial 0x1234abcd)`; libpqText(err) != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	if ve.Reason != CertRevoked || ve.Depth != 0 || ve.Cert != leaf.Cert || ve.CRL == nil || ve.CRL.Issuer.CommonName != "Error Root" {
		t.Errorf("got %+v", ve)
	}

	// The root has no CRL of its own here.
	other := testpki.MustRoot(t, testpki.Spec{CommonName: "Error Root 2", SerialNumber: big.NewInt(77)})
	leaf2 := other.MustIssue(t, testpki.Spec{})
	store = mustStore(t, other.CertPEM).withCRLs(nil, nil)
	_, err = store.verifyChain(certs(leaf2), time.Now())
	if !errors.As(err, &ve) || ve.Reason != UnableToGetCRL || ve.Depth != 0 || ve.CRL != nil {
		t.Fatalf("got %v", err)
	}
	if !strings.HasPrefix(libpqText(err), "certificate verify failed: unable to get certificate CRL (subject ") {
		t.Errorf("Error() = %q", err)
	}

	// Other failures keep their short message.
	_, err = mustStore(t, other.CertPEM).withCRLs(nil, nil).verifyChain(certs(leaf), time.Now())
	if err == nil || libpqText(err) != "certificate verify failed: unable to get local issuer certificate" {
		t.Errorf("got %v", err)
	}
}

// TestVersion1CRL checks that a v1 CRL, which crypto/x509 refuses, is read
// and its signature checked over its own encoding.
func TestVersion1CRL(t *testing.T) {
	root := testpki.MustRoot(t, testpki.Spec{})
	leaf := root.MustIssue(t, testpki.Spec{})
	der := root.MustCRL(t, testpki.CRLSpec{Version1: true, Revoked: testpki.Serials(leaf)})
	crl, err := parseCRL(der)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(crl.Raw, der) || len(crl.RevokedCertificateEntries) != 1 {
		t.Errorf("raw or entries differ")
	}
	if err := checkCRLSignature(root.Cert, crl); err != nil {
		t.Errorf("signature: %v", err)
	}
	if _, err := parseCRL(der[:len(der)-10]); err == nil {
		t.Errorf("truncated CRL parsed")
	}
	if _, err := parseCRL([]byte{0x30, 0x03, 0x02, 0x01, 0x05}); err == nil {
		t.Errorf("garbage parsed")
	}
}

// TestCRLParsingRobust feeds damaged CRLs and extensions to the parsers:
// they must reject or accept them, never panic.
func TestCRLParsingRobust(t *testing.T) {
	root := testpki.MustRoot(t, testpki.Spec{})
	der := root.MustCRL(t, testpki.CRLSpec{
		Entries:         []x509.RevocationListEntry{{SerialNumber: big.NewInt(3), ReasonCode: 1}},
		ExtraExtensions: []pkix.Extension{idpExtension(t, idpSpec{uri: "http://x/", onlyUser: true, reasons: []byte{0x06, 0x40}})},
	})
	leafDER := root.MustIssue(t, testpki.Spec{ExtraExtensions: []pkix.Extension{crldpExtension(t, "http://x/", []byte{0x06, 0x40})}}).Cert.Raw
	for i := range der {
		for _, b := range []byte{0x00, 0xff, 0x30, 0x80} {
			d := bytes.Clone(der)
			d[i] = b
			if crl, err := parseCRL(d); err == nil {
				newCRLInfo(crl)
			}
		}
	}
	for i := range leafDER {
		d := bytes.Clone(leafDER)
		d[i] ^= 0xff
		if c, err := x509.ParseCertificate(d); err == nil {
			crlDistPoints(newCertInfo(c))
		}
	}
	for _, content := range [][]byte{nil, {}, {0}, {8, 1}, {1}, {7, 0xff, 0xff, 0xff}} {
		reasonFlags(content, 0)
		parseDistPointName(content, "", true)
	}
	c := &crlInfo{nameOK: true}
	for _, d := range [][]byte{nil, {0x30}, {0x30, 0x00}, {0x30, 0x03, 0x80, 0x01, 0xff}, {0x30, 0x02, 0xa0, 0x00}, {0x31, 0x00}} {
		c.parseIDP(d)
	}
}
