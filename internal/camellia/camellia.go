// Package camellia implements the Camellia block cipher (RFC 3713).
//
// It exists so that private keys encrypted with Camellia (which OpenSSL
// offers for legacy PEM and PKCS#8 encryption) can be decrypted without cgo.
// It makes no attempt at constant-time table lookups: it is used only to
// decrypt a local key file with a password the caller already holds.
package camellia

import (
	"crypto/cipher"
	"encoding/binary"
	"math/bits"
	"strconv"
)

// BlockSize is the Camellia block size in bytes.
const BlockSize = 16

// KeySizeError is returned for a key that is not 16, 24 or 32 bytes long.
type KeySizeError int

func (k KeySizeError) Error() string {
	return "camellia: invalid key size " + strconv.Itoa(int(k))
}

type camelliaCipher struct {
	rounds int
	// Encryption subkeys. Decryption uses the same arrays in reverse.
	kw [4]uint64
	k  [24]uint64
	ke [6]uint64
}

// NewCipher returns a Camellia cipher.Block for a 128-, 192- or 256-bit key.
func NewCipher(key []byte) (cipher.Block, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, KeySizeError(len(key))
	}
	c := new(camelliaCipher)
	c.expandKey(key)
	return c, nil
}

func (c *camelliaCipher) BlockSize() int { return BlockSize }

// sbox1 is SBOX1 of RFC 3713 section 2.4.4; SBOX2..4 are derived from it.
var sbox1 = [256]byte{
	112, 130, 44, 236, 179, 39, 192, 229, 228, 133, 87, 53, 234, 12, 174, 65,
	35, 239, 107, 147, 69, 25, 165, 33, 237, 14, 79, 78, 29, 101, 146, 189,
	134, 184, 175, 143, 124, 235, 31, 206, 62, 48, 220, 95, 94, 197, 11, 26,
	166, 225, 57, 202, 213, 71, 93, 61, 217, 1, 90, 214, 81, 86, 108, 77,
	139, 13, 154, 102, 251, 204, 176, 45, 116, 18, 43, 32, 240, 177, 132, 153,
	223, 76, 203, 194, 52, 126, 118, 5, 109, 183, 169, 49, 209, 23, 4, 215,
	20, 88, 58, 97, 222, 27, 17, 28, 50, 15, 156, 22, 83, 24, 242, 34,
	254, 68, 207, 178, 195, 181, 122, 145, 36, 8, 232, 168, 96, 252, 105, 80,
	170, 208, 160, 125, 161, 137, 98, 151, 84, 91, 30, 149, 224, 255, 100, 210,
	16, 196, 0, 72, 163, 247, 117, 219, 138, 3, 230, 218, 9, 63, 221, 148,
	135, 92, 131, 2, 205, 74, 144, 51, 115, 103, 246, 243, 157, 127, 191, 226,
	82, 155, 216, 38, 200, 55, 198, 59, 129, 150, 111, 75, 19, 190, 99, 46,
	233, 121, 167, 140, 159, 110, 188, 142, 41, 245, 249, 182, 47, 253, 180, 89,
	120, 152, 6, 106, 231, 70, 113, 186, 212, 37, 171, 66, 136, 162, 141, 250,
	114, 7, 185, 85, 248, 238, 172, 10, 54, 73, 42, 104, 60, 56, 241, 164,
	64, 40, 211, 123, 187, 201, 67, 193, 21, 227, 173, 244, 119, 199, 128, 158,
}

var sbox2, sbox3, sbox4 [256]byte

func init() {
	for i := range 256 {
		s := sbox1[i]
		sbox2[i] = bits.RotateLeft8(s, 1)
		sbox3[i] = bits.RotateLeft8(s, 7)
		sbox4[i] = sbox1[bits.RotateLeft8(byte(i), 1)]
	}
}

var sigma = [6]uint64{
	0xA09E667F3BCC908B, 0xB67AE8584CAA73B2, 0xC6EF372FE94F82BE,
	0x54FF53A5F1D36F1C, 0x10E527FADE682D1D, 0xB05688C2B3E6C1FD,
}

// f is the F-function of RFC 3713 section 2.4.1.
func f(in, ke uint64) uint64 {
	x := in ^ ke
	t1 := sbox1[byte(x>>56)]
	t2 := sbox2[byte(x>>48)]
	t3 := sbox3[byte(x>>40)]
	t4 := sbox4[byte(x>>32)]
	t5 := sbox2[byte(x>>24)]
	t6 := sbox3[byte(x>>16)]
	t7 := sbox4[byte(x>>8)]
	t8 := sbox1[byte(x)]
	y1 := t1 ^ t3 ^ t4 ^ t6 ^ t7 ^ t8
	y2 := t1 ^ t2 ^ t4 ^ t5 ^ t7 ^ t8
	y3 := t1 ^ t2 ^ t3 ^ t5 ^ t6 ^ t8
	y4 := t2 ^ t3 ^ t4 ^ t5 ^ t6 ^ t7
	y5 := t1 ^ t2 ^ t6 ^ t7 ^ t8
	y6 := t2 ^ t3 ^ t5 ^ t7 ^ t8
	y7 := t3 ^ t4 ^ t5 ^ t6 ^ t8
	y8 := t1 ^ t4 ^ t5 ^ t6 ^ t7
	return uint64(y1)<<56 | uint64(y2)<<48 | uint64(y3)<<40 | uint64(y4)<<32 |
		uint64(y5)<<24 | uint64(y6)<<16 | uint64(y7)<<8 | uint64(y8)
}

