// Package aria implements the ARIA block cipher (RFC 5794).
//
// It exists so that private keys encrypted with ARIA (which OpenSSL offers
// for legacy PEM and PKCS#8 encryption) can be decrypted without cgo. It
// makes no attempt at constant-time table lookups: it is used only to
// decrypt a local key file with a password the caller already holds.
package aria

import (
	"crypto/cipher"
	"strconv"
)

// BlockSize is the ARIA block size in bytes.
const BlockSize = 16

// KeySizeError is returned for a key that is not 16, 24 or 32 bytes long.
type KeySizeError int

func (k KeySizeError) Error() string {
	return "aria: invalid key size " + strconv.Itoa(int(k))
}

type block [16]byte

type ariaCipher struct {
	rounds int
	enc    [17]block
	dec    [17]block
}

// NewCipher returns an ARIA cipher.Block for a 128-, 192- or 256-bit key.
func NewCipher(key []byte) (cipher.Block, error) {
	c := new(ariaCipher)
	switch len(key) {
	case 16:
		c.rounds = 12
	case 24:
		c.rounds = 14
	case 32:
		c.rounds = 16
	default:
		return nil, KeySizeError(len(key))
	}
	c.expandKey(key)
	return c, nil
}

func (c *ariaCipher) BlockSize() int { return BlockSize }

// sb2 is the S-box SB2 of RFC 5794 section 2.4.2. SB1 is the AES S-box,
// SB3 and SB4 the inverses of SB1 and SB2; all three are computed in init.
var sb2 = [256]byte{
	0xe2, 0x4e, 0x54, 0xfc, 0x94, 0xc2, 0x4a, 0xcc, 0x62, 0x0d, 0x6a, 0x46, 0x3c, 0x4d, 0x8b, 0xd1,
	0x5e, 0xfa, 0x64, 0xcb, 0xb4, 0x97, 0xbe, 0x2b, 0xbc, 0x77, 0x2e, 0x03, 0xd3, 0x19, 0x59, 0xc1,
	0x1d, 0x06, 0x41, 0x6b, 0x55, 0xf0, 0x99, 0x69, 0xea, 0x9c, 0x18, 0xae, 0x63, 0xdf, 0xe7, 0xbb,
	0x00, 0x73, 0x66, 0xfb, 0x96, 0x4c, 0x85, 0xe4, 0x3a, 0x09, 0x45, 0xaa, 0x0f, 0xee, 0x10, 0xeb,
	0x2d, 0x7f, 0xf4, 0x29, 0xac, 0xcf, 0xad, 0x91, 0x8d, 0x78, 0xc8, 0x95, 0xf9, 0x2f, 0xce, 0xcd,
	0x08, 0x7a, 0x88, 0x38, 0x5c, 0x83, 0x2a, 0x28, 0x47, 0xdb, 0xb8, 0xc7, 0x93, 0xa4, 0x12, 0x53,
	0xff, 0x87, 0x0e, 0x31, 0x36, 0x21, 0x58, 0x48, 0x01, 0x8e, 0x37, 0x74, 0x32, 0xca, 0xe9, 0xb1,
	0xb7, 0xab, 0x0c, 0xd7, 0xc4, 0x56, 0x42, 0x26, 0x07, 0x98, 0x60, 0xd9, 0xb6, 0xb9, 0x11, 0x40,
	0xec, 0x20, 0x8c, 0xbd, 0xa0, 0xc9, 0x84, 0x04, 0x49, 0x23, 0xf1, 0x4f, 0x50, 0x1f, 0x13, 0xdc,
	0xd8, 0xc0, 0x9e, 0x57, 0xe3, 0xc3, 0x7b, 0x65, 0x3b, 0x02, 0x8f, 0x3e, 0xe8, 0x25, 0x92, 0xe5,
	0x15, 0xdd, 0xfd, 0x17, 0xa9, 0xbf, 0xd4, 0x9a, 0x7e, 0xc5, 0x39, 0x67, 0xfe, 0x76, 0x9d, 0x43,
	0xa7, 0xe1, 0xd0, 0xf5, 0x68, 0xf2, 0x1b, 0x34, 0x70, 0x05, 0xa3, 0x8a, 0xd5, 0x79, 0x86, 0xa8,
	0x30, 0xc6, 0x51, 0x4b, 0x1e, 0xa6, 0x27, 0xf6, 0x35, 0xd2, 0x6e, 0x24, 0x16, 0x82, 0x5f, 0xda,
	0xe6, 0x75, 0xa2, 0xef, 0x2c, 0xb2, 0x1c, 0x9f, 0x5d, 0x6f, 0x80, 0x0a, 0x72, 0x44, 0x9b, 0x6c,
	0x90, 0x0b, 0x5b, 0x33, 0x7d, 0x5a, 0x52, 0xf3, 0x61, 0xa1, 0xf7, 0xb0, 0xd6, 0x3f, 0x7c, 0x6d,
	0xed, 0x14, 0xe0, 0xa5, 0x3d, 0x22, 0xb3, 0xf8, 0x89, 0xde, 0x71, 0x1a, 0xaf, 0xba, 0xb5, 0x81,
}

