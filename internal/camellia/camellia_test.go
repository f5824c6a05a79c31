package camellia

import (
	"testing"

	"github.com/pqssl/pqssl/internal/blocktest"
)

// TestRFC3713 checks the test vectors of RFC 3713 appendix A.
func TestRFC3713(t *testing.T) {
	blocktest.Check(t, NewCipher, []blocktest.Vector{
		{Key: "0123456789abcdeffedcba9876543210", Plain: "0123456789abcdeffedcba9876543210", Cipher: "67673138549669730857065648eabe43"},
		{Key: "0123456789abcdeffedcba98765432100011223344556677", Plain: "0123456789abcdeffedcba9876543210", Cipher: "b4993401b3e996f84ee5cee7d79b09b9"},
		{Key: "0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff", Plain: "0123456789abcdeffedcba9876543210", Cipher: "9acc237dff16d76c20ef7c919e3a7509"},
	})
}

func TestKeySize(t *testing.T) {
	blocktest.CheckKeySizes(t, NewCipher, 0, 8, 15, 17, 33)
}

// TestOpenSSLVectors checks ECB blocks that "openssl enc -camellia-*-ecb -nopad"
// (OpenSSL 3.0) produced for random keys and plaintexts.
func TestOpenSSLVectors(t *testing.T) {
	blocktest.Check(t, NewCipher, []blocktest.Vector{
		{Key: "c07cd5f90968b5ef83257c8d170dabb8", Plain: "fd7cb6b15d64064e733774ba4cff686dd4a30556e7f80ee57b2cd08d15e75583", Cipher: "d23e80f07f11bcd5140f5391e3de189dd5a90d60aa62fa96da3a782065b1fae7"},
		{Key: "9e9da6a3cf5ffe6d8827fe0e62ec6cfb9a10e9db073f1ed2", Plain: "fde13a5c9535416dd8fc18667406aab1560bfcf54e3e51948a69d1037a4bcd47", Cipher: "1aa4b65d903b0099a2921e03d01a0eca375255c5e745eb08bbbcfe0dae9d1ee7"},
		{Key: "879c43d97e03218f66fd038f952bcfc7685184225942a84a949bbd9d88d1c91b", Plain: "01c3e50b730c742adf066edb7e424a157a58288140ddab293eef98807c925e48", Cipher: "455b887a4e6f94970d7334360557daf3649ad0927f6dd2d4f2492080c2ddea05"},
	})
}
