// Package oid names the ASN.1 object identifiers that pqssl's certificate
// verification, client key loading and channel binding refer to, so that
// each is written down once.
package oid

import "encoding/asn1"

// Certificate and CRL extensions (RFC 5280, section 4.2 and 5.2).
var (
	SubjectKeyID             = asn1.ObjectIdentifier{2, 5, 29, 14}
	KeyUsage                 = asn1.ObjectIdentifier{2, 5, 29, 15}
	SubjectAltName           = asn1.ObjectIdentifier{2, 5, 29, 17}
	BasicConstraints         = asn1.ObjectIdentifier{2, 5, 29, 19}
	CRLReason                = asn1.ObjectIdentifier{2, 5, 29, 21}
	DeltaCRLIndicator        = asn1.ObjectIdentifier{2, 5, 29, 27}
	IssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}
	CertificateIssuer        = asn1.ObjectIdentifier{2, 5, 29, 29}
	NameConstraints          = asn1.ObjectIdentifier{2, 5, 29, 30}
	CRLDistributionPoints    = asn1.ObjectIdentifier{2, 5, 29, 31}
	CertificatePolicies      = asn1.ObjectIdentifier{2, 5, 29, 32}
	PolicyMappings           = asn1.ObjectIdentifier{2, 5, 29, 33}
	AuthorityKeyID           = asn1.ObjectIdentifier{2, 5, 29, 35}
	PolicyConstraints        = asn1.ObjectIdentifier{2, 5, 29, 36}
	ExtKeyUsage              = asn1.ObjectIdentifier{2, 5, 29, 37}
	InhibitAnyPolicy         = asn1.ObjectIdentifier{2, 5, 29, 54}
	NetscapeCertType         = asn1.ObjectIdentifier{2, 16, 840, 1, 113730, 1, 1}
	ProxyCertInfo            = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 14}
	IPAddrBlocks             = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 7}
	AutonomousSysIDs         = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 8}
	OCSPNoCheck              = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	ExtKeyUsageServerAuth    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	ExtKeyUsageAnyExtension  = asn1.ObjectIdentifier{2, 5, 29, 37, 0}
)

// Name attributes.
var (
	CommonName   = asn1.ObjectIdentifier{2, 5, 4, 3}
	EmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

// Public key algorithms.
var (
	PublicKeyRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	PublicKeyRSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	PublicKeyDSA    = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
	PublicKeyECDSA  = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	X25519          = asn1.ObjectIdentifier{1, 3, 101, 110}
	X448            = asn1.ObjectIdentifier{1, 3, 101, 111}
	Ed25519         = asn1.ObjectIdentifier{1, 3, 101, 112}
	Ed448           = asn1.ObjectIdentifier{1, 3, 101, 113}
)

// Elliptic curves and their field type.
var (
	CurveP224  = asn1.ObjectIdentifier{1, 3, 132, 0, 33}
	CurveP256  = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	CurveP384  = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	CurveP521  = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
	PrimeField = asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1}
)

// Signature and hash algorithms that need to be recognised by name.
var (
	MD2WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 2}
	MD4WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 3}
	SHA1       = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
)
