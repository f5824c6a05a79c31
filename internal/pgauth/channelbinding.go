// This file holds SCRAM channel binding: the tls-server-end-point hash of
// the server certificate.

package pgauth

import (
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"hash"

	"github.com/pqssl/pqssl/internal/oid"
)

// endPointHashes maps signature algorithms, and for RSASSA-PSS hash
// algorithms, to the hash tls-server-end-point uses: the signature's own,
// except SHA-256 for MD5 and SHA-1 (RFC 5929, section 4.1).
var endPointHashes = func() map[string]func() hash.Hash {
	m := map[string]func() hash.Hash{}
	add := func(h func() hash.Hash, oids ...string) {
		for _, o := range oids {
			m[o] = h
		}
	}
	add(sha256.New,
		"1.2.840.113549.1.1.4", // md5WithRSAEncryption
		"1.2.840.113549.1.1.5", // sha1WithRSAEncryption
		"1.3.14.3.2.29",        // sha1WithRSASignature (OIW)
		"1.2.840.10040.4.3",    // dsa-with-sha1
		"1.3.14.3.2.27",        // dsaWithSHA1 (OIW)
		"1.2.840.10045.4.1",    // ecdsa-with-SHA1
		"1.3.14.3.2.26",        // sha1, as an RSASSA-PSS hash
		"1.2.840.113549.2.5",   // md5, as an RSASSA-PSS hash
		"1.2.840.113549.1.1.11", "1.2.840.10045.4.3.2", "2.16.840.1.101.3.4.3.2", "2.16.840.1.101.3.4.2.1")
	add(sha256.New224, "1.2.840.113549.1.1.14", "1.2.840.10045.4.3.1", "2.16.840.1.101.3.4.3.1", "2.16.840.1.101.3.4.2.4")
	add(sha512.New384, "1.2.840.113549.1.1.12", "1.2.840.10045.4.3.3", "2.16.840.1.101.3.4.3.3", "2.16.840.1.101.3.4.2.2")
	add(sha512.New, "1.2.840.113549.1.1.13", "1.2.840.10045.4.3.4", "2.16.840.1.101.3.4.3.4", "2.16.840.1.101.3.4.2.3")
	add(sha512.New512_224, "1.2.840.113549.1.1.15", "2.16.840.1.101.3.4.2.5")
	add(sha512.New512_256, "1.2.840.113549.1.1.16", "2.16.840.1.101.3.4.2.6")
	add(func() hash.Hash { return sha3.New224() }, "2.16.840.1.101.3.4.3.5", "2.16.840.1.101.3.4.3.9", "2.16.840.1.101.3.4.3.13", "2.16.840.1.101.3.4.2.7")
	add(func() hash.Hash { return sha3.New256() }, "2.16.840.1.101.3.4.3.6", "2.16.840.1.101.3.4.3.10", "2.16.840.1.101.3.4.3.14", "2.16.840.1.101.3.4.2.8")
	add(func() hash.Hash { return sha3.New384() }, "2.16.840.1.101.3.4.3.7", "2.16.840.1.101.3.4.3.11", "2.16.840.1.101.3.4.3.15", "2.16.840.1.101.3.4.2.9")
	add(func() hash.Hash { return sha3.New512() }, "2.16.840.1.101.3.4.3.8", "2.16.840.1.101.3.4.3.12", "2.16.840.1.101.3.4.3.16", "2.16.840.1.101.3.4.2.10")
	return m
}()

// tlsServerEndPoint returns the tls-server-end-point channel binding data
// (RFC 5929) of the server certificate cert, computed as libpq and the
// PostgreSQL server compute it: the DER certificate hashed with the hash of
// its signature algorithm (for RSASSA-PSS, the hash of its parameters),
// SHA-256 for MD5 and SHA-1. A signature algorithm without a hash, such as
// Ed25519, allows no channel binding: libpq then fails the connection, even
// with channel_binding=prefer, and so does pqssl.
func tlsServerEndPoint(cert *x509.Certificate) ([]byte, error) {
	var c struct {
		TBS    asn1.RawValue
		SigAlg pkix.AlgorithmIdentifier
		Sig    asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.Raw, &c); err != nil {
		return nil, &ChannelBindingError{Kind: ChannelBindingUnsupportedCertificate, Reason: "could not determine server certificate signature algorithm"}
	}
	alg := c.SigAlg.Algorithm
	switch {
	case alg.Equal(oid.Ed25519), alg.Equal(oid.Ed448):
		return nil, &ChannelBindingError{Kind: ChannelBindingUnsupportedCertificate, Reason: "could not find digest for NID UNDEF: the server certificate's signature algorithm has no hash for tls-server-end-point channel binding"}
	case alg.Equal(oid.MD2WithRSA), alg.Equal(oid.MD4WithRSA):
		return nil, &ChannelBindingError{Kind: ChannelBindingUnsupportedCertificate, Reason: "could not find digest for the server certificate's signature algorithm " + alg.String()}
	case alg.Equal(oid.PublicKeyRSAPSS):
		var params struct {
			Hash pkix.AlgorithmIdentifier `asn1:"explicit,tag:0,optional"`
		}
		if len(c.SigAlg.Parameters.FullBytes) == 0 {
			alg = oid.SHA1
		} else if _, err := asn1.Unmarshal(c.SigAlg.Parameters.FullBytes, &params); err != nil {
			return nil, &ChannelBindingError{Kind: ChannelBindingUnsupportedCertificate, Reason: "could not determine server certificate signature algorithm"}
		} else if len(params.Hash.Algorithm) == 0 {
			alg = oid.SHA1 // the default of RSASSA-PSS-params
		} else {
			alg = params.Hash.Algorithm
		}
	}
	newHash, ok := endPointHashes[alg.String()]
	if !ok {
		return nil, &ChannelBindingError{Kind: ChannelBindingUnsupportedCertificate, Reason: "could not determine server certificate signature algorithm"}
	}
	h := newHash()
	h.Write(cert.Raw)
	return h.Sum(nil), nil
}
