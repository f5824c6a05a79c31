package sm4

import (
	"bytes"
	"testing"

	"github.com/pqssl/pqssl/internal/blocktest"
)

// TestStandardVectors checks the examples of GB/T 32907-2016 appendix A
// (also in draft-ribose-cfrg-sm4): one encryption, and the same block
// encrypted 1,000,000 times.
func TestStandardVectors(t *testing.T) {
	key := blocktest.Unhex(t, "0123456789abcdeffedcba9876543210")
	c, err := NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, BlockSize)
	c.Encrypt(got, key)
	if want := blocktest.Unhex(t, "681edf34d206965e86b3e94f536e4246"); !bytes.Equal(got, want) {
		t.Fatalf("Encrypt = %x, want %x", got, want)
	}
	c.Decrypt(got, got)
	if !bytes.Equal(got, key) {
		t.Fatalf("Decrypt = %x, want %x", got, key)
	}
	if testing.Short() {
		return
	}
	copy(got, key)
	for range 1000000 {
		c.Encrypt(got, got)
	}
	if want := blocktest.Unhex(t, "595298c7c6fd271f0402f804c33d3f66"); !bytes.Equal(got, want) {
		t.Fatalf("1e6 encryptions = %x, want %x", got, want)
	}
}

func TestKeySize(t *testing.T) {
	blocktest.CheckKeySizes(t, NewCipher, 0, 8, 15, 17, 24, 32)
}

// TestOpenSSLVectors checks ECB blocks that "openssl enc -sm4-ecb -nopad"
// (OpenSSL 3.0) produced for random keys and plaintexts.
func TestOpenSSLVectors(t *testing.T) {
	blocktest.Check(t, NewCipher, []blocktest.Vector{
		{Key: "d16ccc8a97527c20c4c26c816ffabbde", Plain: "70d3e0b1d9a89ab399f310c94379fdb4db22c4235a4abee3f670c2470d11d243", Cipher: "dc82f9bed8daf3fb1d8f28e63c7bc646a6d447bb00a2870a870b217c15e04a60"},
		{Key: "fedcba98765432100123456789abcdef", Plain: "000102030405060708090a0b0c0d0e0f", Cipher: "f766678f13f01adeac1b3ea955adb594"},
	})
}
