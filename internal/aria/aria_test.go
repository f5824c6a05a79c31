package aria

import (
	"testing"

	"github.com/pqssl/pqssl/internal/blocktest"
)

// TestRFC5794 checks the test vectors of RFC 5794 appendix A.
func TestRFC5794(t *testing.T) {
	const plain = "00112233445566778899aabbccddeeff"
	blocktest.Check(t, NewCipher, []blocktest.Vector{
		{Key: "000102030405060708090a0b0c0d0e0f", Plain: plain, Cipher: "d718fbd6ab644c739da95f3be6451778"},
		{Key: "000102030405060708090a0b0c0d0e0f1011121314151617", Plain: plain, Cipher: "26449c1805dbe7aa25a468ce263a9e79"},
		{Key: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", Plain: plain, Cipher: "f92bd7c79fb72e2f2b8f80c1972d24fc"},
	})
}

func TestSBoxes(t *testing.T) {
	// Spot checks of the computed tables against RFC 5794 section 2.4.2.
	if sb1[0] != 0x63 || sb1[1] != 0x7c || sb1[0xff] != 0x16 {
		t.Errorf("SB1 wrong: %x %x %x", sb1[0], sb1[1], sb1[0xff])
	}
	if sb3[0] != 0x52 || sb4[0] != 0x30 {
		t.Errorf("SB3/SB4 wrong: %x %x", sb3[0], sb4[0])
	}
}

func TestKeySize(t *testing.T) {
	blocktest.CheckKeySizes(t, NewCipher, 0, 8, 15, 17, 33)
}

// TestOpenSSLVectors checks ECB blocks that "openssl enc -aria-*-ecb -nopad"
// (OpenSSL 3.0) produced for random keys and plaintexts.
func TestOpenSSLVectors(t *testing.T) {
	blocktest.Check(t, NewCipher, []blocktest.Vector{
		{Key: "735eb2c542e9599e2c8bc2fc70703143", Plain: "973b24548508849d1e4a74940b7575615ff39e974c6032ea2d78d392be8cbf16", Cipher: "3d62938796c7681eac6c9218b52944ffcb56a68b1cfea5f29846c1ff274e49a1"},
		{Key: "b207453e9a579298cac81fbdbad7ce8b9a6d78ff9e680cd9", Plain: "80601810346507c0d914ff0bfe2bb7d999d4052c75f552e1d1385458d3e6188a", Cipher: "3e1b3b6680068b843b0d4e896b10925e36ed589ee4233a46b571cab302c7746c"},
		{Key: "0fc266815fd994c5550fdfeb6b477c72b69cad2ad710a1aeb34bddb9138eb0a7", Plain: "4a1e5e9f6b6b293589d1b52a465f478f58db4fc3354f0659f566d7bb8dda480c", Cipher: "97af5b886a8ff18a9765a81e7a397d8d8fc288df587603cda20882017faab2f7"},
	})
}
