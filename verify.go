package pqssl

// Server certificate verification as libpq does it with OpenSSL 3.0.
//
// libpq hands certificate verification to OpenSSL (X509_verify_cert with
// the "ssl_server" parameters: purpose sslserver, trust sslserver, depth
// 100, trusted-first chain building, no partial chains) and then checks the
// host name itself. crypto/x509's Verify differs from that in many details
// (which certificates act as anchors, issuer selection, CA and purpose rules,
// path length counting, name constraints on the common name, security
// levels), so this file reimplements OpenSSL's algorithm on top of
// crypto/x509's parsing and signature primitives. The order of the checks,
// and so the error reported when several apply, follows OpenSSL:
//
//  1. the leaf key's strength (security level),
//  2. chain building and trust,
//  3. extensions: critical extensions, CA-ness, purpose, path length,
//  4. key and signature strength of the rest of the chain,
//  5. revocation (checkRevocation, in crl.go),
//  6. signatures, issuers' key usage and validity periods, top down,
//  7. name constraints.
//
// Known differences from OpenSSL, all in corners PostgreSQL deployments do
// not reach in practice:
//   - Certificates that crypto/x509 cannot parse never get here: crypto/tls
//     rejects them during the handshake, and in a root file they are an
//     error. Among them: negative serial numbers (unless
//     GODEBUG=x509negativeserial=1), iPAddress names that are not 4 or 16
//     bytes long, explicit elliptic curve parameters, malformed or duplicate
//     extensions, key identifier extensions marked critical (which OpenSSL
//     rejects too, as unhandled critical extensions).
//   - DSA, Ed448 and other algorithms crypto/x509 cannot verify fail, with
//     a signature or key strength error, where OpenSSL might succeed.
//   - Extensions OpenSSL flags as invalid (EXFLAG_INVALID) are not modelled.
//   - An otherName (SmtpUTF8Mailbox) is not checked against rfc822Name
//     constraints; otherName constraints are reported as unsupported.
//   - The system trust store (sslrootcert=system) is read eagerly from a
//     fixed list of locations instead of from OpenSSL's compiled-in
//     OPENSSLDIR.
//   - Root files: the texts for malformed PEM and DER follow OpenSSL for
//     the common cases (measured with libpq 15), not for every malformation;
//     private keys in the file are skipped without being parsed; a file
//     that cannot be read gets the system's reason where libpq 15 prints an
//     empty one.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pqssl/pqssl/internal/oid"

	"github.com/pqssl/pqssl/internal/cparse"
)

// securityLevel is the OpenSSL security level whose certificate rules are
// applied: minimum key strength and signature digest strength for every
// certificate of the chain. Debian and Ubuntu build OpenSSL 3 with a default
// of 2 (RHEL's DEFAULT crypto policy is equivalent), which rejects RSA keys
// below 2048 bits and SHA-1 or MD5 signatures.
const securityLevel = 2

// maxVerifyDepth is the default verify depth of OpenSSL's "default" and
// "ssl_server" parameters: at most that many certificates above the leaf.
const maxVerifyDepth = 100

// ---------------------------------------------------------------------------
// Errors

// ---------------------------------------------------------------------------
// Trust store

// trustStore is the content of a root certificate file (sslrootcert), or of
// the system's trust store. Like OpenSSL's X509_STORE it holds every
// certificate of the file: self-signed ones can end a chain, the others only
// serve as intermediates (unless a TRUSTED CERTIFICATE entry says
// otherwise).
type trustStore struct {
	certs     []*certInfo            // in file order, without duplicates
	bySubject map[string][]*certInfo // keyed by canonical subject
	// crls are the CRLs found in the root file (and, see crl.go, in the
	// CRL file). OpenSSL loads them into the store along with the
	// certificates; they take part in revocation checking when that is
	// switched on.
	crls []*crlInfo
	// crlCheck is set when a CRL location was loaded: every certificate of
	// a chain must then be covered by a CRL. crlDirs are the hashed
	// directories (sslcrldir) searched for CRLs and certificates.
	crlCheck bool
	crlDirs  []string
}

func newTrustStore() *trustStore {
	return &trustStore{bySubject: make(map[string][]*certInfo)}
}

func (s *trustStore) add(ci *certInfo) {
	for _, c := range s.bySubject[ci.subject] {
		if bytes.Equal(c.cert.Raw, ci.cert.Raw) {
			return // OpenSSL keeps the first copy
		}
	}
	s.certs = append(s.certs, ci)
	s.bySubject[ci.subject] = append(s.bySubject[ci.subject], ci)
}

// loadTrustStore reads a root certificate file: PEM blocks CERTIFICATE,
// X509 CERTIFICATE, TRUSTED CERTIFICATE and X509 CRL, anything else being
// skipped, like OpenSSL's SSL_CTX_load_verify_locations. With inline set,
// path holds the PEM data itself (lib/pq's sslinline).
//
// Errors are *RootCertError values with OpenSSL's reason texts. A file that
// does not exist gives an error satisfying errors.Is(err, fs.ErrNotExist);
// callers are expected to have checked for that first, as libpq does.
func loadTrustStore(path string, inline bool) (*trustStore, error) {
	var data []byte
	name := path
	if inline {
		data, name = []byte(path), ""
	} else {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, &RootCertError{Path: path, Reason: sysErrText(err), Err: err}
		}
		if fi.IsDir() {
			// OpenSSL opens the directory, reads nothing and finds no PEM.
			return nil, &RootCertError{Path: path, Reason: "no certificate or crl found"}
		}
		if data, err = os.ReadFile(path); err != nil {
			return nil, &RootCertError{Path: path, Reason: sysErrText(err), Err: err}
		}
	}
	s := newTrustStore()
	if err := s.addPEM(data); err != nil {
		err.Path = name
		return nil, err
	}
	return s, nil
}

