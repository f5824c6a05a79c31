// Package testpki builds small public key infrastructures at run time for
// tests: self-signed roots, intermediates, leaf certificates and CRLs, all
// made with crypto/x509 and returned both parsed and PEM-encoded.
//
// A Spec describes one certificate; its zero value gives a usable leaf:
//
//	root := testpki.MustRoot(t, testpki.Spec{CommonName: "Test Root"})
//	inter := root.MustIssue(t, testpki.Spec{CommonName: "Test Inter", IsCA: true})
//	leaf := inter.MustIssue(t, testpki.Spec{DNSNames: []string{"localhost"}})
//	path := testpki.WriteFile(t, filepath.Join(dir, "root.crt"), root.CertPEM, 0o600)
//
// Keys. The default key type is ECDSA P-256, generated afresh for every
// certificate because that costs microseconds. RSA keys cost tens of
// milliseconds (RSA-2048) to seconds (RSA-4096), so certificates of the RSA
// types draw their keys from a per-type pool of PoolSize keys handed out in
// turn: any PoolSize consecutive RSA certificates of one type have distinct
// keys, later ones reuse them. Two certificates with the same key can sign
// for each other, so a test that relies on keys being distinct across more
// certificates than that should set Spec.Key from NewKey.
package testpki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Key types accepted in Spec.KeyType and by NewKey.
const (
	P256    = "p256" // the default
	P384    = "p384"
	Ed25519 = "ed25519"
	RSA1024 = "rsa1024"
	RSA2048 = "rsa2048"
	RSA4096 = "rsa4096"
)

// PoolSize is the number of distinct pooled keys per RSA key type.
const PoolSize = 4

// Cert is a certificate together with its private key.
type Cert struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte // one "CERTIFICATE" PEM block
	KeyPEM  []byte // unencrypted PKCS #8 "PRIVATE KEY" PEM block
}

// Spec describes one certificate. Zero values give defaults, noted per field.
type Spec struct {
	// CommonName is the subject's CN. When both CommonName and Subject are
	// unset, a unique CN of the form "testpki N" is generated, so that
	// distinct certificates never share a subject name by accident (chain
	// builders match issuers by name).
	CommonName string
	// Subject, when not nil, is the whole subject and CommonName is ignored.
	// &pkix.Name{} gives an empty subject.
	Subject *pkix.Name
	// RawSubject, when set, is the DER subject used verbatim (e.g. to use
	// string types crypto/x509 never writes); it overrides Subject.
	RawSubject []byte

	DNSNames    []string
	IPAddresses []net.IP

	// NotBefore defaults to one hour ago, NotAfter to 24 hours from now.
	NotBefore, NotAfter time.Time

	// IsCA sets basicConstraints CA:TRUE. MaxPathLen and MaxPathLenZero
	// have crypto/x509's meaning: a pathLenConstraint is written when
	// MaxPathLen > 0, or when MaxPathLen == 0 and MaxPathLenZero is set.
	IsCA           bool
	MaxPathLen     int
	MaxPathLenZero bool
	// NoBasicConstraints omits the basicConstraints extension. IsCA then
	// still selects the CA defaults for key usage and subject key id.
	NoBasicConstraints bool

	// KeyUsage defaults to keyCertSign|cRLSign|digitalSignature for a CA
	// (IsCA) and to digitalSignature (plus keyEncipherment for RSA keys)
	// otherwise. NoKeyUsage omits the extension.
	KeyUsage   x509.KeyUsage
	NoKeyUsage bool

	// ExtKeyUsage and UnknownExtKeyUsage fill the extendedKeyUsage
	// extension, which is absent when both are empty (the default).
	ExtKeyUsage        []x509.ExtKeyUsage
	UnknownExtKeyUsage []asn1.ObjectIdentifier

	// KeyType is one of the key type constants; "" means P256.
	KeyType string
	// Key, when set, is used instead of generating or pooling a key, and
	// KeyType is ignored.
	Key crypto.Signer

	// SerialNumber defaults to a random positive 159-bit number.
	SerialNumber *big.Int
	// SignatureAlgorithm is the algorithm the issuer signs with; zero
	// lets crypto/x509 choose from the issuer's key. x509.SHA1WithRSA and
	// x509.ECDSAWithSHA1 are accepted.
	SignatureAlgorithm x509.SignatureAlgorithm

	// AuthorityKeyId is used when the certificate is self-issued (same
	// subject as its issuer), where crypto/x509 writes no authority key
	// identifier by itself; otherwise the issuer's subject key id is used.
	AuthorityKeyId []byte

	// ExtraExtensions are added verbatim, e.g. an unknown critical one.
	ExtraExtensions []pkix.Extension

	// Name constraints (critical extension), meaningful on CAs.
	PermittedDNSDomains, ExcludedDNSDomains []string
	PermittedIPRanges, ExcludedIPRanges     []*net.IPNet

	// Version1 produces an X.509 v1 certificate: no version field and no
	// extensions at all, whatever the other fields say about them.
	Version1 bool
}

