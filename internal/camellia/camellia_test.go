package camellia

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC3713 checks the test vectors of RFC 3713 appendix A.
func TestRFC3713(t *testing.T) {
	tests := []struct{ key, plain, cipher string }{
		{"0123456789abcdeffedcba9876543210", "0123456789abcdeffedcba9876543210", "67673138549669730857065648eabe43"},
		{"0123456789abcdeffedcba98765432100011223344556677", "0123456789abcdeffedcba9876543210", "b4993401b3e996f84ee5cee7d79b09b9"},
		{"0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff", "0123456789abcdeffedcba9876543210", "9acc237dff16d76c20ef7c919e3a7509"},
	}
	for _, tt := range tests {
		c, err := NewCipher(unhex(t, tt.key))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, BlockSize)
		c.Encrypt(got, unhex(t, tt.plain))
		if want := unhex(t, tt.cipher); !bytes.Equal(got, want) {
			t.Errorf("key %s: Encrypt = %x, want %x", tt.key, got, want)
		}
		c.Decrypt(got, got)
		if want := unhex(t, tt.plain); !bytes.Equal(got, want) {
			t.Errorf("key %s: Decrypt = %x, want %x", tt.key, got, want)
		}
	}
}

func TestKeySize(t *testing.T) {
	for _, n := range []int{0, 8, 15, 17, 33} {
		if _, err := NewCipher(make([]byte, n)); err == nil {
			t.Errorf("NewCipher accepted a %d-byte key", n)
		}
	}
}

// TestOpenSSLVectors checks ECB blocks that "openssl enc -camellia-*-ecb -nopad"
// (OpenSSL 3.0) produced for random keys and plaintexts.
func TestOpenSSLVectors(t *testing.T) {
	tests := []struct{ key, plain, cipher string }{
		{"c07cd5f90968b5ef83257c8d170dabb8", "fd7cb6b15d64064e733774ba4cff686dd4a30556e7f80ee57b2cd08d15e75583", "d23e80f07f11bcd5140f5391e3de189dd5a90d60aa62fa96da3a782065b1fae7"},
		{"9e9da6a3cf5ffe6d8827fe0e62ec6cfb9a10e9db073f1ed2", "fde13a5c9535416dd8fc18667406aab1560bfcf54e3e51948a69d1037a4bcd47", "1aa4b65d903b0099a2921e03d01a0eca375255c5e745eb08bbbcfe0dae9d1ee7"},
		{"879c43d97e03218f66fd038f952bcfc7685184225942a84a949bbd9d88d1c91b", "01c3e50b730c742adf066edb7e424a157a58288140ddab293eef98807c925e48", "455b887a4e6f94970d7334360557daf3649ad0927f6dd2d4f2492080c2ddea05"},
	}
	for _, tt := range tests {
		c, err := NewCipher(unhex(t, tt.key))
		if err != nil {
			t.Fatal(err)
		}
		plain, want := unhex(t, tt.plain), unhex(t, tt.cipher)
		got := make([]byte, len(plain))
		for i := 0; i < len(plain); i += BlockSize {
			c.Encrypt(got[i:], plain[i:])
		}
		if !bytes.Equal(got, want) {
			t.Errorf("key %s: Encrypt = %x, want %x", tt.key, got, want)
		}
		for i := 0; i < len(got); i += BlockSize {
			c.Decrypt(got[i:], got[i:])
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("key %s: Decrypt = %x, want %x", tt.key, got, plain)
		}
	}
}