// addPEM adds every certificate and CRL of a PEM file. Like OpenSSL, the
// whole file is rejected if any certificate or CRL block is malformed, and a
// file with neither is an error.
func (s *trustStore) addPEM(data []byte) *RootCertError {
	blocks, reason := readPEM(data)
	if reason != "" {
		return &RootCertError{Reason: reason}
	}
	var certs []*certInfo
	var crls []*crlInfo
	for _, b := range blocks {
		switch b.name {
		case "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE":
			ci, reason, err := parseStoreCert(b.data, b.name == "TRUSTED CERTIFICATE")
			if reason != "" {
				return &RootCertError{Reason: reason, Err: err}
			}
			certs = append(certs, ci)
		case "X509 CRL":
			der, reason := firstTLV(b.data)
			if reason != "" {
				return &RootCertError{Reason: reason}
			}
			crl, err := parseCRL(der)
			if err != nil {
				return &RootCertError{Reason: err.Error(), Err: err}
			}
			crls = append(crls, newCRLInfo(crl))
		}
	}
	if len(certs) == 0 && len(crls) == 0 {
		return &RootCertError{Reason: "no certificate or crl found"}
	}
	for _, ci := range certs {
		s.add(ci)
	}
	s.crls = append(s.crls, crls...)
	return nil
}

type pemBlock struct {
	name string
	data []byte
}

// readPEM splits data into PEM blocks the way OpenSSL's PEM_read_bio does
// (in its lenient "EAY compatible" mode): text outside blocks is skipped,
// header lines (those with a colon before the data) are ignored, and the
// problems OpenSSL reports are returned as its reason texts, along with the
// blocks read before the malformed one.
func readPEM(data []byte) ([]pemBlock, string) {
	lines := strings.Split(string(data), "\n")
	// A UTF-8 byte order mark is skipped at the start of the file.
	if len(lines) > 0 {
		lines[0] = strings.TrimPrefix(lines[0], "\ufeff")
	}
	clean := func(s string) string {
		// Trailing whitespace and control characters are dropped.
		return strings.TrimRightFunc(s, func(r rune) bool { return r <= ' ' })
	}
	var blocks []pemBlock
	for i := 0; i < len(lines); i++ {
		l := clean(lines[i])
		if !strings.HasPrefix(l, "-----BEGIN ") || len(l) < len("-----BEGIN -----") || !strings.HasSuffix(l, "-----") {
			continue
		}
		name := l[len("-----BEGIN ") : len(l)-len("-----")]
		var body strings.Builder
		header, ended := 0, false // header: 0 maybe, 1 in header, 2 after
		for i++; i < len(lines); i++ {
			l := clean(lines[i])
			if header == 0 && strings.Contains(l, ":") {
				header = 1
			}
			if l == "" {
				if header == 2 {
					return blocks, "bad end line"
				}
				header = 2
				body.Reset() // what came before was a header
				continue
			}
			if strings.HasPrefix(l, "-----END ") {
				if l != "-----END "+name+"-----" {
					return blocks, "bad end line"
				}
				ended = true
				break
			}
			if header != 1 {
				body.WriteString(l)
			}
		}
		if !ended {
			return blocks, "bad end line"
		}
		b64 := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' {
				return -1
			}
			return r
		}, body.String())
		der, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return blocks, "bad base64 decode"
		}
		blocks = append(blocks, pemBlock{name: name, data: der})
	}
	return blocks, ""
}

// firstTLV returns the first DER element of data; OpenSSL's d2i functions
// ignore what follows it. The reasons are OpenSSL's ASN.1 error texts.
func firstTLV(data []byte) ([]byte, string) {
	if len(data) == 0 {
		return nil, "PEM lib"
	}
	var v asn1.RawValue
	if _, err := asn1.Unmarshal(data, &v); err != nil {
		if data[0] != 0x30 {
			return nil, "wrong tag"
		}
		var se asn1.SyntaxError
		if errors.As(err, &se) && strings.Contains(se.Msg, "truncated") {
			return nil, "too long"
		}
		return nil, "header too long"
	}
	if v.Class != asn1.ClassUniversal || v.Tag != asn1.TagSequence || !v.IsCompound {
		return nil, "wrong tag"
	}
	return v.FullBytes, ""
}

// certAux is the OpenSSL-specific trust information that follows the
// certificate in a TRUSTED CERTIFICATE block (X509_CERT_AUX).
type certAux struct {
	Trust  []asn1.ObjectIdentifier `asn1:"optional"`
	Reject []asn1.ObjectIdentifier `asn1:"optional,tag:0"`
	Alias  asn1.RawValue           `asn1:"optional,tag:12"`
	KeyID  []byte                  `asn1:"optional"`
	Other  asn1.RawValue           `asn1:"optional,tag:1"`
}

func parseStoreCert(der []byte, trusted bool) (*certInfo, string, error) {
	certDER, reason := firstTLV(der)
	if reason != "" {
		return nil, reason, nil
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		// Where OpenSSL would name an ASN.1 problem ("wrong tag" mostly),
		// or would accept the certificate (a negative serial number),
		// crypto/x509's own explanation is the more useful one.
		return nil, err.Error(), err
	}
	ci := newCertInfo(cert)
	if rest := der[len(certDER):]; trusted && len(rest) > 0 {
		var aux certAux
		if _, err := asn1.Unmarshal(rest, &aux); err != nil {
			return nil, "wrong tag", err // what OpenSSL says of a bad X509_CERT_AUX
		}
		ci.aux = &aux
	}
	return ci, "", nil
}

// systemTrustStore returns the system's trusted roots, for
// sslrootcert=system. Like OpenSSL's default verify paths it reads the file
// named by SSL_CERT_FILE and the hashed directories listed in SSL_CERT_DIR,
// defaulting to the usual OpenSSL locations. Unreadable or malformed sources
// are skipped, as OpenSSL does; the result may be empty.
func systemTrustStore() (*trustStore, error) {
	s := newTrustStore()
	file, fileSet := os.LookupEnv("SSL_CERT_FILE")
	if !fileSet {
		file = firstExisting(systemCertFiles)
	}
	if file != "" {
		if data, err := os.ReadFile(file); err == nil {
			_ = s.addPEM(data) // a bad bundle is ignored as a whole, as in OpenSSL
		}
	}
	var dirs []string
	if d, ok := os.LookupEnv("SSL_CERT_DIR"); ok {
		dirs = filepath.SplitList(d)
	} else if d := firstExisting(systemCertDirs); d != "" {
		dirs = []string{d}
	}
	for _, d := range dirs {
		s.addHashedDir(d)
	}
	return s, nil
}