// NewRoot returns a self-signed CA certificate: spec with IsCA set.
func NewRoot(spec Spec) (*Cert, error) {
	spec.IsCA = true
	return NewSelfSigned(spec)
}

// NewSelfSigned returns a self-signed certificate made exactly as spec
// says; unlike NewRoot it does not force IsCA.
func NewSelfSigned(spec Spec) (*Cert, error) {
	return create(spec, nil)
}

// Issue returns a certificate described by spec and signed by issuer. The
// issuer's fitness to sign (CA flag, key usage) is not checked, so that
// tests can build invalid chains.
func (issuer *Cert) Issue(spec Spec) (*Cert, error) {
	if issuer == nil || issuer.Cert == nil || issuer.Key == nil {
		return nil, errors.New("testpki: Issue called on an incomplete issuer")
	}
	return create(spec, issuer)
}

// MustRoot is NewRoot that ends the test on error.
func MustRoot(tb testing.TB, spec Spec) *Cert {
	tb.Helper()
	c, err := NewRoot(spec)
	if err != nil {
		tb.Fatalf("testpki.NewRoot: %v", err)
	}
	return c
}

// MustSelfSigned is NewSelfSigned that ends the test on error.
func MustSelfSigned(tb testing.TB, spec Spec) *Cert {
	tb.Helper()
	c, err := NewSelfSigned(spec)
	if err != nil {
		tb.Fatalf("testpki.NewSelfSigned: %v", err)
	}
	return c
}

// MustIssue is Issue that ends the test on error.
func (issuer *Cert) MustIssue(tb testing.TB, spec Spec) *Cert {
	tb.Helper()
	c, err := issuer.Issue(spec)
	if err != nil {
		tb.Fatalf("testpki.Issue: %v", err)
	}
	return c
}

// ChainPEM concatenates the certificates' PEM blocks in the order given.
func ChainPEM(certs ...*Cert) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		b.Write(c.CertPEM)
	}
	return b.Bytes()
}

// Serials returns the serial numbers of certs, for CRL.
func Serials(certs ...*Cert) []*big.Int {
	s := make([]*big.Int, len(certs))
	for i, c := range certs {
		s[i] = c.Cert.SerialNumber
	}
	return s
}

// WriteFile writes data to path with the given permissions (exactly those:
// the umask does not apply) and returns path. It ends the test on error.
func WriteFile(tb testing.TB, path string, data []byte, mode os.FileMode) string {
	tb.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		tb.Fatalf("testpki.WriteFile: %v", err)
	}
	if err := os.Chmod(path, mode); err != nil {
		tb.Fatalf("testpki.WriteFile: %v", err)
	}
	return path
}

// CRL returns a DER-encoded v2 CRL signed by issuer that revokes the given
// serial numbers (revocation time thisUpdate). A zero thisUpdate means one
// hour ago, a zero nextUpdate 24 hours from now. The CRL carries an
// increasing CRL number and an authorityKeyIdentifier equal to the issuer's
// subjectKeyIdentifier when it has one. The issuer's key usage is not
// checked, so that tests can make CRLs from unfit issuers.
func (issuer *Cert) CRL(revoked []*big.Int, thisUpdate, nextUpdate time.Time) ([]byte, error) {
	return issuer.NewCRL(CRLSpec{Revoked: revoked, ThisUpdate: thisUpdate, NextUpdate: nextUpdate})
}

// CRLSpec describes a CRL for NewCRL. Its zero value gives what CRL gives
// with no revoked serial numbers and zero times.
type CRLSpec struct {
	// Revoked are serial numbers revoked without a reason code, at
	// ThisUpdate.
	Revoked []*big.Int
	// Entries are further revoked certificate entries, used as given (with
	// a reason code or extensions, for instance); a zero RevocationTime
	// becomes ThisUpdate.
	Entries []x509.RevocationListEntry

	// ThisUpdate defaults to one hour ago, NextUpdate to 24 hours from
	// now. NoNextUpdate omits the optional nextUpdate field.
	ThisUpdate, NextUpdate time.Time
	NoNextUpdate           bool

	// Number is the CRL number; nil means the next of a process-wide
	// counter.
	Number *big.Int
	// NoAuthorityKeyId omits the authorityKeyIdentifier extension.
	NoAuthorityKeyId bool
	// ExtraExtensions are added verbatim (an issuingDistributionPoint, a
	// deltaCRLIndicator, an unknown critical extension...).
	ExtraExtensions []pkix.Extension
	// Version1 produces a v1 CRL, as "openssl ca -gencrl" writes without
	// CRL extensions: no version field and no extensions at all.
	Version1 bool
}