func fl(in, ke uint64) uint64 {
	x1, x2 := uint32(in>>32), uint32(in)
	k1, k2 := uint32(ke>>32), uint32(ke)
	x2 ^= bits.RotateLeft32(x1&k1, 1)
	x1 ^= x2 | k2
	return uint64(x1)<<32 | uint64(x2)
}

func flinv(in, ke uint64) uint64 {
	y1, y2 := uint32(in>>32), uint32(in)
	k1, k2 := uint32(ke>>32), uint32(ke)
	y1 ^= y2 | k2
	y2 ^= bits.RotateLeft32(y1&k1, 1)
	return uint64(y1)<<32 | uint64(y2)
}

// u128 is a 128-bit value as (high, low) halves.
type u128 struct{ hi, lo uint64 }

func (x u128) rotl(n uint) u128 {
	n %= 128
	if n >= 64 {
		x = u128{x.lo, x.hi}
		n -= 64
	}
	if n == 0 {
		return x
	}
	return u128{x.hi<<n | x.lo>>(64-n), x.lo<<n | x.hi>>(64-n)}
}

func (c *camelliaCipher) expandKey(key []byte) {
	var kl, kr u128
	kl.hi = binary.BigEndian.Uint64(key[0:])
	kl.lo = binary.BigEndian.Uint64(key[8:])
	switch len(key) {
	case 24:
		kr.hi = binary.BigEndian.Uint64(key[16:])
		kr.lo = ^kr.hi
	case 32:
		kr.hi = binary.BigEndian.Uint64(key[16:])
		kr.lo = binary.BigEndian.Uint64(key[24:])
	}

	d1, d2 := kl.hi^kr.hi, kl.lo^kr.lo
	d2 ^= f(d1, sigma[0])
	d1 ^= f(d2, sigma[1])
	d1 ^= kl.hi
	d2 ^= kl.lo
	d2 ^= f(d1, sigma[2])
	d1 ^= f(d2, sigma[3])
	ka := u128{d1, d2}
	d1, d2 = ka.hi^kr.hi, ka.lo^kr.lo
	d2 ^= f(d1, sigma[4])
	d1 ^= f(d2, sigma[5])
	kb := u128{d1, d2}

	// The subkey tables of RFC 3713 section 2.2, as (source, rotation)
	// pairs, each yielding both 64-bit halves.
	type src struct {
		v   *u128
		rot uint
	}
	var kws, ks, kes []src
	if len(key) == 16 {
		c.rounds = 18
		kws = []src{{&kl, 0}, {&ka, 111}}
		ks = []src{{&ka, 0}, {&kl, 15}, {&ka, 15}, {&kl, 45}, {nil, 0}, {&ka, 60}, {&kl, 94}, {&ka, 94}, {&kl, 111}}
		kes = []src{{&ka, 30}, {&kl, 77}}
	} else {
		c.rounds = 24
		kws = []src{{&kl, 0}, {&kb, 111}}
		ks = []src{{&kb, 0}, {&kr, 15}, {&ka, 15}, {&kb, 30}, {&kl, 45}, {&ka, 45}, {&kr, 60}, {&kb, 60}, {&kl, 77}, {&kr, 94}, {&ka, 94}, {&kl, 111}}
		kes = []src{{&kr, 30}, {&kl, 60}, {&ka, 77}}
	}
	for i, s := range kws {
		v := s.v.rotl(s.rot)
		c.kw[2*i], c.kw[2*i+1] = v.hi, v.lo
	}
	for i, s := range ks {
		if s.v == nil {
			// k9 and k10 of a 128-bit key come from different values.
			c.k[2*i] = ka.rotl(45).hi
			c.k[2*i+1] = kl.rotl(60).lo
			continue
		}
		v := s.v.rotl(s.rot)
		c.k[2*i], c.k[2*i+1] = v.hi, v.lo
	}
	for i, s := range kes {
		v := s.v.rotl(s.rot)
		c.ke[2*i], c.ke[2*i+1] = v.hi, v.lo
	}
}

func (c *camelliaCipher) Encrypt(dst, src []byte) {
	c.crypt(dst, src, false)
}

func (c *camelliaCipher) Decrypt(dst, src []byte) {
	c.crypt(dst, src, true)
}

func (c *camelliaCipher) crypt(dst, src []byte, decrypt bool) {
	if len(src) < BlockSize || len(dst) < BlockSize {
		panic("camellia: input not full block")
	}
	n := c.rounds
	nke := n/6*2 - 2
	kw := func(i int) uint64 {
		if decrypt {
			return c.kw[(i+2)%4]
		}
		return c.kw[i]
	}
	k := func(i int) uint64 {
		if decrypt {
			return c.k[n-1-i]
		}
		return c.k[i]
	}
	ke := func(i int) uint64 {
		if decrypt {
			return c.ke[nke-1-i]
		}
		return c.ke[i]
	}
	d1 := binary.BigEndian.Uint64(src[0:]) ^ kw(0)
	d2 := binary.BigEndian.Uint64(src[8:]) ^ kw(1)
	j := 0
	for i := 0; i < n; i += 2 {
		d2 ^= f(d1, k(i))
		d1 ^= f(d2, k(i+1))
		if (i+2)%6 == 0 && i+2 < n {
			d1 = fl(d1, ke(j))
			d2 = flinv(d2, ke(j+1))
			j += 2
		}
	}
	d2 ^= kw(2)
	d1 ^= kw(3)
	binary.BigEndian.PutUint64(dst[0:], d2)
	binary.BigEndian.PutUint64(dst[8:], d1)
}