// Default locations of OpenSSL's cert.pem and certs/ on common systems
// (OPENSSLDIR of Debian/Ubuntu, RHEL/Fedora, Alpine/Arch/BSD, source builds),
// followed by the bundles crypto/x509 knows of.
var (
	systemCertFiles = []string{
		"/usr/lib/ssl/cert.pem",
		"/etc/pki/tls/cert.pem",
		"/etc/ssl/cert.pem",
		"/usr/local/ssl/cert.pem",
		"/etc/ssl/certs/ca-certificates.crt",
		"/etc/pki/tls/certs/ca-bundle.crt",
	}
	systemCertDirs = []string{
		"/usr/lib/ssl/certs",
		"/etc/pki/tls/certs",
		"/etc/ssl/certs",
		"/usr/local/ssl/certs",
	}
)

func firstExisting(paths []string) string {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

var hashedName = regexp.MustCompile(`^([0-9a-f]{8})\.([0-9]+)$`)

// addHashedDir adds the certificates of an OpenSSL hashed directory. OpenSSL
// looks files up by issuer name hash (HASH.0, HASH.1, ... until one is
// missing); reading every such file whose certificates carry that hash finds
// the same certificates.
func (s *trustStore) addHashedDir(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	present := make(map[string]bool)
	for _, e := range entries {
		present[e.Name()] = true
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		m := hashedName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		contiguous := true
		for i := 0; i < n; i++ {
			if !present[m[1]+"."+strconv.Itoa(i)] {
				contiguous = false
				break
			}
		}
		if contiguous {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		blocks, reason := readPEM(data)
		if reason != "" {
			continue
		}
		for _, b := range blocks {
			if b.name != "CERTIFICATE" && b.name != "X509 CERTIFICATE" && b.name != "TRUSTED CERTIFICATE" {
				continue
			}
			ci, reason, _ := parseStoreCert(b.data, b.name == "TRUSTED CERTIFICATE")
			if reason == "" && nameHash(ci.subject) == name[:8] {
				s.add(ci)
			}
		}
	}
}

// nameHash is OpenSSL's X509_NAME_hash: the first four bytes of the SHA-1
// of the canonical encoding, as a little-endian number in hex.
func nameHash(canon string) string {
	h := sha1.Sum([]byte(canon))
	return fmt.Sprintf("%08x", binary.LittleEndian.Uint32(h[:4]))
}

// ---------------------------------------------------------------------------
// Certificate facts, as OpenSSL's x509v3_cache_extensions derives them

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

// Netscape certificate type bits (first octet of the bit string).
const (
	nsSSLServer = 0x40
	nsSSLCA     = 0x04
	nsAnyCA     = 0x07
)

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

// Results of OpenSSL's trust checks.
const (
	trustUntrusted = iota
	trustTrusted
	trustRejected
)

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

// ---------------------------------------------------------------------------
// Names: OpenSSL's canonical encoding

type nameAttr struct {
	oid   asn1.ObjectIdentifier
	tag   int    // universal tag of the value
	value []byte // content octets of the value, as in the certificate
}

type parsedName struct {
	canon string
	attrs []nameAttr // in order, multi-valued RDNs flattened
}

// Universal string tags.
const (
	tagUTF8String      = 12
	tagPrintableString = 19
	tagT61String       = 20
	tagIA5String       = 22
	tagVisibleString   = 26
	tagUniversalString = 28
	tagBMPString       = 30
)

// parseName parses a DER Name and computes OpenSSL's canonical encoding of
// it (x509_name_canon): each string value converted to UTF-8, stripped of
// leading and trailing white space, inner white space runs collapsed to one
// space and ASCII letters lowered, re-encoded as UTF8String; each RDN as a
// DER SET; the RDNs concatenated without the outer SEQUENCE.
func parseName(der []byte) (parsedName, error) {
	var rdns []asn1.RawValue
	rest, err := asn1.Unmarshal(der, &rdns)
	if err != nil {
		return parsedName{}, err
	}
	if len(rest) > 0 {
		return parsedName{}, errors.New("trailing data after name")
	}
	var out parsedName
	var canon bytes.Buffer
	for _, rdn := range rdns {
		if rdn.Class != asn1.ClassUniversal || rdn.Tag != asn1.TagSet {
			return parsedName{}, errors.New("malformed RDN")
		}
		var entries [][]byte
		for b := rdn.Bytes; len(b) > 0; {
			var atv struct {
				Type  asn1.RawValue
				Value asn1.RawValue
			}
			if b, err = asn1.Unmarshal(b, &atv); err != nil {
				return parsedName{}, err
			}
			var oid asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(atv.Type.FullBytes, &oid); err != nil {
				return parsedName{}, err
			}
			out.attrs = append(out.attrs, nameAttr{oid: oid, tag: atv.Value.Tag, value: atv.Value.Bytes})
			value := atv.Value.FullBytes
			if atv.Value.Class == asn1.ClassUniversal && !atv.Value.IsCompound {
				if s, ok := canonString(atv.Value.Tag, atv.Value.Bytes); ok {
					value = derTLV(tagUTF8String, []byte(s))
				} else if isCanonTag(atv.Value.Tag) {
					return parsedName{}, errors.New("invalid string in name")
				}
			}
			entries = append(entries, derTLV(0x30, append(append([]byte{}, atv.Type.FullBytes...), value...)))
		}
		sort.Slice(entries, func(i, j int) bool { return bytes.Compare(entries[i], entries[j]) < 0 })
		canon.Write(derTLV(0x31, bytes.Join(entries, nil)))
	}
	out.canon = canon.String()
	return out, nil
}

func isCanonTag(tag int) bool {
	switch tag {
	case tagUTF8String, tagPrintableString, tagT61String, tagIA5String, tagVisibleString,
		tagUniversalString, tagBMPString:
		return true
	}
	return false
}

// asn1ToUTF8 converts a string value to UTF-8 like ASN1_STRING_to_UTF8:
// single-byte string types are taken as Latin-1.
func asn1ToUTF8(tag int, b []byte) (string, bool) {
	switch tag {
	case tagUTF8String:
		return string(b), utf8.Valid(b)
	case tagPrintableString, tagT61String, tagIA5String, tagVisibleString,
		asn1.TagNumericString, asn1.TagUTCTime, asn1.TagGeneralizedTime:
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), true
	case tagBMPString:
		if len(b)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(b[2*i:])
			if utf16.IsSurrogate(rune(u[i])) {
				return "", false
			}
		}
		return string(utf16.Decode(u)), true
	case tagUniversalString:
		if len(b)%4 != 0 {
			return "", false
		}
		r := make([]rune, len(b)/4)
		for i := range r {
			r[i] = rune(binary.BigEndian.Uint32(b[4*i:]))
			if !utf8.ValidRune(r[i]) {
				return "", false
			}
		}
		return string(r), true
	}
	return "", false
}

