// This file holds OpenSSL's security levels: the key and signature
// strength every certificate of a chain must have.

package pqssl

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"math"
)

// securityLevel is the OpenSSL security level whose certificate rules are
// applied: minimum key strength and signature digest strength for every
// certificate of the chain. Debian and Ubuntu build OpenSSL 3 with a default
// of 2 (RHEL's DEFAULT crypto policy is equivalent), which rejects RSA keys
// below 2048 bits and SHA-1 or MD5 signatures.
const securityLevel = 2

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