// NewCRL returns a DER-encoded CRL signed by issuer as spec describes. As
// with CRL, the issuer's key usage is not checked.
func (issuer *Cert) NewCRL(spec CRLSpec) ([]byte, error) {
	if issuer == nil || issuer.Cert == nil || issuer.Key == nil {
		return nil, errors.New("testpki: CRL called on an incomplete issuer")
	}
	now := time.Now()
	thisUpdate, nextUpdate := spec.ThisUpdate, spec.NextUpdate
	if thisUpdate.IsZero() {
		thisUpdate = now.Add(-time.Hour)
	}
	if nextUpdate.IsZero() {
		nextUpdate = now.Add(24 * time.Hour)
	}
	number := spec.Number
	if number == nil {
		number = big.NewInt(crlNumber.Add(1))
	}
	tmpl := &x509.RevocationList{
		Number:          number,
		ThisUpdate:      thisUpdate,
		NextUpdate:      nextUpdate,
		ExtraExtensions: spec.ExtraExtensions,
	}
	if nextUpdate.Before(thisUpdate) {
		// crypto/x509 refuses such a CRL; the field is rewritten below.
		tmpl.NextUpdate = thisUpdate
	}
	for _, s := range spec.Revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: s, RevocationTime: thisUpdate})
	}
	for _, e := range spec.Entries {
		if e.RevocationTime.IsZero() {
			e.RevocationTime = thisUpdate
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, e)
	}
	// crypto/x509 insists on cRLSign and a subject key id in the issuer;
	// a copy with both satisfied lets tests sign with any certificate.
	// Without a real subject key id the authority key id is a made-up
	// value, which verifiers ignore when the issuer has no key id.
	iss := *issuer.Cert
	iss.KeyUsage |= x509.KeyUsageCRLSign
	if len(iss.SubjectKeyId) == 0 {
		h := sha1.Sum(iss.RawSubjectPublicKeyInfo)
		iss.SubjectKeyId = h[:]
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, &iss, issuer.Key)
	if err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	if !spec.Version1 && !spec.NoNextUpdate && !spec.NoAuthorityKeyId && !nextUpdate.Before(thisUpdate) {
		return der, nil
	}
	return rewriteCRL(der, issuer.Key, spec, nextUpdate)
}

// MustCRL is NewCRL that ends the test on error.
func (issuer *Cert) MustCRL(tb testing.TB, spec CRLSpec) []byte {
	tb.Helper()
	der, err := issuer.NewCRL(spec)
	if err != nil {
		tb.Fatalf("testpki.NewCRL: %v", err)
	}
	return der
}

var oidAuthorityKeyId = asn1.ObjectIdentifier{2, 5, 29, 35}

// Universal tags of the two ASN.1 time types.
const (
	asn1UTCTime = 23
	asn1GenTime = 24
)

// rewriteCRL edits the TBSCertList of a CRL made by crypto/x509 (version,
// nextUpdate, extensions) and signs it again.
func rewriteCRL(der []byte, signer crypto.Signer, spec CRLSpec, nextUpdate time.Time) ([]byte, error) {
	parsed, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	var c rawCertificate
	if _, err := asn1.Unmarshal(der, &c); err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	var fields []asn1.RawValue
	for rest := c.TBS.Bytes; len(rest) > 0; {
		var v asn1.RawValue
		if rest, err = asn1.Unmarshal(rest, &v); err != nil {
			return nil, fmt.Errorf("testpki: %w", err)
		}
		fields = append(fields, v)
	}
	// version, signature, issuer, thisUpdate, nextUpdate, [revoked], [0] extensions
	var out [][]byte
	for i, f := range fields {
		switch {
		case i == 0 && f.Class == asn1.ClassUniversal && f.Tag == asn1.TagInteger:
			if spec.Version1 {
				continue
			}
		case i == 4 && f.Class == asn1.ClassUniversal && (f.Tag == asn1UTCTime || f.Tag == asn1GenTime):
			if spec.NoNextUpdate {
				continue
			}
			t, err := asn1.MarshalWithParams(nextUpdate.UTC(), "utc")
			if err != nil {
				return nil, fmt.Errorf("testpki: %w", err)
			}
			out = append(out, t)
			continue
		case f.Class == asn1.ClassContextSpecific && f.Tag == 0:
			if spec.Version1 {
				continue
			}
			if spec.NoAuthorityKeyId {
				var exts []pkix.Extension
				if _, err := asn1.Unmarshal(f.Bytes, &exts); err != nil {
					return nil, fmt.Errorf("testpki: %w", err)
				}
				kept := exts[:0]
				for _, e := range exts {
					if !e.Id.Equal(oidAuthorityKeyId) {
						kept = append(kept, e)
					}
				}
				if len(kept) == 0 {
					continue
				}
				b, err := asn1.Marshal(kept)
				if err != nil {
					return nil, fmt.Errorf("testpki: %w", err)
				}
				b, err = asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: b})
				if err != nil {
					return nil, fmt.Errorf("testpki: %w", err)
				}
				out = append(out, b)
				continue
			}
		}
		out = append(out, f.FullBytes)
	}
	tbs, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: bytes.Join(out, nil)})
	if err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	sig, err := sign(signer, parsed.SignatureAlgorithm, tbs)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(rawCertificate{
		TBS:       asn1.RawValue{FullBytes: tbs},
		Algorithm: c.Algorithm,
		Signature: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	})
}