func canonString(tag int, b []byte) (string, bool) {
	if !isCanonTag(tag) {
		return "", false
	}
	s, ok := asn1ToUTF8(tag, b)
	if !ok {
		return "", false
	}
	i, j := 0, len(s)
	for i < j && cparse.IsSpace(s[i]) {
		i++
	}
	for j > i && cparse.IsSpace(s[j-1]) {
		j--
	}
	var out strings.Builder
	for k := i; k < j; {
		c := s[k]
		switch {
		case c >= 0x80:
			out.WriteByte(c)
			k++
		case cparse.IsSpace(c):
			out.WriteByte(' ')
			for k < j && cparse.IsSpace(s[k]) {
				k++
			}
		default:
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			out.WriteByte(c)
			k++
		}
	}
	return out.String(), true
}

// derTLV encodes one DER element with a single-byte tag.
func derTLV(tag byte, content []byte) []byte {
	n := len(content)
	out := []byte{tag}
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, content...)
}

// ---------------------------------------------------------------------------
// General names and name constraints

// GeneralName tags (context-specific).
const (
	gnOtherName     = 0
	gnRFC822Name    = 1
	gnDNSName       = 2
	gnX400Address   = 3
	gnDirectoryName = 4
	gnEDIPartyName  = 5
	gnURI           = 6
	gnIPAddress     = 7
	gnRegisteredID  = 8
)

type generalName struct {
	tag   int
	value []byte // content octets; for a directoryName the Name's DER, for an otherName its type-id and value
}

func parseGeneralNames(der []byte) ([]generalName, error) {
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return nil, err
	}
	return parseGeneralNamesContent(seq.Bytes)
}

func parseGeneralNamesContent(b []byte) ([]generalName, error) {
	var names []generalName
	for len(b) > 0 {
		var v asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &v); err != nil {
			return names, err
		}
		if v.Class != asn1.ClassContextSpecific {
			continue
		}
		names = append(names, generalName{tag: v.Tag, value: v.Bytes})
	}
	return names, nil
}

type generalSubtree struct {
	base          generalName
	minMaxInvalid bool // minimum other than 0, or a maximum
}

type nameConstraints struct {
	permitted, excluded []generalSubtree
}

func parseNameConstraints(der []byte) *nameConstraints {
	var raw struct {
		Permitted asn1.RawValue `asn1:"optional,tag:0"`
		Excluded  asn1.RawValue `asn1:"optional,tag:1"`
	}
	if _, err := asn1.Unmarshal(der, &raw); err != nil {
		return nil
	}
	parse := func(b []byte) []generalSubtree {
		var out []generalSubtree
		for len(b) > 0 {
			var st asn1.RawValue
			var err error
			if b, err = asn1.Unmarshal(b, &st); err != nil {
				return out
			}
			var base asn1.RawValue
			rest, err := asn1.Unmarshal(st.Bytes, &base)
			if err != nil {
				return out
			}
			sub := generalSubtree{base: generalName{tag: base.Tag, value: base.Bytes}}
			for len(rest) > 0 {
				var mm asn1.RawValue
				if rest, err = asn1.Unmarshal(rest, &mm); err != nil {
					break
				}
				if mm.Tag == 1 || (mm.Tag == 0 && len(bytes.TrimLeft(mm.Bytes, "\x00")) > 0) {
					sub.minMaxInvalid = true
				}
			}
			out = append(out, sub)
		}
		return out
	}
	return &nameConstraints{permitted: parse(raw.Permitted.Bytes), excluded: parse(raw.Excluded.Bytes)}
}

// match is OpenSSL's nc_match: a name must match one permitted subtree of
// its own type, if there are any, and no excluded subtree.
func (nc *nameConstraints) match(gn generalName) VerifyReason {
	typ := gn.tag
	matched := 0 // 0 no subtree of the type, 1 none matched, 2 one matched
	for _, st := range nc.permitted {
		if st.base.tag != typ {
			continue
		}
		if st.minMaxInvalid {
			return SubtreeMinMax
		}
		if matched == 2 {
			continue
		}
		matched = 1
		r := ncMatchSingle(typ, gn, st.base)
		if r == 0 {
			matched = 2
		} else if r != PermittedSubtreeViolation {
			return r
		}
	}
	if matched == 1 {
		return PermittedSubtreeViolation
	}
	for _, st := range nc.excluded {
		if st.base.tag != typ {
			continue
		}
		if st.minMaxInvalid {
			return SubtreeMinMax
		}
		r := ncMatchSingle(typ, gn, st.base)
		if r == 0 {
			return ExcludedSubtreeViolation
		} else if r != PermittedSubtreeViolation {
			return r
		}
	}
	return 0
}

func ncMatchSingle(typ int, gn, base generalName) VerifyReason {
	switch typ {
	case gnDirectoryName:
		nm, err1 := parseName(gn.value)
		bn, err2 := parseName(base.value)
		if err1 != nil || err2 != nil {
			return UnsupportedNameSyntax
		}
		if !strings.HasPrefix(nm.canon, bn.canon) {
			return PermittedSubtreeViolation
		}
		return 0
	case gnDNSName:
		return ncDNS(gn.value, base.value)
	case gnRFC822Name:
		return ncEmail(gn.value, base.value)
	case gnURI:
		return ncURI(gn.value, base.value)
	case gnIPAddress:
		return ncIP(gn.value, base.value)
	}
	return UnsupportedConstraintType
}

func asciiEqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func ncDNS(dns, base []byte) VerifyReason {
	if len(base) == 0 {
		return 0
	}
	if len(dns) < len(base) {
		return PermittedSubtreeViolation
	}
	tail := dns[len(dns)-len(base):]
	if len(dns) > len(base) && base[0] != '.' && dns[len(dns)-len(base)-1] != '.' {
		return PermittedSubtreeViolation
	}
	if !asciiEqualFold(base, tail) {
		return PermittedSubtreeViolation
	}
	return 0
}

