// This file holds the certificate builder of the matrix, which keeps the
// first error, and OpenSSL's name hash for the files of an sslcrldir.

package conformance

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"

	"github.com/pqssl/pqssl/internal/testpki"
)

// builder makes the certificates of the matrix. It keeps the first error so
// that the generator can be written as straight-line code and check once.
type builder struct {
	err error
}

func (b *builder) fail(err error) {
	if b.err == nil && err != nil {
		b.err = err
	}
}

// placeholder is returned after an error so that the generator can go on
// until it checks b.err; it is never used in a case.
var placeholder = &testpki.Cert{CertPEM: []byte{}, KeyPEM: []byte{}, Cert: &x509.Certificate{SerialNumber: big.NewInt(1)}}

func (b *builder) root(spec testpki.Spec) *testpki.Cert {
	if b.err != nil {
		return placeholder
	}
	c, err := testpki.NewRoot(spec)
	if err != nil {
		b.fail(fmt.Errorf("root %q: %w", spec.CommonName, err))
		return placeholder
	}
	return c
}

func (b *builder) selfSigned(spec testpki.Spec) *testpki.Cert {
	if b.err != nil {
		return placeholder
	}
	c, err := testpki.NewSelfSigned(spec)
	if err != nil {
		b.fail(fmt.Errorf("self-signed %q: %w", spec.CommonName, err))
		return placeholder
	}
	return c
}

func (b *builder) issue(issuer *testpki.Cert, spec testpki.Spec) *testpki.Cert {
	if b.err != nil {
		return placeholder
	}
	c, err := issuer.Issue(spec)
	if err != nil {
		b.fail(fmt.Errorf("certificate %q: %w", spec.CommonName, err))
		return placeholder
	}
	return c
}

func (b *builder) crl(issuer *testpki.Cert, revoked []*big.Int, thisUpdate, nextUpdate time.Time) []byte {
	if b.err != nil {
		return nil
	}
	der, err := issuer.CRL(revoked, thisUpdate, nextUpdate)
	if err != nil {
		b.fail(fmt.Errorf("CRL of %q: %w", issuer.Cert.Subject.CommonName, err))
		return nil
	}
	return testpki.CRLPEM(der)
}

// withSerial returns c with its serial number replaced by serial, signed
// again by issuerKey (c's own key for a self-signed certificate). It makes
// the serial numbers crypto/x509 refuses to write (negative ones).
func (b *builder) withSerial(c *testpki.Cert, serial *big.Int, issuerKey crypto.Signer) *testpki.Cert {
	if b.err != nil {
		return placeholder
	}
	der, err := testpki.Resign(c.Cert.Raw, c.Cert.SignatureAlgorithm, issuerKey, func(t *testpki.RawTBS) error {
		enc, err := asn1.Marshal(serial)
		if err != nil {
			return err
		}
		t.Serial = asn1.RawValue{FullBytes: enc}
		return nil
	})
	if err != nil {
		b.fail(fmt.Errorf("changing the serial of %q: %w", c.Cert.Subject.CommonName, err))
		return placeholder
	}
	out := *c
	// crypto/x509 refuses to parse a negative serial by default; the
	// generator needs only the raw form, the subject and the serial.
	out.Cert = &x509.Certificate{Raw: der, SerialNumber: serial, Subject: c.Cert.Subject, RawSubject: c.Cert.RawSubject}
	out.CertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return &out
}

// encryptedKey returns c's key as a legacy encrypted PEM block
// ("Proc-Type: 4,ENCRYPTED", AES-256-CBC), which libpq loads with
// sslpassword.
func (b *builder) encryptedKey(c *testpki.Cert, password string) []byte {
	if b.err != nil {
		return nil
	}
	k, ok := c.Key.(*ecdsa.PrivateKey)
	if !ok {
		b.fail(errors.New("encryptedKey: not an ECDSA key"))
		return nil
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		b.fail(err)
		return nil
	}
	//lint:ignore SA1019 legacy PEM encryption is what is being tested.
	blk, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", der, []byte(password), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		b.fail(err)
		return nil
	}
	return pem.EncodeToMemory(blk)
}

// NameHash returns OpenSSL's hash of the certificate name whose DER encoding
// is der (X509_NAME_hash, what "openssl crl -hash -noout" prints for a CRL's
// issuer): the first four bytes, little-endian, of the SHA-1 of the name's
// canonical encoding. It is the base name of files in an sslcrldir.
//
// The canonical encoding re-encodes every string attribute as a UTF8String
// with leading and trailing white space removed, inner runs of white space
// collapsed to one space and ASCII letters lowered, and leaves out the outer
// SEQUENCE header.
func NameHash(der []byte) (string, error) {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdns); err != nil || len(rest) > 0 {
		return "", fmt.Errorf("conformance: parsing a name: %v", err)
	}
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(der, &raw); err != nil {
		return "", err
	}
	// Walk the raw SETs to see each value's original tag.
	var canon bytes.Buffer
	rest := raw.Bytes
	for len(rest) > 0 {
		var set asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &set); err != nil {
			return "", err
		}
		var atvs []byte
		in := set.Bytes
		for len(in) > 0 {
			var atv asn1.RawValue
			if in, err = asn1.Unmarshal(in, &atv); err != nil {
				return "", err
			}
			var oid asn1.ObjectIdentifier
			vrest, err := asn1.Unmarshal(atv.Bytes, &oid)
			if err != nil {
				return "", err
			}
			var val asn1.RawValue
			if _, err := asn1.Unmarshal(vrest, &val); err != nil {
				return "", err
			}
			valDER := val.FullBytes
			if val.Class == asn1.ClassUniversal && isStringTag(val.Tag) {
				s := canonical(string(val.Bytes))
				if valDER, err = asn1.MarshalWithParams(s, "utf8"); err != nil {
					return "", err
				}
			}
			oidDER, err := asn1.Marshal(oid)
			if err != nil {
				return "", err
			}
			seq, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true,
				Bytes: append(oidDER, valDER...)})
			if err != nil {
				return "", err
			}
			atvs = append(atvs, seq...)
		}
		enc, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: atvs})
		if err != nil {
			return "", err
		}
		canon.Write(enc)
	}
	sum := sha1.Sum(canon.Bytes())
	return fmt.Sprintf("%08x", binary.LittleEndian.Uint32(sum[:4])), nil
}

// isStringTag reports the string types OpenSSL canonicalises
// (ASN1_MASK_CANON): UTF8String, PrintableString, T61String, IA5String,
// UniversalString and BMPString. Only ASCII-compatible ones are used here.
func isStringTag(tag int) bool {
	switch tag {
	case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagT61String, asn1.TagIA5String:
		return true
	}
	return false
}

func canonical(s string) string {
	s = strings.TrimFunc(s, isASCIISpace)
	var b strings.Builder
	space := false
	for _, r := range s {
		if isASCIISpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if r < unicode.MaxASCII {
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isASCIISpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r'
}

// crlHash returns the sslcrldir file name stem of a CRL issued by c.
func (b *builder) crlHash(c *testpki.Cert) string {
	if b.err != nil {
		return "00000000"
	}
	h, err := NameHash(c.Cert.RawSubject)
	b.fail(err)
	return h
}