// CRLPEM encodes a DER CRL as an "X509 CRL" PEM block.
func CRLPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// NewKey generates a fresh key of the given type (one of the key type
// constants; "" means P256), bypassing the RSA pool.
func NewKey(keyType string) (crypto.Signer, error) {
	switch keyType {
	case "", P256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case RSA1024, RSA2048, RSA4096:
		return rsa.GenerateKey(rand.Reader, rsaBits[keyType])
	}
	return nil, fmt.Errorf("testpki: unknown key type %q", keyType)
}

var rsaBits = map[string]int{RSA1024: 1024, RSA2048: 2048, RSA4096: 4096}

var (
	nameCounter atomic.Int64
	crlNumber   atomic.Int64
)

// keyPool hands out RSA keys, generating each one the first time its slot
// is reached.
var keyPool struct {
	mu   sync.Mutex
	keys map[string][]crypto.Signer
	next map[string]int
}

func pooledKey(keyType string) (crypto.Signer, error) {
	if _, ok := rsaBits[keyType]; !ok {
		return NewKey(keyType)
	}
	keyPool.mu.Lock()
	defer keyPool.mu.Unlock()
	if keyPool.keys == nil {
		keyPool.keys = make(map[string][]crypto.Signer)
		keyPool.next = make(map[string]int)
	}
	i := keyPool.next[keyType]
	keyPool.next[keyType] = (i + 1) % PoolSize
	if i < len(keyPool.keys[keyType]) {
		return keyPool.keys[keyType][i], nil
	}
	k, err := NewKey(keyType)
	if err != nil {
		return nil, err
	}
	keyPool.keys[keyType] = append(keyPool.keys[keyType], k)
	return k, nil
}

