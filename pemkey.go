// This file holds client key decoding: every key format and encryption
// libpq loads.

package pqssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"

	"github.com/pqssl/pqssl/internal/oid"

	"github.com/pqssl/pqssl/internal/pemcrypt"
)

// errNoKey is the error for data that holds no recognizable private key.
var errNoKey = errors.New("no private key found: not a PEM private key, nor a DER PKCS#8, PKCS#1 or SEC1 key")

// errKeyValuesMismatch is OpenSSL's reason text for a key that does not
// belong to the certificate.
var errKeyValuesMismatch = errors.New("key values mismatch")

// loadPrivateKey parses the contents of a private key file the way libpq
// (through OpenSSL) does: as PEM first, taking the first PEM block that
// holds a private key, then as DER. Encrypted keys are decrypted with the
// password that password returns; it is called only for an encrypted key.
// path is used in error messages only.
func loadPrivateKey(path string, data []byte, password func() (string, error)) (crypto.Signer, error) {
	key, err := parsePrivateKey(data, password)
	if err != nil {
		return nil, &KeyFileError{Path: path, Reason: KeyUnloadable, Err: err}
	}
	return key, nil
}

func parsePrivateKey(data []byte, password func() (string, error)) (crypto.Signer, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			return parsePEMKey(block, password)
		case "DSA PRIVATE KEY":
			return nil, &UnsupportedKeyError{"key type DSA"}
		}
	}
	return parseDERKey(data, password)
}

// getPassword calls password and turns "" into ErrPasswordRequired, since
// an empty sslpassword means none was given.
func getPassword(password func() (string, error)) ([]byte, error) {
	if password == nil {
		return nil, ErrPasswordRequired
	}
	pw, err := password()
	if err != nil {
		return nil, err
	}
	if pw == "" {
		return nil, ErrPasswordRequired
	}
	return []byte(pw), nil
}

func parsePEMKey(block *pem.Block, password func() (string, error)) (crypto.Signer, error) {
	der := block.Bytes
	encrypted := false
	if pemcrypt.IsEncryptedPEMBlock(block) {
		pw, err := getPassword(password)
		if err != nil {
			return nil, err
		}
		if der, err = pemcrypt.DecryptPEMBlock(block, pw); err != nil {
			return nil, decryptError(err)
		}
		encrypted = true
	}
	var key crypto.Signer
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = parsePKCS1(der)
	case "EC PRIVATE KEY":
		key, err = parseSEC1(der)
	case "PRIVATE KEY":
		key, err = parsePKCS8(der)
	case "ENCRYPTED PRIVATE KEY":
		return parseEncryptedPKCS8(der, password)
	}
	if err != nil && encrypted {
		// Decrypting with a wrong password in a mode without padding
		// yields garbage that does not parse.
		var u *UnsupportedKeyError
		if !errors.As(err, &u) {
			return nil, ErrIncorrectPassword
		}
	}
	return key, err
}

func parseEncryptedPKCS8(der []byte, password func() (string, error)) (crypto.Signer, error) {
	pw, err := getPassword(password)
	if err != nil {
		return nil, err
	}
	plain, err := pemcrypt.DecryptPKCS8(der, pw)
	if err != nil {
		return nil, decryptError(err)
	}
	key, err := parsePKCS8(plain)
	if err != nil {
		var u *UnsupportedKeyError
		if errors.As(err, &u) {
			return nil, err
		}
		return nil, ErrIncorrectPassword
	}
	return key, nil
}

// decryptError maps the errors of package pemcrypt to pqssl's.
func decryptError(err error) error {
	var u *pemcrypt.UnsupportedError
	switch {
	case errors.Is(err, pemcrypt.ErrBadDecrypt):
		return ErrIncorrectPassword
	case errors.As(err, &u):
		return &UnsupportedKeyError{u.What}
	}
	return err
}

// parseDERKey tries the DER forms OpenSSL's d2i_AutoPrivateKey accepts,
// and also encrypted PKCS#8 (which libpq 15 refuses in DER form).
func parseDERKey(der []byte, password func() (string, error)) (crypto.Signer, error) {
	if len(der) == 0 || der[0] != 0x30 {
		return nil, errNoKey
	}
	if key, err := parsePKCS8(der); err == nil {
		return key, nil
	} else if u := (*UnsupportedKeyError)(nil); errors.As(err, &u) {
		return nil, err
	}
	if key, err := parsePKCS1(der); err == nil {
		return key, nil
	}
	if key, err := parseSEC1(der); err == nil {
		return key, nil
	} else if u := (*UnsupportedKeyError)(nil); errors.As(err, &u) {
		return nil, err
	}
	if pemcrypt.IsEncryptedPKCS8(der) {
		return parseEncryptedPKCS8(der, password)
	}
	return nil, errNoKey
}

func parsePKCS1(der []byte) (crypto.Signer, error) {
	return x509.ParsePKCS1PrivateKey(der)
}

type pkcs8Info struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
}

