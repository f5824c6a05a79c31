// This file holds encrypted PKCS#8: the PBES2 (PBKDF2 or scrypt), PBES1 and
// PKCS#12 schemes, their key derivations and OpenSSL's limits on them.

package pemcrypt

import (
	"crypto/des"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"hash"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/scrypt"
)

// MaxIterations bounds the PBKDF2, PBKDF1 and PKCS#12 iteration counts. A
// file asking for more would take minutes to decrypt (600,000 rounds of
// PBKDF2-SHA256 take about 0.35 s); it is refused instead of hanging the
// connection attempt.
const MaxIterations = 10_000_000

// scryptMaxMem is the memory bound OpenSSL applies to scrypt parameters in
// PKCS#8 (SCRYPT_MAX_MEM, 32 MiB); parameters beyond it fail in OpenSSL
// too, and refusing them here keeps a hostile file from exhausting memory.
const scryptMaxMem = 32 << 20

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
)

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbes2Params struct {
	KDF pkix.AlgorithmIdentifier
	Enc pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt      []byte
	Iter      int
	KeyLength int                      `asn1:"optional"`
	PRF       pkix.AlgorithmIdentifier `asn1:"optional"`
}

type scryptParams struct {
	Salt      []byte
	N         int
	R         int
	P         int
	KeyLength int `asn1:"optional"`
}

type pbeParams struct {
	Salt []byte
	Iter int
}

// prfs maps the PBKDF2 PRF OIDs (RFC 8018 appendix B.1) to their hashes.
var prfs = map[string]struct {
	name string
	h    func() hash.Hash
}{
	"1.2.840.113549.2.7":  {"hmacWithSHA1", sha1.New},
	"1.2.840.113549.2.8":  {"hmacWithSHA224", sha256.New224},
	"1.2.840.113549.2.9":  {"hmacWithSHA256", sha256.New},
	"1.2.840.113549.2.10": {"hmacWithSHA384", sha512.New384},
	"1.2.840.113549.2.11": {"hmacWithSHA512", sha512.New},
	"1.2.840.113549.2.12": {"hmacWithSHA512-224", sha512.New512_224},
	"1.2.840.113549.2.13": {"hmacWithSHA512-256", sha512.New512_256},
	"1.2.840.113549.2.6":  {"hmacWithMD5", md5.New},
}

// pbes2Ciphers maps PBES2 encryption-scheme OIDs to cipher names. OpenSSL
// writes the CFB OID for CFB1 and CFB8 too (and encrypts with full-block
// CFB then), so those modes have no OID of their own here.
var pbes2Ciphers = map[string]string{
	"2.16.840.1.101.3.4.1.2":     "AES-128-CBC",
	"2.16.840.1.101.3.4.1.3":     "AES-128-OFB",
	"2.16.840.1.101.3.4.1.4":     "AES-128-CFB",
	"2.16.840.1.101.3.4.1.22":    "AES-192-CBC",
	"2.16.840.1.101.3.4.1.23":    "AES-192-OFB",
	"2.16.840.1.101.3.4.1.24":    "AES-192-CFB",
	"2.16.840.1.101.3.4.1.42":    "AES-256-CBC",
	"2.16.840.1.101.3.4.1.43":    "AES-256-OFB",
	"2.16.840.1.101.3.4.1.44":    "AES-256-CFB",
	"1.2.392.200011.61.1.1.1.2":  "CAMELLIA-128-CBC",
	"1.2.392.200011.61.1.1.1.3":  "CAMELLIA-192-CBC",
	"1.2.392.200011.61.1.1.1.4":  "CAMELLIA-256-CBC",
	"0.3.4401.5.3.1.9.3":         "CAMELLIA-128-OFB",
	"0.3.4401.5.3.1.9.4":         "CAMELLIA-128-CFB",
	"0.3.4401.5.3.1.9.9":         "CAMELLIA-128-CTR",
	"0.3.4401.5.3.1.9.23":        "CAMELLIA-192-OFB",
	"0.3.4401.5.3.1.9.24":        "CAMELLIA-192-CFB",
	"0.3.4401.5.3.1.9.29":        "CAMELLIA-192-CTR",
	"0.3.4401.5.3.1.9.43":        "CAMELLIA-256-OFB",
	"0.3.4401.5.3.1.9.44":        "CAMELLIA-256-CFB",
	"0.3.4401.5.3.1.9.49":        "CAMELLIA-256-CTR",
	"1.2.410.200046.1.1.2":       "ARIA-128-CBC",
	"1.2.410.200046.1.1.3":       "ARIA-128-CFB",
	"1.2.410.200046.1.1.4":       "ARIA-128-OFB",
	"1.2.410.200046.1.1.5":       "ARIA-128-CTR",
	"1.2.410.200046.1.1.7":       "ARIA-192-CBC",
	"1.2.410.200046.1.1.8":       "ARIA-192-CFB",
	"1.2.410.200046.1.1.9":       "ARIA-192-OFB",
	"1.2.410.200046.1.1.10":      "ARIA-192-CTR",
	"1.2.410.200046.1.1.12":      "ARIA-256-CBC",
	"1.2.410.200046.1.1.13":      "ARIA-256-CFB",
	"1.2.410.200046.1.1.14":      "ARIA-256-OFB",
	"1.2.410.200046.1.1.15":      "ARIA-256-CTR",
	"1.2.156.10197.1.104.2":      "SM4-CBC",
	"1.2.156.10197.1.104.3":      "SM4-OFB",
	"1.2.156.10197.1.104.4":      "SM4-CFB",
	"1.2.156.10197.1.104.7":      "SM4-CTR",
	"1.2.840.113549.3.7":         "DES-EDE3-CBC",
	"1.3.14.3.2.7":               "DES-CBC",
	"1.3.14.3.2.8":               "DES-OFB",
	"1.3.14.3.2.9":               "DES-CFB",
	"1.3.6.1.4.1.3029.1.2":       "BF-CBC",
	"1.2.840.113533.7.66.10":     "CAST5-CBC",
	"1.2.840.113549.3.2":         "RC2-CBC",
	"1.2.840.113549.3.4":         "RC4",
	"1.2.410.200004.1.4":         "SEED-CBC",
	"1.2.410.200004.1.5":         "SEED-CFB",
	"1.2.410.200004.1.6":         "SEED-OFB",
	"1.2.840.113549.1.9.16.3.18": "ChaCha20-Poly1305",
}

