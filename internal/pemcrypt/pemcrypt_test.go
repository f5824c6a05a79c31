package pemcrypt

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"
)

const fixtures = "../../testdata/keys/fixtures/"

func readPEM(t *testing.T, name string) *pem.Block {
	t.Helper()
	b, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM", name)
	}
	return block
}

func TestBytesToKey(t *testing.T) {
	// EVP_BytesToKey(MD5, salt, "password", 1), as printed by "openssl enc
	// -aes-256-cbc -P -md md5 -S 0102030405060708 -pass pass:password".
	salt, _ := hex.DecodeString("0102030405060708")
	got := hex.EncodeToString(bytesToKey([]byte("password"), salt, 32))
	if want := "e7b0971e52ca5cc8d0539fb3412f6316f7ba2e6ee293d9f3457b99436b51ce02"; got != want {
		t.Fatalf("bytesToKey = %s, want %s", got, want)
	}
}

func TestBMPPassword(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "0000"},
		{"ab", "006100620000"},
		{"pä€", "007000e420ac0000"},
		{"\U0001F600", "d83dde000000"},
		{"\xff", "00ff0000"}, // not UTF-8: one byte per character
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(bmpPassword([]byte(tt.in))); got != tt.want {
			t.Errorf("bmpPassword(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// cfbVectors were produced by "openssl enc -<cipher> -K KEY -iv IV" on the
// plaintext "pqssl cfb test!!pqssl cfb test!!".
var cfbVectors = []struct{ cipher, key, iv, ct string }{
	{"AES-128-CFB1", "000102030405060708090a0b0c0d0e0f", "0f0e0d0c0b0a09080706050403020100", "51fb7a6f5c6b7a5ecd998dede94c8a62f6f824adbf7fbcb0a5c23bb8914a74c8"},
	{"AES-128-CFB8", "000102030405060708090a0b0c0d0e0f", "0f0e0d0c0b0a09080706050403020100", "50aeb18ec6911e976e9622d712e0117626dc2da2250ee6df05efaf97b47a2735"},
	{"AES-128-CFB", "000102030405060708090a0b0c0d0e0f", "0f0e0d0c0b0a09080706050403020100", "50d88ae1d86c388e663f88b91fdab84b02210d898a1cbe4c7b11980920602f9f"},
	{"AES-128-OFB", "000102030405060708090a0b0c0d0e0f", "0f0e0d0c0b0a09080706050403020100", "50d88ae1d86c388e663f88b91fdab84b947f5e1c2b42c3a3e6245feea640516a"},
	{"AES-128-CTR", "000102030405060708090a0b0c0d0e0f", "0f0e0d0c0b0a09080706050403020100", "50d88ae1d86c388e663f88b91fdab84b37d7d7d6197e03220c92e5893a4d207e"},
	{"DES-EDE3-CFB1", "000102030405060708090a0b0c0d0e0f0001020304050607", "0f0e0d0c0b0a0908", "6d77bb341c3789ba1065880c56e496b5ef07d04933cc51f7420d030969d9a49a"},
	{"DES-EDE3-CFB8", "000102030405060708090a0b0c0d0e0f0001020304050607", "0f0e0d0c0b0a0908", "35019610e95ab197b8228f785f53e878c70394159fa81f69c5554f4556b0200d"},
	{"DES-EDE3-CFB", "000102030405060708090a0b0c0d0e0f0001020304050607", "0f0e0d0c0b0a0908", "350465b1f31da708980f1ea09d37b3101fc6ce7a7e7ae86ea5ce9b92beb92206"},
}

// TestStreamModes checks CFB1, CFB8, full-block CFB, OFB and CTR against
// OpenSSL, including a final partial block.
func TestStreamModes(t *testing.T) {
	plain := []byte("pqssl cfb test!!pqssl cfb test!!")
	for _, tt := range cfbVectors {
		key, _ := hex.DecodeString(tt.key)
		iv, _ := hex.DecodeString(tt.iv)
		ct, _ := hex.DecodeString(tt.ct)
		for _, n := range []int{len(ct), len(ct) - 5} {
			got, err := ciphers[tt.cipher].decrypt(key, iv, ct[:n])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain[:n]) {
				t.Errorf("%s (%d bytes): decrypt = %q", tt.cipher, n, got)
			}
		}
	}
}

func TestUnsupported(t *testing.T) {
	block := readPEM(t, "rsa.legacy.seed-cbc.pem")
	_, err := DecryptPEMBlock(block, []byte("x"))
	var u *UnsupportedError
	if !errors.As(err, &u) || u.What != "cipher SEED-CBC" {
		t.Fatalf("err = %v, want unsupported cipher SEED-CBC", err)
	}
	block = readPEM(t, "rsa.pkcs8.PBE-SHA1-RC4-128.pem")
	if _, err := DecryptPKCS8(block.Bytes, []byte("x")); !errors.As(err, &u) || !strings.Contains(u.What, "RC4") {
		t.Fatalf("err = %v, want unsupported RC4", err)
	}
	if got := Scheme(block.Bytes); got != "pbeWithSHAAnd128BitRC4" {
		t.Errorf("Scheme = %q", got)
	}
}

// rewriteKDF re-encodes an encrypted PKCS#8 key with its KDF parameters
// changed by edit.
func rewriteKDF(t *testing.T, der []byte, edit func(kdf *pkix.AlgorithmIdentifier)) []byte {
	t.Helper()
	var e encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(der, &e); err != nil {
		t.Fatal(err)
	}
	var p pbes2Params
	if _, err := asn1.Unmarshal(e.Algorithm.Parameters.FullBytes, &p); err != nil {
		t.Fatal(err)
	}
	edit(&p.KDF)
	pb, err := asn1.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	e.Algorithm.Parameters = asn1.RawValue{FullBytes: pb}
	out, err := asn1.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCostLimits checks that absurd KDF parameters are refused at once
// instead of running for minutes or exhausting memory.
func TestCostLimits(t *testing.T) {
	pbkdf2Key := readPEM(t, "rsa.pkcs8.pbkdf2-hmacWithSHA256.aes-256-cbc.pem").Bytes
	scryptKey := readPEM(t, "rsa.pkcs8.scrypt.aes-256-cbc.pem").Bytes
	tests := []struct {
		name string
		der  []byte
	}{
		{"PBKDF2 2^31-1 iterations", rewriteKDF(t, pbkdf2Key, func(k *pkix.AlgorithmIdentifier) {
			var p pbkdf2Params
			asn1.Unmarshal(k.Parameters.FullBytes, &p)
			p.Iter = 1<<31 - 1
			b, _ := asn1.Marshal(p)
			k.Parameters = asn1.RawValue{FullBytes: b}
		})},
		{"PBKDF2 0 iterations", rewriteKDF(t, pbkdf2Key, func(k *pkix.AlgorithmIdentifier) {
			var p pbkdf2Params
			asn1.Unmarshal(k.Parameters.FullBytes, &p)
			p.Iter = 0
			b, _ := asn1.Marshal(p)
			k.Parameters = asn1.RawValue{FullBytes: b}
		})},
		{"scrypt N=2^30", rewriteKDF(t, scryptKey, func(k *pkix.AlgorithmIdentifier) {
			var p scryptParams
			asn1.Unmarshal(k.Parameters.FullBytes, &p)
			p.N = 1 << 30
			b, _ := asn1.Marshal(p)
			k.Parameters = asn1.RawValue{FullBytes: b}
		})},
		{"scrypt r=2^20 p=2^20", rewriteKDF(t, scryptKey, func(k *pkix.AlgorithmIdentifier) {
			var p scryptParams
			asn1.Unmarshal(k.Parameters.FullBytes, &p)
			p.R, p.P = 1<<20, 1<<20
			b, _ := asn1.Marshal(p)
			k.Parameters = asn1.RawValue{FullBytes: b}
		})},
		{"scrypt N not a power of two", rewriteKDF(t, scryptKey, func(k *pkix.AlgorithmIdentifier) {
			var p scryptParams
			asn1.Unmarshal(k.Parameters.FullBytes, &p)
			p.N = 1000
			b, _ := asn1.Marshal(p)
			k.Parameters = asn1.RawValue{FullBytes: b}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecryptPKCS8(tt.der, []byte("pw"))
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FormatError", err)
			}
		})
	}
}

func TestScheme(t *testing.T) {
	tests := map[string]string{
		"rsa.pkcs8.pbkdf2-hmacWithSHA512.aes-256-cbc.pem": "PBES2 (PBKDF2 hmacWithSHA512, AES-256-CBC)",
		"rsa.pkcs8.pbkdf2-hmacWithSHA1.aes-128-cbc.pem":   "PBES2 (PBKDF2 hmacWithSHA1, AES-128-CBC)",
		"rsa.pkcs8.scrypt.camellia-256-cbc.pem":           "PBES2 (scrypt, CAMELLIA-256-CBC)",
		"rsa.pkcs8.PBE-SHA1-3DES.pem":                     "pbeWithSHAAnd3-KeyTripleDES-CBC",
	}
	for file, want := range tests {
		if got := Scheme(readPEM(t, file).Bytes); got != want {
			t.Errorf("Scheme(%s) = %q, want %q", file, got, want)
		}
	}
}

func TestMalformedLegacyHeaders(t *testing.T) {
	for _, dek := range []string{"", "AES-128-CBC", "AES-128-CBC,zz", "AES-128-CBC,0011", "NOPE-CBC,00112233445566778899aabbccddeeff"} {
		b := &pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: make([]byte, 32)}
		if dek != "" {
			b.Headers["DEK-Info"] = dek
		}
		if _, err := DecryptPEMBlock(b, []byte("pw")); err == nil {
			t.Errorf("DEK-Info %q: no error", dek)
		}
	}
}