func ncEmail(eml, base []byte) VerifyReason {
	emlAt := bytes.LastIndexByte(eml, '@')
	baseAt := bytes.LastIndexByte(base, '@')
	if emlAt < 0 {
		return UnsupportedNameSyntax
	}
	// A leading dot in the constraint matches any host in that domain.
	if baseAt < 0 && len(base) > 0 && base[0] == '.' {
		if len(eml) > len(base) && asciiEqualFold(base, eml[len(eml)-len(base):]) {
			return 0
		}
		return PermittedSubtreeViolation
	}
	baseHost := base
	if baseAt >= 0 {
		if baseAt != 0 {
			if baseAt != emlAt {
				return PermittedSubtreeViolation
			}
			if bytes.IndexByte(base[:baseAt], 0) >= 0 || bytes.IndexByte(eml[:emlAt], 0) >= 0 {
				return UnsupportedNameSyntax
			}
			if !bytes.Equal(base[:baseAt], eml[:emlAt]) { // local part: case-sensitive
				return PermittedSubtreeViolation
			}
		}
		baseHost = base[baseAt+1:]
	}
	if !asciiEqualFold(baseHost, eml[emlAt+1:]) {
		return PermittedSubtreeViolation
	}
	return 0
}

func ncURI(uri, base []byte) VerifyReason {
	p := bytes.IndexByte(uri, ':')
	if p < 0 || len(uri)-p < 3 || uri[p+1] != '/' || uri[p+2] != '/' {
		return UnsupportedNameSyntax
	}
	host := uri[p+3:]
	if i := bytes.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	} else if i := bytes.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	if len(host) == 0 {
		return UnsupportedNameSyntax
	}
	if len(base) > 0 && base[0] == '.' {
		if len(host) > len(base) && asciiEqualFold(host[len(host)-len(base):], base) {
			return 0
		}
		return PermittedSubtreeViolation
	}
	if !asciiEqualFold(host, base) {
		return PermittedSubtreeViolation
	}
	return 0
}

func ncIP(ip, base []byte) VerifyReason {
	if len(ip) != 4 && len(ip) != 16 {
		return UnsupportedNameSyntax
	}
	if len(base) != 8 && len(base) != 32 {
		return UnsupportedNameSyntax
	}
	if 2*len(ip) != len(base) {
		return PermittedSubtreeViolation
	}
	mask := base[len(ip):]
	for i := range ip {
		if ip[i]&mask[i] != base[i]&mask[i] {
			return PermittedSubtreeViolation
		}
	}
	return 0
}

// checkNameConstraintsCert is NAME_CONSTRAINTS_check: the subject (as a
// directoryName and its emailAddress attributes) and every subjectAltName
// entry are checked.
func checkNameConstraintsCert(x *certInfo, nc *nameConstraints) VerifyReason {
	if len(x.subjectAttrs)+len(x.sans) > 0 &&
		len(nc.permitted)+len(nc.excluded) > (1<<20)/(len(x.subjectAttrs)+len(x.sans)) {
		return Unspecified
	}
	if len(x.subjectAttrs) > 0 {
		if r := nc.match(generalName{tag: gnDirectoryName, value: x.cert.RawSubject}); r != 0 {
			return r
		}
		for _, a := range x.subjectAttrs {
			if !a.oid.Equal(oid.EmailAddress) {
				continue
			}
			if a.tag != tagIA5String {
				return UnsupportedNameSyntax
			}
			if r := nc.match(generalName{tag: gnRFC822Name, value: a.value}); r != 0 {
				return r
			}
		}
	}
	for _, gn := range x.sans {
		if r := nc.match(gn); r != 0 {
			return r
		}
	}
	return 0
}

// checkNameConstraintsCN is NAME_CONSTRAINTS_check_CN: common names that
// look like host names (at least two labels) are checked as dNSNames.
func checkNameConstraintsCN(x *certInfo, nc *nameConstraints) VerifyReason {
	for _, a := range x.subjectAttrs {
		if !a.oid.Equal(oid.CommonName) {
			continue
		}
		s, ok := asn1ToUTF8(a.tag, a.value)
		if !ok {
			// OpenSSL gives up on the whole verification here.
			return Unspecified
		}
		s = strings.TrimRight(s, "\x00")
		if strings.IndexByte(s, 0) >= 0 {
			return UnsupportedNameSyntax
		}
		if !looksLikeDNSName(s) {
			continue
		}
		if r := nc.match(generalName{tag: gnDNSName, value: []byte(s)}); r != 0 {
			return r
		}
	}
	return 0
}

// looksLikeDNSName is OpenSSL's cn2dnsid test: letters, digits and '_',
// with inner '-' and '.', no empty labels, no '-' next to a '.', and at
// least one dot.
func looksLikeDNSName(s string) bool {
	isDNS := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '_' {
			continue
		}
		if i > 0 && i < len(s)-1 {
			if c == '-' {
				continue
			}
			if c == '.' && s[i+1] != '.' && s[i-1] != '-' && s[i+1] != '-' {
				isDNS = true
				continue
			}
		}
		return false
	}
	return isDNS
}

// ---------------------------------------------------------------------------
// Key and signature strength (OpenSSL security levels)

// minSecurityBits is OpenSSL's minimum strength per security level.
var minSecurityBits = [...]int{80, 112, 128, 192, 256}

// keySecurityBits is EVP_PKEY_get_security_bits for the key types
// crypto/x509 parses; 0 for anything else.
func keySecurityBits(pub any) int {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return ifcSecurityBits(k.N.BitLen())
	case *ecdsa.PublicKey:
		n := k.Curve.Params().N.BitLen()
		switch {
		case n >= 512:
			return 256
		case n >= 384:
			return 192
		case n >= 256:
			return 128
		case n >= 224:
			return 112
		case n >= 160:
			return 80
		}
		return n / 2
	case ed25519.PublicKey:
		return 128
	}
	return 0
}

