// This file holds the facts OpenSSL's x509v3_cache_extensions derives from
// a certificate, and the CA, purpose and trust checks built on them.

package pqssl

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"

	"github.com/pqssl/pqssl/internal/oid"
)

// supportedCriticalExtIDs is OpenSSL's X509_supported_extension list: a
// critical extension outside it makes the certificate unacceptable. The key
// identifier extensions are not on it.
var supportedCriticalExtIDs = []asn1.ObjectIdentifier{
	oid.NetscapeCertType,
	oid.KeyUsage,
	oid.SubjectAltName,
	oid.BasicConstraints,
	oid.CertificatePolicies,
	oid.CRLDistributionPoints,
	oid.ExtKeyUsage,
	oid.IPAddrBlocks,
	oid.AutonomousSysIDs,
	oid.OCSPNoCheck,
	oid.PolicyConstraints,
	oid.ProxyCertInfo,
	oid.NameConstraints,
	oid.PolicyMappings,
	oid.InhibitAnyPolicy,
}

// certInfo holds what OpenSSL caches about a certificate.
type certInfo struct {
	cert *x509.Certificate

	subject, issuer string // canonical encodings (X509_NAME_cmp compares these)
	subjectAttrs    []nameAttr
	nameOK          bool // both names could be canonicalised

	selfIssued bool // EXFLAG_SI: subject equals issuer
	selfSigned bool // EXFLAG_SS: self-issued, key ids and algorithm agree
	v1         bool

	akid *authorityKeyID

	hasBC, isCA bool
	pathLen     int // -1 when absent

	hasKU bool
	ku    x509.KeyUsage

	hasEKU    bool
	ekuServer bool // serverAuth or a server gated crypto usage

	hasNS bool
	ns    byte

	unhandledCritical bool
	proxy             bool

	sans []generalName
	nc   *nameConstraints

	aux *certAux // trust settings of a TRUSTED CERTIFICATE entry
}

type authorityKeyID struct {
	keyID     []byte
	serial    *big.Int
	issuer    string // canonical directoryName of authorityCertIssuer
	hasIssuer bool
}

func findExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) (pkix.Extension, bool) {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return e, true
		}
	}
	return pkix.Extension{}, false
}

func newCertInfo(c *x509.Certificate) *certInfo {
	ci := &certInfo{cert: c, pathLen: -1, v1: c.Version == 1, nameOK: true}
	subj, err1 := parseName(c.RawSubject)
	iss, err2 := parseName(c.RawIssuer)
	ci.subject, ci.issuer, ci.subjectAttrs = subj.canon, iss.canon, subj.attrs
	if err1 != nil || err2 != nil {
		// OpenSSL fails to compare such names; make them match nothing.
		ci.nameOK = false
		ci.subject = "\x00invalid subject\x00" + string(c.Raw)
		ci.issuer = "\x00invalid issuer\x00" + string(c.Raw)
	}

	if _, ok := findExtension(c, oid.BasicConstraints); ok {
		ci.hasBC, ci.isCA = true, c.IsCA
		if c.MaxPathLen > 0 || c.MaxPathLenZero {
			ci.pathLen = c.MaxPathLen
		}
	}
	if _, ok := findExtension(c, oid.KeyUsage); ok {
		ci.hasKU, ci.ku = true, c.KeyUsage
	}
	if _, ok := findExtension(c, oid.ExtKeyUsage); ok {
		ci.hasEKU = true
		for _, u := range c.ExtKeyUsage {
			switch u {
			case x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageNetscapeServerGatedCrypto,
				x509.ExtKeyUsageMicrosoftServerGatedCrypto:
				ci.ekuServer = true
			}
		}
	}
	if e, ok := findExtension(c, oid.NetscapeCertType); ok {
		var bits asn1.BitString
		if _, err := asn1.Unmarshal(e.Value, &bits); err == nil {
			ci.hasNS = true
			if len(bits.Bytes) > 0 {
				ci.ns = bits.Bytes[0]
			}
		}
	}
	if e, ok := findExtension(c, oid.AuthorityKeyID); ok {
		ci.akid = parseAuthorityKeyID(e.Value)
	}
	if e, ok := findExtension(c, oid.SubjectAltName); ok {
		ci.sans, _ = parseGeneralNames(e.Value)
	}
	if e, ok := findExtension(c, oid.NameConstraints); ok {
		ci.nc = parseNameConstraints(e.Value)
	}
	if _, ok := findExtension(c, oid.ProxyCertInfo); ok {
		ci.proxy = true
	}
	for _, e := range c.Extensions {
		if !e.Critical {
			continue
		}
		supported := false
		for _, id := range supportedCriticalExtIDs {
			if e.Id.Equal(id) {
				supported = true
				break
			}
		}
		if !supported {
			ci.unhandledCritical = true
		}
	}

	if ci.nameOK && ci.subject == ci.issuer {
		ci.selfIssued = true
		ci.selfSigned = checkAKID(ci, ci.akid) && sigAlgMatches(c, c)
	}
	return ci
}

