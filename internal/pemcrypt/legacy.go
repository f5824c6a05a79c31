// This file holds legacy PEM encryption (Proc-Type and DEK-Info headers),
// decrypted with OpenSSL's EVP_BytesToKey key derivation.

package pemcrypt

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/pem"
	"strings"
)

// IsEncryptedPEMBlock reports whether b carries legacy PEM encryption
// ("Proc-Type: 4,ENCRYPTED").
func IsEncryptedPEMBlock(b *pem.Block) bool {
	return strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED")
}

// PEMCipher returns the cipher name of a legacy-encrypted PEM block, as
// given in its DEK-Info header ("" when there is none).
func PEMCipher(b *pem.Block) string {
	name, _, _ := strings.Cut(b.Headers["DEK-Info"], ",")
	return strings.TrimSpace(name)
}

// DecryptPEMBlock decrypts a block with legacy PEM encryption, the way
// OpenSSL's PEM_do_header does: the key is EVP_BytesToKey with MD5, one
// iteration, and the first 8 bytes of the IV as the salt. Every cipher of
// this package is accepted, including those that OpenSSL 3 keeps in its
// legacy provider.
func DecryptPEMBlock(b *pem.Block, password []byte) ([]byte, error) {
	dek, ok := b.Headers["DEK-Info"]
	if !ok {
		return nil, &FormatError{"no DEK-Info header"}
	}
	name, ivHex, ok := strings.Cut(dek, ",")
	if !ok {
		return nil, &FormatError{"DEK-Info header has no IV"}
	}
	spec := lookupCipher(strings.TrimSpace(name))
	if spec == nil {
		return nil, &UnsupportedError{"cipher " + strings.TrimSpace(name)}
	}
	iv, err := hex.DecodeString(strings.TrimSpace(ivHex))
	if err != nil || len(iv) != spec.ivLen {
		return nil, &FormatError{"bad IV in DEK-Info header"}
	}
	if len(iv) < 8 {
		return nil, &FormatError{"IV shorter than the 8-byte salt"}
	}
	key := bytesToKey(password, iv[:8], spec.keyLen)
	return spec.decrypt(key, iv, b.Bytes)
}

func lookupCipher(name string) *cipherSpec {
	name = strings.ToUpper(name)
	if alias, ok := cipherAliases[name]; ok {
		name = alias
	}
	return ciphers[name]
}

// bytesToKey is OpenSSL's EVP_BytesToKey with MD5 and one iteration:
// D_i = MD5(D_{i-1} || password || salt), concatenated.
func bytesToKey(password, salt []byte, keyLen int) []byte {
	var key, prev []byte
	for len(key) < keyLen {
		h := md5.New()
		h.Write(prev)
		h.Write(password)
		h.Write(salt)
		prev = h.Sum(nil)
		key = append(key, prev...)
	}
	return key[:keyLen]
}