// ifcSecurityBits estimates the strength of an RSA modulus of n bits as
// OpenSSL 3.0 does: fixed values for the sizes SP 800-56B and FIPS 140-2
// list, otherwise the general number field sieve estimate rounded to a
// multiple of 8 and capped so that it never exceeds the next listed size.
func ifcSecurityBits(n int) int {
	switch n {
	case 2048:
		return 112
	case 3072:
		return 128
	case 4096:
		return 152
	case 6144:
		return 176
	case 7680:
		return 192
	case 8192:
		return 200
	case 15360:
		return 256
	}
	if n >= 687737 {
		return 1200
	}
	if n < 8 {
		return 0
	}
	limit := 1200
	switch {
	case n <= 7680:
		limit = 192
	case n <= 15360:
		limit = 256
	}
	x := float64(n) * math.Ln2
	lx := math.Log(x)
	y := int((1.923*math.Cbrt(x*lx*lx) - 4.690) / math.Ln2)
	return min((y+4)&^7, limit)
}

// sigSecurityBits is the strength OpenSSL assigns to a certificate's
// signature algorithm: half the digest size, 63 for SHA-1, 39 for MD5.
func sigSecurityBits(alg x509.SignatureAlgorithm) int {
	switch alg {
	case x509.MD2WithRSA, x509.MD5WithRSA:
		return 39
	case x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return 63
	case x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.DSAWithSHA256, x509.ECDSAWithSHA256, x509.PureEd25519:
		return 128
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		return 192
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		return 256
	}
	return -1
}

func keyLevelOK(c *x509.Certificate) bool {
	return keySecurityBits(c.PublicKey) >= minSecurityBits[securityLevel-1]
}

func sigLevelOK(c *x509.Certificate) bool {
	return sigSecurityBits(c.SignatureAlgorithm) >= minSecurityBits[securityLevel-1]
}

// checkSignature verifies subject's signature with issuer's key. Only the
// signature is checked here; CA-ness and key usage are checked elsewhere.
func checkSignature(issuer, subject *x509.Certificate) error {
	if issuer.PublicKey == nil {
		return errors.New("unsupported public key algorithm")
	}
	switch subject.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1:
		// crypto/x509 refuses SHA-1 outright; OpenSSL's security level
		// rejects it before signatures are checked, but a lower level
		// would not.
		h := sha1.Sum(subject.RawTBSCertificate)
		switch k := issuer.PublicKey.(type) {
		case *rsa.PublicKey:
			if subject.SignatureAlgorithm == x509.SHA1WithRSA {
				return rsa.VerifyPKCS1v15(k, crypto.SHA1, h[:], subject.Signature)
			}
		case *ecdsa.PublicKey:
			if subject.SignatureAlgorithm == x509.ECDSAWithSHA1 && ecdsa.VerifyASN1(k, h[:], subject.Signature) {
				return nil
			}
			return errors.New("ECDSA verification failure")
		}
		return errors.New("signature algorithm does not match the key")
	}
	return issuer.CheckSignature(subject.SignatureAlgorithm, subject.RawTBSCertificate, subject.Signature)
}

// certTimeReason checks a validity period as OpenSSL does, to the second:
// valid when notBefore <= now < notAfter.
func certTimeReason(c *x509.Certificate, now time.Time) VerifyReason {
	t := now.Unix()
	if c.NotBefore.Unix() > t {
		return CertNotYetValid
	}
	if c.NotAfter.Unix() <= t {
		return CertHasExpired
	}
	return 0
}

// ---------------------------------------------------------------------------
// Chain verification

