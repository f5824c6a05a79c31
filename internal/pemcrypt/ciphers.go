// Package pemcrypt decrypts the encrypted private-key formats that OpenSSL
// writes: legacy PEM encryption (Proc-Type/DEK-Info headers) and encrypted
// PKCS#8 (PBES2 with PBKDF2 or scrypt, PBES1, and the PKCS#12 PBE schemes).
//
// It returns the decrypted DER; parsing the key is the caller's business.
// Errors never contain the password or key material.
package pemcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"errors"
	"fmt"

	"golang.org/x/crypto/blowfish"
	"golang.org/x/crypto/cast5"
	"golang.org/x/crypto/chacha20"

	"github.com/pqssl/pqssl/internal/aria"
	"github.com/pqssl/pqssl/internal/camellia"
	"github.com/pqssl/pqssl/internal/sm4"
)

// ErrBadDecrypt reports that decryption produced garbage: almost always a
// wrong password, else a corrupt file. OpenSSL calls this "bad decrypt".
var ErrBadDecrypt = errors.New("bad decrypt")

// UnsupportedError reports an encryption scheme, cipher or key-derivation
// function that this package does not implement.
type UnsupportedError struct {
	// What names the unsupported algorithm, e.g. "cipher RC2-CBC" or
	// "PBES1 algorithm 1.2.840.113549.1.12.1.1".
	What string
}

func (e *UnsupportedError) Error() string { return "unsupported " + e.What }

// FormatError reports an encrypted key whose structure is malformed.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return "malformed encrypted key: " + e.Msg }

type mode int

const (
	modeCBC mode = iota
	modeCFB      // full-block feedback
	modeCFB1
	modeCFB8
	modeOFB
	modeCTR
	modeStream // a stream cipher: ChaCha20
)

// cipherSpec describes one cipher as OpenSSL uses it for key encryption.
type cipherSpec struct {
	name     string // OpenSSL's name, as written in DEK-Info
	keyLen   int
	ivLen    int
	mode     mode
	newBlock func(key []byte) (cipher.Block, error)
	// legacy marks ciphers that OpenSSL 3 (and so libpq) only has in its
	// legacy provider; they are supported here all the same.
	legacy bool
}

func newTripleDES(key []byte) (cipher.Block, error) {
	if len(key) == 16 {
		// Two-key triple DES (DES-EDE): K1, K2, K1.
		k := make([]byte, 24)
		copy(k, key)
		copy(k[16:], key[:8])
		return des.NewTripleDESCipher(k)
	}
	return des.NewTripleDESCipher(key)
}

func newBlowfish(key []byte) (cipher.Block, error) { return blowfish.NewCipher(key) }
func newCAST5(key []byte) (cipher.Block, error)    { return cast5.NewCipher(key) }

// ciphers lists every cipher by its OpenSSL name.
var ciphers = map[string]*cipherSpec{}

func init() {
	add := func(name string, keyLen, ivLen int, m mode, nb func([]byte) (cipher.Block, error), legacy bool) {
		ciphers[name] = &cipherSpec{name, keyLen, ivLen, m, nb, legacy}
	}
	modes := []struct {
		suffix string
		m      mode
	}{{"CBC", modeCBC}, {"CFB", modeCFB}, {"CFB1", modeCFB1}, {"CFB8", modeCFB8}, {"OFB", modeOFB}, {"CTR", modeCTR}}
	for _, fam := range []struct {
		prefix   string
		newBlock func([]byte) (cipher.Block, error)
	}{{"AES", aes.NewCipher}, {"ARIA", aria.NewCipher}, {"CAMELLIA", camellia.NewCipher}} {
		for _, bits := range []int{128, 192, 256} {
			for _, m := range modes {
				add(fmt.Sprintf("%s-%d-%s", fam.prefix, bits, m.suffix), bits/8, 16, m.m, fam.newBlock, false)
			}
		}
	}
	for _, m := range []struct {
		suffix string
		m      mode
	}{{"CBC", modeCBC}, {"CFB", modeCFB}, {"OFB", modeOFB}, {"CTR", modeCTR}} {
		add("SM4-"+m.suffix, 16, 16, m.m, sm4.NewCipher, false)
	}
	add("CHACHA20", 32, 16, modeStream, nil, false)
	for _, m := range []struct {
		suffix string
		m      mode
	}{{"CBC", modeCBC}, {"CFB", modeCFB}, {"CFB1", modeCFB1}, {"CFB8", modeCFB8}, {"OFB", modeOFB}} {
		add("DES-EDE3-"+m.suffix, 24, 8, m.m, newTripleDES, false)
		add("DES-"+m.suffix, 8, 8, m.m, des.NewCipher, true)
	}
	for _, m := range []struct {
		suffix string
		m      mode
	}{{"CBC", modeCBC}, {"CFB", modeCFB}, {"OFB", modeOFB}} {
		add("DES-EDE-"+m.suffix, 16, 8, m.m, newTripleDES, false)
		add("BF-"+m.suffix, 16, 8, m.m, newBlowfish, true)
		add("CAST5-"+m.suffix, 16, 8, m.m, newCAST5, true)
	}
}