// pbes1Schemes maps the PBES1 (RFC 8018) and PKCS#12 (RFC 7292 appendix
// C) algorithm OIDs to OpenSSL's names for them.
var pbes1Schemes = map[string]string{
	"1.2.840.113549.1.5.1":      "pbeWithMD2AndDES-CBC",
	"1.2.840.113549.1.5.3":      "pbeWithMD5AndDES-CBC",
	"1.2.840.113549.1.5.4":      "pbeWithMD2AndRC2-CBC",
	"1.2.840.113549.1.5.6":      "pbeWithMD5AndRC2-CBC",
	"1.2.840.113549.1.5.10":     "pbeWithSHA1AndDES-CBC",
	"1.2.840.113549.1.5.11":     "pbeWithSHA1AndRC2-CBC",
	"1.2.840.113549.1.12.1.1":   "pbeWithSHAAnd128BitRC4",
	"1.2.840.113549.1.12.1.2":   "pbeWithSHAAnd40BitRC4",
	"1.2.840.113549.1.12.1.3":   "pbeWithSHAAnd3-KeyTripleDES-CBC",
	"1.2.840.113549.1.12.1.4":   "pbeWithSHAAnd2-KeyTripleDES-CBC",
	"1.2.840.113549.1.12.1.5":   "pbeWithSHAAnd128BitRC2-CBC",
	"1.2.840.113549.1.12.1.6":   "pbeWithSHAAnd40BitRC2-CBC",
	"1.2.840.113549.1.5.13":     "PBES2",
	"1.2.840.113549.1.9.16.3.9": "PWRI-KEK",
}

// IsEncryptedPKCS8 reports whether der has the shape of a PKCS#8
// EncryptedPrivateKeyInfo (rather than, say, an unencrypted PrivateKeyInfo,
// whose first field is an INTEGER).
func IsEncryptedPKCS8(der []byte) bool {
	var e encryptedPrivateKeyInfo
	rest, err := asn1.Unmarshal(der, &e)
	return err == nil && len(rest) == 0
}

// Scheme describes the encryption of a PKCS#8 EncryptedPrivateKeyInfo, in
// OpenSSL's terms: "PBES2 (PBKDF2 hmacWithSHA256, AES-256-CBC)", "PBES2
// (scrypt, AES-256-CBC)", "pbeWithSHAAnd3-KeyTripleDES-CBC". It is for
// messages and tests; it never fails (unknown parts are shown as OIDs).
func Scheme(der []byte) string {
	var e encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(der, &e); err != nil {
		return "unknown"
	}
	alg := e.Algorithm.Algorithm
	if !alg.Equal(oidPBES2) {
		if n, ok := pbes1Schemes[alg.String()]; ok {
			return n
		}
		return alg.String()
	}
	var p pbes2Params
	if _, err := asn1.Unmarshal(e.Algorithm.Parameters.FullBytes, &p); err != nil {
		return "PBES2 (malformed)"
	}
	enc := p.Enc.Algorithm.String()
	if n, ok := pbes2Ciphers[enc]; ok {
		enc = n
	}
	switch {
	case p.KDF.Algorithm.Equal(oidScrypt):
		return "PBES2 (scrypt, " + enc + ")"
	case p.KDF.Algorithm.Equal(oidPBKDF2):
		var kp pbkdf2Params
		prf := "?"
		if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err == nil {
			prf = "hmacWithSHA1"
			if len(kp.PRF.Algorithm) > 0 {
				prf = kp.PRF.Algorithm.String()
				if n, ok := prfs[prf]; ok {
					prf = n.name
				}
			}
		}
		return "PBES2 (PBKDF2 " + prf + ", " + enc + ")"
	}
	return "PBES2 (" + p.KDF.Algorithm.String() + ", " + enc + ")"
}