func create(spec Spec, issuer *Cert) (*Cert, error) {
	key := spec.Key
	if key == nil {
		var err error
		if key, err = pooledKey(spec.KeyType); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          spec.SerialNumber,
		DNSNames:              spec.DNSNames,
		IPAddresses:           spec.IPAddresses,
		NotBefore:             spec.NotBefore,
		NotAfter:              spec.NotAfter,
		BasicConstraintsValid: !spec.NoBasicConstraints,
		IsCA:                  spec.IsCA,
		MaxPathLen:            spec.MaxPathLen,
		MaxPathLenZero:        spec.MaxPathLenZero,
		KeyUsage:              spec.KeyUsage,
		ExtKeyUsage:           spec.ExtKeyUsage,
		UnknownExtKeyUsage:    spec.UnknownExtKeyUsage,
		SignatureAlgorithm:    spec.SignatureAlgorithm,
		AuthorityKeyId:        spec.AuthorityKeyId,
		ExtraExtensions:       spec.ExtraExtensions,
		PermittedDNSDomains:   spec.PermittedDNSDomains,
		ExcludedDNSDomains:    spec.ExcludedDNSDomains,
		PermittedIPRanges:     spec.PermittedIPRanges,
		ExcludedIPRanges:      spec.ExcludedIPRanges,
	}
	if len(spec.PermittedDNSDomains)+len(spec.ExcludedDNSDomains)+
		len(spec.PermittedIPRanges)+len(spec.ExcludedIPRanges) > 0 {
		tmpl.PermittedDNSDomainsCritical = true // RFC 5280 requires it
	}
	tmpl.RawSubject = spec.RawSubject
	switch {
	case spec.Subject != nil:
		tmpl.Subject = *spec.Subject
	case spec.CommonName != "":
		tmpl.Subject = pkix.Name{CommonName: spec.CommonName}
	default:
		tmpl.Subject = pkix.Name{CommonName: fmt.Sprintf("testpki %d", nameCounter.Add(1))}
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = now.Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = now.Add(24 * time.Hour)
	}
	if spec.NoKeyUsage {
		tmpl.KeyUsage = 0
	} else if tmpl.KeyUsage == 0 {
		if spec.IsCA {
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		} else {
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature
			if _, ok := key.(*rsa.PrivateKey); ok {
				tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
			}
		}
	}

	parent, signer := tmpl, key
	if issuer != nil {
		parent, signer = issuer.Cert, issuer.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	if spec.Version1 {
		if der, err = toVersion1(der, signer); err != nil {
			return nil, err
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("testpki: parsing the new certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	return &Cert{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
	}, nil
}

// rawCertificate is RFC 5280's Certificate (and CertificateList) with the
// signed part kept as raw DER.
type rawCertificate struct {
	TBS       asn1.RawValue
	Algorithm pkix.AlgorithmIdentifier
	Signature asn1.BitString
}

// RawTBS is a TBSCertificate with every field kept as raw DER, for Resign.
// An empty Version or Extensions is left out of the encoding.
type RawTBS struct {
	Version    asn1.RawValue `asn1:"optional,explicit,tag:0"`
	Serial     asn1.RawValue
	Algorithm  asn1.RawValue
	Issuer     asn1.RawValue
	Validity   asn1.RawValue
	Subject    asn1.RawValue
	PublicKey  asn1.RawValue
	Extensions asn1.RawValue `asn1:"optional,explicit,tag:3"`
}

// Resign lets mutate change the TBSCertificate of the certificate der and
// signs the result with signer under alg, the certificate's signature
// algorithm. It makes what crypto/x509 will not: negative serial numbers,
// X.509 v1 certificates.
func Resign(der []byte, alg x509.SignatureAlgorithm, signer crypto.Signer, mutate func(*RawTBS) error) ([]byte, error) {
	var c rawCertificate
	if rest, err := asn1.Unmarshal(der, &c); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("testpki: parsing the certificate: %v", err)
	}
	var t RawTBS
	if rest, err := asn1.Unmarshal(c.TBS.FullBytes, &t); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("testpki: parsing the TBSCertificate: %v", err)
	}
	if err := mutate(&t); err != nil {
		return nil, err
	}
	// The fields are joined by hand: encoding/asn1 would drop an explicit
	// version field whose raw value it cannot compare with a default.
	var body []byte
	for _, f := range []asn1.RawValue{t.Version, t.Serial, t.Algorithm, t.Issuer, t.Validity, t.Subject, t.PublicKey, t.Extensions} {
		body = append(body, f.FullBytes...)
	}
	tbs, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	sig, err := sign(signer, alg, tbs)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(rawCertificate{
		TBS:       asn1.RawValue{FullBytes: tbs},
		Algorithm: c.Algorithm,
		Signature: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	})
}

// toVersion1 rewrites a v3 certificate as v1 (version field and extensions
// dropped) and signs it again with the same algorithm.
func toVersion1(der []byte, signer crypto.Signer) ([]byte, error) {
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	return Resign(der, parsed.SignatureAlgorithm, signer, func(t *RawTBS) error {
		t.Version, t.Extensions = asn1.RawValue{}, asn1.RawValue{}
		return nil
	})
}

func sign(signer crypto.Signer, alg x509.SignatureAlgorithm, msg []byte) ([]byte, error) {
	var h crypto.Hash
	switch alg {
	case x509.PureEd25519:
		return signer.Sign(rand.Reader, msg, crypto.Hash(0))
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1:
		h = crypto.SHA1
	case x509.SHA256WithRSA, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS:
		h = crypto.SHA256
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = crypto.SHA512
	default:
		return nil, fmt.Errorf("testpki: cannot re-sign with %v", alg)
	}
	var digest []byte
	switch h {
	case crypto.SHA1:
		d := sha1.Sum(msg)
		digest = d[:]
	case crypto.SHA256:
		d := sha256.Sum256(msg)
		digest = d[:]
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		digest = d[:]
	case crypto.SHA512:
		d := sha512.Sum512(msg)
		digest = d[:]
	}
	var opts crypto.SignerOpts = h
	switch alg {
	case x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
	}
	return signer.Sign(rand.Reader, digest, opts)
}