var sb1, sb3, sb4 [256]byte

func init() {
	// SB1 is the AES S-box: the multiplicative inverse in GF(2^8) modulo
	// x^8+x^4+x^3+x+1 followed by the AES affine map.
	mul := func(a, b byte) byte {
		var p byte
		for b != 0 {
			if b&1 != 0 {
				p ^= a
			}
			hi := a & 0x80
			a <<= 1
			if hi != 0 {
				a ^= 0x1b
			}
			b >>= 1
		}
		return p
	}
	for i := range 256 {
		var inv byte
		if i != 0 {
			for j := 1; j < 256; j++ {
				if mul(byte(i), byte(j)) == 1 {
					inv = byte(j)
					break
				}
			}
		}
		s := inv
		for r := 1; r <= 4; r++ {
			s ^= inv<<r | inv>>(8-r)
		}
		sb1[i] = s ^ 0x63
	}
	for i := range 256 {
		sb3[sb1[i]] = byte(i)
		sb4[sb2[i]] = byte(i)
	}
}

// Key-schedule constants of RFC 5794 section 2.2.
var ck = [3]block{
	{0x51, 0x7c, 0xc1, 0xb7, 0x27, 0x22, 0x0a, 0x94, 0xfe, 0x13, 0xab, 0xe8, 0xfa, 0x9a, 0x6e, 0xe0},
	{0x6d, 0xb1, 0x4a, 0xcc, 0x9e, 0x21, 0xc8, 0x20, 0xff, 0x28, 0xb1, 0xd5, 0xef, 0x5d, 0xe2, 0xb0},
	{0xdb, 0x92, 0x37, 0x1d, 0x21, 0x26, 0xe9, 0x70, 0x03, 0x24, 0x97, 0x75, 0x04, 0xe8, 0xc9, 0x0e},
}

// sl1 and sl2 are the two substitution layers.
func sl1(x block) block {
	for i := 0; i < 16; i += 4 {
		x[i], x[i+1], x[i+2], x[i+3] = sb1[x[i]], sb2[x[i+1]], sb3[x[i+2]], sb4[x[i+3]]
	}
	return x
}

func sl2(x block) block {
	for i := 0; i < 16; i += 4 {
		x[i], x[i+1], x[i+2], x[i+3] = sb3[x[i]], sb4[x[i+1]], sb1[x[i+2]], sb2[x[i+3]]
	}
	return x
}