// verifyChain verifies the server's certificates (as sent, leaf first) like
// OpenSSL's X509_verify_cert with the parameters libpq uses, and returns the
// verified chain from the leaf to the trust anchor. Failures are
// *CertificateVerifyError values.
func (s *trustStore) verifyChain(peer []*x509.Certificate, now time.Time) ([]*x509.Certificate, error) {
	if len(peer) == 0 || peer[0] == nil {
		return nil, &CertificateVerifyError{Reason: Unspecified, Err: errors.New("server sent no certificate")}
	}
	v := &verifier{store: s, now: now}
	for _, c := range peer {
		if c != nil {
			v.untrusted = append(v.untrusted, newCertInfo(c))
		}
	}
	v.chain = []*certInfo{v.untrusted[0]}
	v.numUntrusted = 1

	// A weak leaf key ends verification before anything else.
	if !keyLevelOK(peer[0]) {
		return nil, v.fail(EEKeyTooSmall, 0, nil)
	}
	steps := []func() error{
		v.buildChain,
		v.checkExtensions,
		v.checkAuthLevel,
		v.checkRevocation,
		v.checkSignaturesAndTimes,
		v.checkNameConstraints,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	out := make([]*x509.Certificate, len(v.chain))
	for i, ci := range v.chain {
		out[i] = ci.cert
	}
	return out, nil
}

// verifier is the state of one verification, like OpenSSL's X509_STORE_CTX.
type verifier struct {
	store        *trustStore
	now          time.Time
	untrusted    []*certInfo // server-sent certificates still available as issuers
	chain        []*certInfo // leaf first
	numUntrusted int         // chain[:numUntrusted] came from the server
	lookup       *dirLookup  // what the hashed directories added to the store
}

func (v *verifier) fail(r VerifyReason, depth int, err error) *CertificateVerifyError {
	var c *x509.Certificate
	if depth >= 0 && depth < len(v.chain) {
		c = v.chain[depth].cert
	}
	return &CertificateVerifyError{Reason: r, Cert: c, Depth: depth, Err: err}
}

// bestIssuer picks among candidates the first likely issuer of x that is
// currently valid, else the one expiring last (OpenSSL's preference in both
// the trust store and the server's list).
func (v *verifier) bestIssuer(x *certInfo, candidates []*certInfo, noDup bool) *certInfo {
	var best *certInfo
	for _, c := range candidates {
		if noDup && !(x.selfIssued && len(v.chain) == 1) && v.inChain(c) {
			continue
		}
		if !likelyIssued(c, x) {
			continue
		}
		if certTimeReason(c.cert, v.now) == 0 {
			return c
		}
		if best == nil || c.cert.NotAfter.After(best.cert.NotAfter) {
			best = c
		}
	}
	return best
}

func (v *verifier) inChain(c *certInfo) bool {
	for _, x := range v.chain {
		if bytes.Equal(x.cert.Raw, c.cert.Raw) {
			return true
		}
	}
	return false
}

// checkTrust is OpenSSL's check_trust over the trusted certificates added
// to the chain since position from.
func (v *verifier) checkTrust(from int) (int, error) {
	for i := from; i < len(v.chain); i++ {
		switch v.chain[i].checkTrust(false) {
		case trustTrusted:
			return trustTrusted, nil
		case trustRejected:
			return trustRejected, v.fail(CertRejected, i, nil)
		}
	}
	return trustUntrusted, nil
}

// buildChain is OpenSSL's build_chain with trusted-first issuer search and
// without partial chains: the chain grows from the leaf, each issuer taken
// from the trust store when it has one, else from the server's list; once a
// trusted certificate is in the chain only the trust store is searched.
func (v *verifier) buildChain() error {
	const (
		searchTrusted = 1 << iota
		searchUntrusted
	)
	maxDepth := maxVerifyDepth + 1
	search := searchTrusted | searchUntrusted
	trust := trustUntrusted
	for search != 0 {
		num := len(v.chain)
		if search&searchTrusted != 0 {
			curr := v.chain[num-1]
			var issuer *certInfo
			if num <= maxDepth {
				issuer = v.bestIssuer(curr, v.trustedIssuers(curr), false)
			}
			if issuer != nil {
				ok := true
				selfSigned := curr.selfSigned
				if !selfSigned {
					v.chain = append(v.chain, issuer)
					selfSigned = issuer.selfSigned
				} else if !bytes.Equal(curr.cert.Raw, issuer.cert.Raw) {
					// A self-signed certificate that merely resembles a
					// trusted one is not trusted.
					ok = false
				} else {
					num--
					v.numUntrusted = num
					v.chain[num] = issuer
				}
				if ok {
					search &^= searchUntrusted
					var err error
					if trust, err = v.checkTrust(num); err != nil {
						return err
					}
					if trust == trustTrusted {
						break
					}
					if !selfSigned {
						continue
					}
				}
			}
			if search&searchUntrusted == 0 {
				break
			}
		}
		if search&searchUntrusted != 0 {
			curr := v.chain[num-1]
			var issuer *certInfo
			if !curr.selfSigned && num <= maxDepth {
				issuer = v.bestIssuer(curr, v.untrusted, true)
			}
			if issuer == nil {
				search &^= searchUntrusted
				search |= searchTrusted
				continue
			}
			for i, c := range v.untrusted {
				if c == issuer {
					v.untrusted = append(v.untrusted[:i:i], v.untrusted[i+1:]...)
					break
				}
			}
			v.chain = append(v.chain, issuer)
			v.numUntrusted++
		}
	}
	if trust == trustTrusted {
		return nil
	}
	num := len(v.chain)
	switch {
	case num > maxDepth:
		return v.fail(CertChainTooLong, num-1, nil)
	case v.chain[num-1].selfSigned && num == 1:
		return v.fail(DepthZeroSelfSignedCert, num-1, nil)
	case v.chain[num-1].selfSigned:
		return v.fail(SelfSignedCertInChain, num-1, nil)
	case v.numUntrusted < num:
		return v.fail(UnableToGetIssuerCert, num-1, nil)
	}
	return v.fail(UnableToGetIssuerCertLocally, num-1, nil)
}

// checkExtensions is OpenSSL's check_extensions for the sslserver purpose.
func (v *verifier) checkExtensions() error {
	num := len(v.chain)
	mustBeCA := -1
	plen := 0
	for i, x := range v.chain {
		if x.unhandledCritical {
			return v.fail(UnhandledCriticalExtension, i, nil)
		}
		if x.proxy {
			return v.fail(ProxyCertificatesNotAllowed, i, nil)
		}
		if mustBeCA == 1 {
			// Intermediates must be proper CAs; the top of the chain may
			// also be a v1 root or a CA by key usage or Netscape type.
			if r := x.checkCA(); r == 0 || (i+1 < num && r != 1) {
				return v.fail(InvalidCA, i, nil)
			}
		}
		if err := v.checkPurpose(x, i, mustBeCA); err != nil {
			return err
		}
		if i > 1 && x.pathLen != -1 && plen > x.pathLen {
			return v.fail(PathLengthExceeded, i, nil)
		}
		if i > 0 && !x.selfIssued {
			plen++
		}
		mustBeCA = 1
	}
	return nil
}

func (v *verifier) checkPurpose(x *certInfo, depth, mustBeCA int) error {
	if depth >= v.numUntrusted {
		// Explicit trust settings of a trusted certificate override its
		// extensions.
		switch x.checkTrust(true) {
		case trustTrusted:
			return nil
		case trustRejected:
			return v.fail(InvalidPurpose, depth, nil)
		}
	}
	if x.checkPurposeSSLServer(mustBeCA > 0) == 0 {
		return v.fail(InvalidPurpose, depth, nil)
	}
	return nil
}

// checkAuthLevel applies the security level to the issuers' keys and to
// every signature but the trust anchor's own.
func (v *verifier) checkAuthLevel() error {
	num := len(v.chain)
	for i, x := range v.chain {
		if i > 0 && !keyLevelOK(x.cert) {
			return v.fail(CAKeyTooSmall, i, nil)
		}
		if i < num-1 && !sigLevelOK(x.cert) {
			return v.fail(CAMDTooWeak, i, nil)
		}
	}
	return nil
}

// checkSignaturesAndTimes is OpenSSL's internal_verify: from the top of the
// chain down, each certificate's signature is checked with its issuer's key
// (not the self-signature of the anchor), issuers' keyUsage must allow
// certificate signing, and every certificate must be within its validity
// period.
func (v *verifier) checkSignaturesAndTimes() error {
	n := len(v.chain) - 1
	xi := v.chain[n]
	xs := xi
	if !likelyIssued(xi, xi) {
		// The chain ends in a certificate trusted without being
		// self-issued: its own signature cannot be checked.
		if n == 0 {
			return v.fail(UnableToVerifyLeafSignature, 0, nil)
		}
		n--
		xs = v.chain[n]
	}
	for n >= 0 {
		if xs != xi {
			if xi.hasKU && xi.ku&x509.KeyUsageCertSign == 0 {
				return v.fail(KeyUsageNoCertSign, n+1, nil)
			}
			if xi.cert.PublicKey == nil {
				return v.fail(NoIssuerPublicKey, n+1, nil)
			}
			if err := checkSignature(xi.cert, xs.cert); err != nil {
				return v.fail(CertSignatureFailure, n, err)
			}
		}
		if r := certTimeReason(xs.cert, v.now); r != 0 {
			return v.fail(r, n, nil)
		}
		n--
		if n >= 0 {
			xi, xs = xs, v.chain[n]
		}
	}
	return nil
}

// checkNameConstraints applies every CA's name constraints to the
// certificates below it; self-issued intermediates are exempt, and the
// leaf's common names are checked too when it has no dNSName.
func (v *verifier) checkNameConstraints() error {
	num := len(v.chain)
	for i := num - 1; i >= 0; i-- {
		x := v.chain[i]
		if i != 0 && x.selfIssued {
			continue
		}
		for j := num - 1; j > i; j-- {
			nc := v.chain[j].nc
			if nc == nil {
				continue
			}
			r := checkNameConstraintsCert(x, nc)
			if r == 0 && i == 0 && !hasDNSName(x) {
				r = checkNameConstraintsCN(x, nc)
			}
			if r != 0 {
				return v.fail(r, i, nil)
			}
		}
	}
	return nil
}

func hasDNSName(x *certInfo) bool {
	for _, gn := range x.sans {
		if gn.tag == gnDNSName {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Host name check (verify-full)

// verifyHostname checks the server certificate against host as libpq's
// verify-full does. The host is an IP address when inet_aton accepts it or
// it is an IPv6 address. subjectAltName entries are examined in order:
// dNSName entries are compared with the host as text (also for an IP host),
// iPAddress entries byte-wise with the host's address. The first Common Name
// is consulted only when there is no subjectAltName entry of the host's own
// kind and no entry matched. Comparison is ASCII case-insensitive; a name
// "*.rest" matches a host ending in ".rest" whose part before it holds no
// other dot.
func verifyHostname(leaf *x509.Certificate, host string) error {
	// libpq's host is a C string.
	if i := strings.IndexByte(host, 0); i >= 0 {
		host = host[:i]
	}
	if host == "" {
		return &HostnameError{}
	}
	hostType := gnDNSName
	if isIPAddress(host) {
		hostType = gnIPAddress
	}
	e := &HostnameError{Host: host}
	checkCN := true
	if ext, ok := findExtension(leaf, oid.SubjectAltName); ok {
		sans, _ := parseGeneralNames(ext.Value)
		for _, gn := range sans {
			if gn.tag == hostType {
				checkCN = false
			}
			var matched bool
			var err error
			switch gn.tag {
			case gnDNSName:
				matched, err = matchName(e, gn.value, host)
			case gnIPAddress:
				matched, err = matchIP(e, gn.value, host)
			default:
				continue
			}
			if err != nil {
				e.Err = err
				return e
			}
			if matched {
				return nil
			}
		}
	}
	if checkCN {
		if subj, err := parseName(leaf.RawSubject); err == nil {
			for _, a := range subj.attrs {
				if a.oid.Equal(oid.CommonName) {
					matched, err := matchName(e, a.value, host)
					if err != nil {
						e.Err = err
						return e
					}
					if matched {
						return nil
					}
					break
				}
			}
		}
	}
	return e
}

// matchName compares a dNSName or Common Name (raw bytes, as libpq takes
// them) with the host, recording it among the names examined.
func matchName(e *HostnameError, name []byte, host string) (bool, error) {
	if bytes.IndexByte(name, 0) >= 0 {
		return false, errors.New("SSL certificate's name contains embedded null")
	}
	e.Names = append(e.Names, string(name))
	return asciiEqualFold(name, []byte(host)) || wildcardMatch(string(name), host), nil
}

// matchIP compares an iPAddress entry with the host, recording it among the
// names examined in printable form.
func matchIP(e *HostnameError, ip []byte, host string) (bool, error) {
	var matched bool
	switch len(ip) {
	case 4:
		if a, ok := cparse.Lenient(host); ok {
			matched = bytes.Equal(ip, a[:])
		}
	case 16:
		if a, ok := parseIPv6(host); ok {
			b := a.As16()
			matched = bytes.Equal(ip, b[:])
		}
	default:
		return false, fmt.Errorf("certificate contains IP address with invalid length %d", len(ip))
	}
	e.Names = append(e.Names, formatIP(ip))
	return matched, nil
}

// wildcardMatch is libpq's wildcard_certificate_match: the pattern must be
// "*." followed by at least one character; the host must end in the pattern
// without its "*", and the first dot of the host must not come before the
// last character the "*" stands for. (So "*.b" also matches "a..b".)
func wildcardMatch(pattern, host string) bool {
	lp, ls := len(pattern), len(host)
	if lp < 3 || pattern[0] != '*' || pattern[1] != '.' || lp > ls {
		return false
	}
	if !asciiEqualFold([]byte(pattern[1:]), []byte(host[ls-lp+1:])) {
		return false
	}
	if i := strings.IndexByte(host, '.'); i < ls-lp {
		return false
	}
	return true
}

// isIPAddress reports whether libpq takes host for an IP address.
func isIPAddress(host string) bool {
	if _, ok := cparse.Lenient(host); ok {
		return true
	}
	_, ok := parseIPv6(host)
	return ok
}

// parseIPv6 accepts what inet_pton(AF_INET6) accepts: no zone, no brackets,
// not a plain IPv4 address.
func parseIPv6(s string) (netip.Addr, bool) {
	if !strings.Contains(s, ":") || strings.Contains(s, "%") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

// formatIP prints an iPAddress entry as PostgreSQL's inet_net_ntop does:
// dotted quad for IPv4; for IPv6 the RFC 5952 form, except that an
// IPv4-compatible address (::a.b.c.d) keeps its dotted tail.
func formatIP(ip []byte) string {
	if len(ip) == 4 {
		return netip.AddrFrom4([4]byte(ip)).String()
	}
	a := netip.AddrFrom16([16]byte(ip))
	if bytes.Equal(ip[:12], make([]byte, 12)) && (ip[12] != 0 || ip[13] != 0) {
		return "::" + netip.AddrFrom4([4]byte(ip[12:])).String()
	}
	return a.String()
}