// DecryptPKCS8 decrypts a DER PKCS#8 EncryptedPrivateKeyInfo and returns
// the DER PrivateKeyInfo inside. A wrong password usually shows as
// ErrBadDecrypt here (CBC padding), else as DER the caller cannot parse.
func DecryptPKCS8(der, password []byte) ([]byte, error) {
	var e encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &e); err != nil || len(rest) != 0 {
		return nil, &FormatError{"not a PKCS#8 EncryptedPrivateKeyInfo"}
	}
	alg := e.Algorithm.Algorithm
	if alg.Equal(oidPBES2) {
		return decryptPBES2(e.Algorithm.Parameters.FullBytes, e.Data, password)
	}
	return decryptPBES1(alg, e.Algorithm.Parameters.FullBytes, e.Data, password)
}

func decryptPBES2(params, data, password []byte) ([]byte, error) {
	var p pbes2Params
	if _, err := asn1.Unmarshal(params, &p); err != nil {
		return nil, &FormatError{"bad PBES2 parameters"}
	}
	encOID := p.Enc.Algorithm.String()
	name, ok := pbes2Ciphers[encOID]
	if !ok {
		return nil, &UnsupportedError{"PBES2 cipher " + encOID}
	}
	spec := ciphers[name]
	if spec == nil {
		return nil, &UnsupportedError{"PBES2 cipher " + name}
	}
	var iv []byte
	if _, err := asn1.Unmarshal(p.Enc.Parameters.FullBytes, &iv); err != nil {
		return nil, &FormatError{"bad " + name + " parameters"}
	}
	keyLen := spec.keyLen
	var key []byte
	switch {
	case p.KDF.Algorithm.Equal(oidPBKDF2):
		var kp pbkdf2Params
		if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil {
			return nil, &FormatError{"bad PBKDF2 parameters"}
		}
		if kp.KeyLength != 0 && kp.KeyLength != keyLen {
			return nil, &FormatError{fmt.Sprintf("PBKDF2 key length %d does not fit %s", kp.KeyLength, name)}
		}
		if kp.Iter < 1 || kp.Iter > MaxIterations {
			return nil, &FormatError{fmt.Sprintf("PBKDF2 iteration count %d out of range (1 to %d)", kp.Iter, MaxIterations)}
		}
		h := sha1.New
		if len(kp.PRF.Algorithm) > 0 {
			prf, ok := prfs[kp.PRF.Algorithm.String()]
			if !ok {
				return nil, &UnsupportedError{"PBKDF2 PRF " + kp.PRF.Algorithm.String()}
			}
			h = prf.h
		}
		var err error
		if key, err = pbkdf2.Key(h, string(password), kp.Salt, kp.Iter, keyLen); err != nil {
			return nil, &FormatError{"PBKDF2: " + err.Error()}
		}
	case p.KDF.Algorithm.Equal(oidScrypt):
		var sp scryptParams
		if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &sp); err != nil {
			return nil, &FormatError{"bad scrypt parameters"}
		}
		if sp.KeyLength != 0 && sp.KeyLength != keyLen {
			return nil, &FormatError{fmt.Sprintf("scrypt key length %d does not fit %s", sp.KeyLength, name)}
		}
		if err := checkScrypt(sp.N, sp.R, sp.P); err != nil {
			return nil, err
		}
		var err error
		if key, err = scrypt.Key(password, sp.Salt, sp.N, sp.R, sp.P, keyLen); err != nil {
			return nil, &FormatError{"scrypt: " + err.Error()}
		}
	default:
		return nil, &UnsupportedError{"PBES2 key derivation function " + p.KDF.Algorithm.String()}
	}
	return spec.decrypt(key, iv, data)
}