func parsePKCS8(der []byte) (crypto.Signer, error) {
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err == nil {
		return asSigner(key)
	}
	var info pkcs8Info
	if _, e := asn1.Unmarshal(der, &info); e != nil {
		return nil, err
	}
	switch alg := info.Algo.Algorithm; {
	case alg.Equal(oid.PublicKeyECDSA):
		// EC keys written with explicit curve parameters
		// (-param_enc explicit), which crypto/x509 does not read.
		if len(info.Algo.Parameters.FullBytes) == 0 || info.Algo.Parameters.Tag != asn1.TagSequence {
			return nil, err
		}
		curve, cerr := curveFromParams(info.Algo.Parameters.FullBytes)
		if cerr != nil {
			return nil, cerr
		}
		return parseSEC1WithCurve(info.PrivateKey, curve)
	case alg.Equal(oid.PublicKeyDSA):
		return nil, &UnsupportedKeyError{"key type DSA"}
	case alg.Equal(oid.PublicKeyRSAPSS):
		return nil, &UnsupportedKeyError{"key type RSA-PSS"}
	case alg.Equal(oid.X25519), alg.Equal(oid.X448):
		return nil, &UnsupportedKeyError{"key type " + alg.String() + " (a key-agreement key cannot sign)"}
	case alg.Equal(oid.Ed448):
		return nil, &UnsupportedKeyError{"key type Ed448"}
	}
	return nil, err
}

func asSigner(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, &UnsupportedKeyError{fmt.Sprintf("key type %T", key)}
}

// ecPrivateKey is SEC 1's ECPrivateKey with the parameters left raw.
type ecPrivateKey struct {
	Version    int
	PrivateKey []byte
	Params     asn1.RawValue  `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString `asn1:"optional,explicit,tag:1"`
}

type ecPrivateKeyNamed struct {
	Version    int
	PrivateKey []byte
	Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

func parseSEC1(der []byte) (crypto.Signer, error) {
	key, err := x509.ParseECPrivateKey(der)
	if err == nil {
		return key, nil
	}
	var k ecPrivateKey
	// Params holds the explicit [0] tag; its contents are a SEQUENCE for
	// explicit parameters (an OBJECT IDENTIFIER for a named curve).
	if _, e := asn1.Unmarshal(der, &k); e != nil || len(k.Params.Bytes) == 0 || k.Params.Bytes[0] != 0x30 {
		return nil, err
	}
	curve, cerr := curveFromParams(k.Params.Bytes)
	if cerr != nil {
		return nil, cerr
	}
	return parseSEC1WithCurve(der, curve)
}

// parseSEC1WithCurve parses an ECPrivateKey whose curve is known from
// elsewhere (explicit parameters, or the PKCS#8 algorithm identifier).
func parseSEC1WithCurve(der []byte, curve namedCurve) (crypto.Signer, error) {
	var k ecPrivateKey
	if rest, err := asn1.Unmarshal(der, &k); err != nil || len(rest) != 0 {
		return nil, errors.New("malformed EC private key")
	}
	named, err := asn1.Marshal(ecPrivateKeyNamed{Version: k.Version, PrivateKey: k.PrivateKey, Curve: curve.oid, PublicKey: k.PublicKey})
	if err != nil {
		return nil, err
	}
	return x509.ParseECPrivateKey(named)
}

type namedCurve struct {
	curve elliptic.Curve
	oid   asn1.ObjectIdentifier
}

var namedCurves = []namedCurve{
	{elliptic.P224(), oid.CurveP224},
	{elliptic.P256(), oid.CurveP256},
	{elliptic.P384(), oid.CurveP384},
	{elliptic.P521(), oid.CurveP521},
}

// ecParameters is SEC 1's SpecifiedECDomain for a prime field.
type ecParameters struct {
	Version int
	FieldID struct {
		Type  asn1.ObjectIdentifier
		Prime *big.Int
	}
	Curve struct {
		A, B []byte
		Seed asn1.BitString `asn1:"optional"`
	}
	Base     []byte
	Order    *big.Int
	Cofactor *big.Int `asn1:"optional"`
}

// curveFromParams identifies explicit curve parameters (the DER of an
// ECParameters SEQUENCE) as one of the named NIST curves Go supports.
func curveFromParams(der []byte) (namedCurve, error) {
	var p ecParameters
	if _, err := asn1.Unmarshal(der, &p); err != nil {
		return namedCurve{}, errors.New("malformed explicit EC parameters")
	}
	if !p.FieldID.Type.Equal(oid.PrimeField) || p.FieldID.Prime == nil || p.Order == nil {
		return namedCurve{}, &UnsupportedKeyError{"elliptic curve with explicit parameters over a non-prime field"}
	}
	a := new(big.Int).SetBytes(p.Curve.A)
	b := new(big.Int).SetBytes(p.Curve.B)
	for _, nc := range namedCurves {
		params := nc.curve.Params()
		byteLen := (params.BitSize + 7) / 8
		if len(p.Base) != 1+2*byteLen || p.Base[0] != 4 {
			continue
		}
		gx := new(big.Int).SetBytes(p.Base[1 : 1+byteLen])
		gy := new(big.Int).SetBytes(p.Base[1+byteLen:])
		wantA := new(big.Int).Sub(params.P, big.NewInt(3))
		if params.P.Cmp(p.FieldID.Prime) == 0 && wantA.Cmp(a) == 0 && params.B.Cmp(b) == 0 &&
			params.Gx.Cmp(gx) == 0 && params.Gy.Cmp(gy) == 0 && params.N.Cmp(p.Order) == 0 {
			return nc, nil
		}
	}
	return namedCurve{}, &UnsupportedKeyError{"elliptic curve with explicit parameters (not P-224, P-256, P-384 or P-521)"}
}

// keyMatchesCertificate reports whether key is the private key of cert,
// as OpenSSL's X509_check_private_key decides: the public keys are equal.
func keyMatchesCertificate(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}