func parseAuthorityKeyID(der []byte) *authorityKeyID {
	var raw struct {
		KeyID  []byte        `asn1:"optional,tag:0"`
		Issuer asn1.RawValue `asn1:"optional,tag:1"`
		Serial *big.Int      `asn1:"optional,tag:2"`
	}
	if _, err := asn1.Unmarshal(der, &raw); err != nil {
		return nil
	}
	a := &authorityKeyID{keyID: raw.KeyID, serial: raw.Serial}
	if len(raw.Issuer.FullBytes) > 0 {
		// Only the first directoryName of authorityCertIssuer counts.
		names, _ := parseGeneralNamesContent(raw.Issuer.Bytes)
		for _, n := range names {
			if n.tag == gnDirectoryName {
				if nm, err := parseName(n.value); err == nil {
					a.issuer, a.hasIssuer = nm.canon, true
				}
				break
			}
		}
	}
	return a
}

// checkAKID is OpenSSL's X509_check_akid: whatever the authority key
// identifier of a certificate names must match the candidate issuer.
func checkAKID(issuer *certInfo, akid *authorityKeyID) bool {
	if akid == nil {
		return true
	}
	if akid.keyID != nil && issuer.cert.SubjectKeyId != nil && !bytes.Equal(akid.keyID, issuer.cert.SubjectKeyId) {
		return false
	}
	if akid.serial != nil && akid.serial.Cmp(issuer.cert.SerialNumber) != 0 {
		return false
	}
	if akid.hasIssuer && akid.issuer != issuer.issuer {
		return false
	}
	return true
}

// sigAlgMatches reports whether subject's signature algorithm is one that
// issuer's key type can produce (OpenSSL's check_sig_alg_match).
func sigAlgMatches(issuer, subject *x509.Certificate) bool {
	want := x509.UnknownPublicKeyAlgorithm
	switch subject.SignatureAlgorithm {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.SHA256WithRSA, x509.SHA384WithRSA,
		x509.SHA512WithRSA, x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		want = x509.RSA
	case x509.DSAWithSHA1, x509.DSAWithSHA256:
		want = x509.DSA
	case x509.ECDSAWithSHA1, x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
		want = x509.ECDSA
	case x509.PureEd25519:
		want = x509.Ed25519
	}
	return want != x509.UnknownPublicKeyAlgorithm && issuer.PublicKeyAlgorithm == want
}

// likelyIssued is OpenSSL's ossl_x509_likely_issued: names, key identifiers
// and algorithms agree. The signature itself is checked later.
func likelyIssued(issuer, subject *certInfo) bool {
	return subject.nameOK && issuer.nameOK && issuer.subject == subject.issuer &&
		checkAKID(issuer, subject.akid) && sigAlgMatches(issuer.cert, subject.cert)
}

// checkCA is OpenSSL's check_ca: 0 not a CA, 1 a CA, 3 a v1 self-signed
// root, 4 keyUsage with keyCertSign but no basicConstraints, 5 a Netscape CA.
func (ci *certInfo) checkCA() int {
	if ci.hasKU && ci.ku&x509.KeyUsageCertSign == 0 {
		return 0
	}
	switch {
	case ci.hasBC:
		if ci.isCA {
			return 1
		}
		return 0
	case ci.v1 && ci.selfSigned:
		return 3
	case ci.hasKU:
		return 4
	case ci.hasNS && ci.ns&nsAnyCA != 0:
		return 5
	}
	return 0
}

// checkPurposeSSLServer is OpenSSL 3.0's X509_check_purpose for the
// sslserver purpose. Note that anyExtendedKeyUsage does not stand in for
// serverAuth there.
func (ci *certInfo) checkPurposeSSLServer(requireCA bool) int {
	if ci.hasEKU && !ci.ekuServer {
		return 0
	}
	if requireCA {
		r := ci.checkCA()
		if r == 0 {
			return 0
		}
		if r != 5 || ci.ns&nsSSLCA != 0 {
			return r
		}
		return 0
	}
	if ci.hasNS && ci.ns&nsSSLServer == 0 {
		return 0
	}
	if ci.hasKU && ci.ku&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement) == 0 {
		return 0
	}
	return 1
}

// checkTrust is X509_check_trust for the sslserver trust setting. Explicit
// trust settings (TRUSTED CERTIFICATE) decide when present; otherwise a
// self-signed certificate is trusted unless noSelfSignedCompat is set.
func (ci *certInfo) checkTrust(noSelfSignedCompat bool) int {
	if ci.aux != nil {
		for _, o := range ci.aux.Reject {
			if o.Equal(oid.ExtKeyUsageServerAuth) || o.Equal(oid.ExtKeyUsageAnyExtension) {
				return trustRejected
			}
		}
		if len(ci.aux.Trust) > 0 {
			for _, o := range ci.aux.Trust {
				if o.Equal(oid.ExtKeyUsageServerAuth) || o.Equal(oid.ExtKeyUsageAnyExtension) {
					return trustTrusted
				}
			}
			return trustRejected
		}
	}
	if !noSelfSignedCompat && ci.selfSigned {
		return trustTrusted
	}
	return trustUntrusted
}

// Netscape certificate type bits (first octet of the bit string).
const (
	nsSSLServer = 0x40
	nsSSLCA     = 0x04
	nsAnyCA     = 0x07
)

// Results of OpenSSL's trust checks.
const (
	trustUntrusted = iota
	trustTrusted
	trustRejected
)