// cipherAliases are the other names OpenSSL's EVP_get_cipherbyname accepts
// for the ciphers above (lookups are case-insensitive).
var cipherAliases = map[string]string{
	"AES128": "AES-128-CBC", "AES192": "AES-192-CBC", "AES256": "AES-256-CBC",
	"ARIA128": "ARIA-128-CBC", "ARIA192": "ARIA-192-CBC", "ARIA256": "ARIA-256-CBC",
	"CAMELLIA128": "CAMELLIA-128-CBC", "CAMELLIA192": "CAMELLIA-192-CBC", "CAMELLIA256": "CAMELLIA-256-CBC",
	"SM4": "SM4-CBC", "DES3": "DES-EDE3-CBC", "DES": "DES-CBC", "BF": "BF-CBC", "BLOWFISH": "BF-CBC",
	"CAST": "CAST5-CBC", "CAST-CBC": "CAST5-CBC",
}

// decrypt decrypts data with the cipher. For CBC the PKCS#7 padding is
// checked and removed; a bad padding is ErrBadDecrypt, as in OpenSSL.
func (c *cipherSpec) decrypt(key, iv, data []byte) ([]byte, error) {
	if len(key) != c.keyLen {
		return nil, &FormatError{fmt.Sprintf("%s needs a %d-byte key", c.name, c.keyLen)}
	}
	if len(iv) != c.ivLen {
		return nil, &FormatError{fmt.Sprintf("%s needs a %d-byte IV, have %d", c.name, c.ivLen, len(iv))}
	}
	out := make([]byte, len(data))
	if c.mode == modeStream {
		// OpenSSL's ChaCha20 IV is a 32-bit little-endian block counter
		// followed by the 96-bit nonce.
		s, err := chacha20.NewUnauthenticatedCipher(key, iv[4:])
		if err != nil {
			return nil, err
		}
		s.SetCounter(uint32(iv[0]) | uint32(iv[1])<<8 | uint32(iv[2])<<16 | uint32(iv[3])<<24)
		s.XORKeyStream(out, data)
		return out, nil
	}
	b, err := c.newBlock(key)
	if err != nil {
		return nil, err
	}
	bs := b.BlockSize()
	switch c.mode {
	case modeCBC:
		if len(data) == 0 || len(data)%bs != 0 {
			return nil, ErrBadDecrypt
		}
		cipher.NewCBCDecrypter(b, iv).CryptBlocks(out, data)
		return unpad(out, bs)
	case modeCFB:
		cfbDecrypt(b, iv, out, data, bs*8)
	case modeCFB8:
		cfbDecrypt(b, iv, out, data, 8)
	case modeCFB1:
		cfbDecrypt(b, iv, out, data, 1)
	case modeOFB:
		ofb(b, iv, out, data)
	case modeCTR:
		cipher.NewCTR(b, iv).XORKeyStream(out, data)
	}
	return out, nil
}

func unpad(b []byte, bs int) ([]byte, error) {
	n := int(b[len(b)-1])
	if n == 0 || n > bs {
		return nil, ErrBadDecrypt
	}
	for _, p := range b[len(b)-n:] {
		if int(p) != n {
			return nil, ErrBadDecrypt
		}
	}
	return b[:len(b)-n], nil
}

// cfbDecrypt decrypts in CFB mode with a segment of seg bits (1, 8 or the
// block size), the way OpenSSL's CFB1, CFB8 and CFB modes do.
func cfbDecrypt(b cipher.Block, iv, dst, src []byte, seg int) {
	bs := b.BlockSize()
	reg := make([]byte, bs)
	copy(reg, iv)
	ks := make([]byte, bs)
	switch seg {
	case 8 * bs:
		for i := 0; i < len(src); i += bs {
			b.Encrypt(ks, reg)
			end := min(i+bs, len(src))
			for j := i; j < end; j++ {
				dst[j] = src[j] ^ ks[j-i]
			}
			copy(reg, src[i:end])
		}
	case 8:
		for i, c := range src {
			b.Encrypt(ks, reg)
			dst[i] = c ^ ks[0]
			copy(reg, reg[1:])
			reg[bs-1] = c
		}
	case 1:
		for i, c := range src {
			var p byte
			for bit := 7; bit >= 0; bit-- {
				b.Encrypt(ks, reg)
				cb := (c >> uint(bit)) & 1
				p |= (cb ^ ks[0]>>7) << uint(bit)
				// Shift the register left by one bit, feeding in the
				// ciphertext bit.
				for k := 0; k < bs-1; k++ {
					reg[k] = reg[k]<<1 | reg[k+1]>>7
				}
				reg[bs-1] = reg[bs-1]<<1 | cb
			}
			dst[i] = p
		}
	}
}

func ofb(b cipher.Block, iv, dst, src []byte) {
	bs := b.BlockSize()
	ks := make([]byte, bs)
	copy(ks, iv)
	for i := 0; i < len(src); i += bs {
		b.Encrypt(ks, ks)
		end := min(i+bs, len(src))
		for j := i; j < end; j++ {
			dst[j] = src[j] ^ ks[j-i]
		}
	}
}