// diffuse is the diffusion layer A, an involution.
func diffuse(x block) block {
	return block{
		x[3] ^ x[4] ^ x[6] ^ x[8] ^ x[9] ^ x[13] ^ x[14],
		x[2] ^ x[5] ^ x[7] ^ x[8] ^ x[9] ^ x[12] ^ x[15],
		x[1] ^ x[4] ^ x[6] ^ x[10] ^ x[11] ^ x[12] ^ x[15],
		x[0] ^ x[5] ^ x[7] ^ x[10] ^ x[11] ^ x[13] ^ x[14],
		x[0] ^ x[2] ^ x[5] ^ x[8] ^ x[11] ^ x[14] ^ x[15],
		x[1] ^ x[3] ^ x[4] ^ x[9] ^ x[10] ^ x[14] ^ x[15],
		x[0] ^ x[2] ^ x[7] ^ x[9] ^ x[10] ^ x[12] ^ x[13],
		x[1] ^ x[3] ^ x[6] ^ x[8] ^ x[11] ^ x[12] ^ x[13],
		x[0] ^ x[1] ^ x[4] ^ x[7] ^ x[10] ^ x[13] ^ x[15],
		x[0] ^ x[1] ^ x[5] ^ x[6] ^ x[11] ^ x[12] ^ x[14],
		x[2] ^ x[3] ^ x[5] ^ x[6] ^ x[8] ^ x[13] ^ x[15],
		x[2] ^ x[3] ^ x[4] ^ x[7] ^ x[9] ^ x[12] ^ x[14],
		x[1] ^ x[2] ^ x[6] ^ x[7] ^ x[9] ^ x[11] ^ x[12],
		x[0] ^ x[3] ^ x[6] ^ x[7] ^ x[8] ^ x[10] ^ x[13],
		x[0] ^ x[3] ^ x[4] ^ x[5] ^ x[9] ^ x[11] ^ x[14],
		x[1] ^ x[2] ^ x[4] ^ x[5] ^ x[8] ^ x[10] ^ x[15],
	}
}

func xor(a, b block) block {
	for i := range a {
		a[i] ^= b[i]
	}
	return a
}

func fo(d, rk block) block { return diffuse(sl1(xor(d, rk))) }
func fe(d, rk block) block { return diffuse(sl2(xor(d, rk))) }

// rotr rotates a 128-bit block right by n bits.
func rotr(x block, n int) block {
	var out block
	byteShift, bitShift := n/8, uint(n%8)
	for i := range 16 {
		hi := x[(i-byteShift+16)%16]
		lo := x[(i-byteShift-1+32)%16]
		if bitShift == 0 {
			out[i] = hi
		} else {
			out[i] = hi>>bitShift | lo<<(8-bitShift)
		}
	}
	return out
}

func (c *ariaCipher) expandKey(key []byte) {
	var kl, kr block
	copy(kl[:], key)
	if len(key) > 16 {
		copy(kr[:], key[16:])
	}
	var ck1, ck2, ck3 block
	switch len(key) {
	case 16:
		ck1, ck2, ck3 = ck[0], ck[1], ck[2]
	case 24:
		ck1, ck2, ck3 = ck[1], ck[2], ck[0]
	default:
		ck1, ck2, ck3 = ck[2], ck[0], ck[1]
	}
	w0 := kl
	w1 := xor(fo(w0, ck1), kr)
	w2 := xor(fe(w1, ck2), w0)
	w3 := xor(fo(w2, ck3), w1)
	w := [4]block{w0, w1, w2, w3}
	// Right rotations by 19 and 31, then left by 61, 31 and 19 (for the
	// 17th key of a 256-bit key), each pairing W[i] with a rotated W[i+1].
	rots := [5]int{19, 31, 128 - 61, 128 - 31, 128 - 19}
	for i := 0; i <= c.rounds; i++ {
		r := rots[i/4]
		a, b := i%4, (i+1)%4
		c.enc[i] = xor(w[a], rotr(w[b], r))
	}
	c.dec[0] = c.enc[c.rounds]
	for i := 1; i < c.rounds; i++ {
		c.dec[i] = diffuse(c.enc[c.rounds-i])
	}
	c.dec[c.rounds] = c.enc[0]
}

func (c *ariaCipher) Encrypt(dst, src []byte) { c.crypt(dst, src, &c.enc) }
func (c *ariaCipher) Decrypt(dst, src []byte) { c.crypt(dst, src, &c.dec) }

func (c *ariaCipher) crypt(dst, src []byte, rk *[17]block) {
	if len(src) < BlockSize || len(dst) < BlockSize {
		panic("aria: input not full block")
	}
	var p block
	copy(p[:], src)
	for i := 0; i < c.rounds-1; i++ {
		if i%2 == 0 {
			p = fo(p, rk[i])
		} else {
			p = fe(p, rk[i])
		}
	}
	p = xor(sl2(xor(p, rk[c.rounds-1])), rk[c.rounds])
	copy(dst, p[:])
}