// checkScrypt applies OpenSSL's limits: N a power of two above 1, and the
// memory needed (128*r*(N+2) + 128*r*p bytes) within 32 MiB.
func checkScrypt(n, r, p int) error {
	if n < 2 || n&(n-1) != 0 || r < 1 || p < 1 || r > 1<<20 || p > 1<<20 {
		return &FormatError{fmt.Sprintf("bad scrypt parameters N=%d r=%d p=%d", n, r, p)}
	}
	hi, mem := bits.Mul64(128*uint64(r), uint64(n)+2)
	blen := 128 * uint64(r) * uint64(p)
	if hi != 0 || mem+blen > scryptMaxMem {
		return &FormatError{fmt.Sprintf("scrypt parameters N=%d r=%d p=%d need more than %d MiB", n, r, p, scryptMaxMem>>20)}
	}
	return nil
}

func decryptPBES1(alg asn1.ObjectIdentifier, params, data, password []byte) ([]byte, error) {
	name, known := pbes1Schemes[alg.String()]
	if !known {
		return nil, &UnsupportedError{"encryption algorithm " + alg.String()}
	}
	var pp pbeParams
	if _, err := asn1.Unmarshal(params, &pp); err != nil {
		return nil, &FormatError{"bad " + name + " parameters"}
	}
	if pp.Iter < 1 || pp.Iter > MaxIterations {
		return nil, &FormatError{fmt.Sprintf("iteration count %d out of range (1 to %d)", pp.Iter, MaxIterations)}
	}
	switch name {
	case "pbeWithMD5AndDES-CBC", "pbeWithSHA1AndDES-CBC":
		// PBKDF1 (RFC 8018 section 5.1): T = H^c(P || S); key = T[0:8],
		// IV = T[8:16].
		h := md5.New
		if name == "pbeWithSHA1AndDES-CBC" {
			h = sha1.New
		}
		if len(pp.Salt) != 8 {
			return nil, &FormatError{name + " needs an 8-byte salt"}
		}
		d := h()
		d.Write(password)
		d.Write(pp.Salt)
		t := d.Sum(nil)
		for i := 1; i < pp.Iter; i++ {
			d.Reset()
			d.Write(t)
			t = d.Sum(t[:0])
		}
		return ciphers["DES-CBC"].decrypt(t[:8], t[8:16], data)
	case "pbeWithSHAAnd3-KeyTripleDES-CBC", "pbeWithSHAAnd2-KeyTripleDES-CBC":
		keyLen := 24
		if name == "pbeWithSHAAnd2-KeyTripleDES-CBC" {
			keyLen = 16
		}
		pass := bmpPassword(password)
		key := pkcs12KDF(pass, pp.Salt, pp.Iter, 1, keyLen)
		iv := pkcs12KDF(pass, pp.Salt, pp.Iter, 2, des.BlockSize)
		spec := &cipherSpec{name: name, keyLen: keyLen, ivLen: 8, mode: modeCBC, newBlock: newTripleDES}
		return spec.decrypt(key, iv, data)
	}
	return nil, &UnsupportedError{"encryption scheme " + name}
}

// bmpPassword converts a password to the big-endian UTF-16 string with a
// terminating NUL that PKCS#12 key derivation takes. OpenSSL 3 reads the
// password as UTF-8 and falls back to one byte per character when it is
// not valid UTF-8.
func bmpPassword(password []byte) []byte {
	var units []uint16
	if utf8.Valid(password) {
		units = utf16.Encode([]rune(string(password)))
	} else {
		for _, b := range password {
			units = append(units, uint16(b))
		}
	}
	out := make([]byte, 0, 2*len(units)+2)
	for _, u := range units {
		out = append(out, byte(u>>8), byte(u))
	}
	return append(out, 0, 0)
}

// pkcs12KDF is the key derivation of RFC 7292 appendix B.2 with SHA-1
// (u = 20, v = 64).
func pkcs12KDF(pass, salt []byte, iter int, id byte, n int) []byte {
	const u, v = 20, 64
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	fill := func(src []byte) []byte {
		if len(src) == 0 {
			return nil
		}
		out := make([]byte, v*((len(src)+v-1)/v))
		for i := range out {
			out[i] = src[i%len(src)]
		}
		return out
	}
	in := append(fill(salt), fill(pass)...)
	var out []byte
	for len(out) < n {
		h := sha1.New()
		h.Write(d)
		h.Write(in)
		a := h.Sum(nil)
		for i := 1; i < iter; i++ {
			h.Reset()
			h.Write(a)
			a = h.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= n {
			break
		}
		// I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes.
		b := make([]byte, v)
		for i := range b {
			b[i] = a[i%u]
		}
		for j := 0; j < len(in); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				s := int(in[j+k]) + int(b[k]) + carry
				in[j+k] = byte(s)
				carry = s >> 8
			}
		}
	}
	return out[:n]
}
