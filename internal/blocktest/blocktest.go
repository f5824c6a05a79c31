// Package blocktest checks block cipher implementations against known
// answers, for the ciphers pqssl implements itself to decrypt client keys.
package blocktest

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"testing"
)

// A Vector is a known answer, in hex. Plain and Cipher may span several
// blocks, encrypted one by one (ECB), as "openssl enc -*-ecb -nopad" writes
// them.
type Vector struct {
	Key, Plain, Cipher string
}

// Check encrypts and decrypts every vector with the cipher newCipher makes
// for its key.
func Check(t *testing.T, newCipher func(key []byte) (cipher.Block, error), vectors []Vector) {
	t.Helper()
	for _, v := range vectors {
		c, err := newCipher(Unhex(t, v.Key))
		if err != nil {
			t.Fatalf("key %s: %v", v.Key, err)
		}
		plain, want := Unhex(t, v.Plain), Unhex(t, v.Cipher)
		if len(plain) != len(want) || len(plain)%c.BlockSize() != 0 {
			t.Fatalf("key %s: vector lengths %d and %d do not fit blocks of %d", v.Key, len(plain), len(want), c.BlockSize())
		}
		got := make([]byte, len(plain))
		for i := 0; i < len(plain); i += c.BlockSize() {
			c.Encrypt(got[i:], plain[i:])
		}
		if !bytes.Equal(got, want) {
			t.Errorf("key %s: Encrypt = %x, want %x", v.Key, got, want)
		}
		for i := 0; i < len(got); i += c.BlockSize() {
			c.Decrypt(got[i:], got[i:])
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("key %s: Decrypt = %x, want %x", v.Key, got, plain)
		}
	}
}

// CheckKeySizes asserts that newCipher refuses keys of the given lengths.
func CheckKeySizes(t *testing.T, newCipher func(key []byte) (cipher.Block, error), sizes ...int) {
	t.Helper()
	for _, n := range sizes {
		if _, err := newCipher(make([]byte, n)); err == nil {
			t.Errorf("NewCipher accepted a %d-byte key", n)
		}
	}
}

// Unhex decodes s or fails the test.
func Unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
