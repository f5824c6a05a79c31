package pgauth

import (
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestSASLPrep(t *testing.T) {
	// Expected values follow PostgreSQL's pg_saslprep; TestSASLPrepServer
	// checks some of them against a real server.
	tests := []struct {
		name, in, want string
	}{
		{"ASCII", "pencil", "pencil"},
		{"ASCII controls untouched", "a\tb\x01", "a\tb\x01"},
		{"empty", "", ""},
		{"precomposed", "pässwörd", "pässwörd"},
		{"decomposed", "pa\u0308ssword", "pässword"},
		{"fullwidth", "ｐａｓｓ１", "pass1"},
		{"ligature", "\ufb01x", "fix"},
		{"roman numeral", "I\u2168", "IIX"},
		{"non-ASCII space", "a\u00a0b\u3000c", "a b c"},
		{"mapped to nothing", "a\u00adb\u200cc\ufeff", "abc"},
		// U+200B is both a space and mapped to nothing; the space wins.
		{"zero width space", "a\u200bb", "a b"},
		{"only mapped to nothing", "\u00ad\u200c", "\u00ad\u200c"},
		{"prohibited control", "a\u0080b", "a\u0080b"},
		{"private use", "a\ue000b", "a\ue000b"},
		// PostgreSQL checks before normalising: U+0340 is prohibited even
		// though its normal form, U+0300, is not.
		{"prohibited before normalisation", "a\u0340", "a\u0340"},
		{"unassigned in Unicode 3.2", "a\u0221é", "a\u0221é"},
		{"invalid UTF-8", "p\xffé", "p\xffé"},
		{"RandAL only", "\u05d0\u05d1", "\u05d0\u05d1"},
		{"RandAL with L", "\u05d0a\u05d1", "\u05d0a\u05d1"},
		{"RandAL not last", "\u05d01", "\u05d01"},
		{"RandAL with neutral inside", "\u05d01\u05d1", "\u05d01\u05d1"},
		{"Hangul jamo", "\u1100\u1161\u11a8", "\uac01"},
		{"supplementary starter", "\U0001d041\u0300", "\U0001d041\u0300"},
		{"blocked by backward-combining starter", "a\u0b56\u0334\u0301", "a\u0b56\u0334\u0301"},
		{"math alphanumerics", "\U0001d400\u0301", "\u00c1"},
		{"canonical reordering", "a\u0301\u0323", "\u1ea1\u0301"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := saslPrep(tt.in); got != tt.want {
				t.Errorf("saslPrep(%+q) = %+q, want %+q", tt.in, got, tt.want)
			}
		})
	}
}

// TestNormNFKC keeps the reason for nfkc: golang.org/x/text's norm.NFKC
// (at the version in go.mod) composes across a backward-combining starter,
// which UAX #15 forbids. want is the NFKC form by UAX #15, the same as
// Python's unicodedata gives, under Unicode 3.2 and its own version. When
// norm.NFKC gives want for every case, the workaround can go and saslPrep
// can call norm.NFKC; the test then fails to say so.
func TestNormNFKC(t *testing.T) {
	tests := []struct {
		name, in, want string
		xtextWrong     bool // norm.NFKC gets it wrong
	}{
		// U+0B56 has combining class 0: it is the starter U+0301 would
		// compose with, and blocks the a.
		{"backward-combining starter", "a\u0b56\u0334\u0301", "a\u0b56\u0334\u0301", true},
		{"backward-combining starter, no mark between", "a\u0b56\u0301", "a\u0b56\u0301", false},
		// Claimed wrong in earlier versions of x/text (composition looked
		// up by the low 16 bits), right at v0.34.0.
		{"supplementary starter", "\U0001d041\u0300", "\U0001d041\u0300", false},
		{"composing pair", "\u0b47\u0b56", "\u0b48", false},
		{"decomposed", "pa\u0308ssword", "p\u00e4ssword", false},
		{"compatibility", "\U0001d400\u0301", "\u00c1", false},
		{"canonical reordering", "a\u0301\u0323", "\u1ea1\u0301", false},
		{"Hangul jamo", "\u1100\u1161\u11a8", "\uac01", false},
	}
	fixed := true
	for _, tt := range tests {
		if got := nfkc(tt.in); got != tt.want {
			t.Errorf("%s: nfkc(%+q) = %+q, want %+q", tt.name, tt.in, got, tt.want)
		}
		got := norm.NFKC.String(tt.in)
		switch {
		case tt.xtextWrong && got == tt.want:
			t.Logf("%s: norm.NFKC is now right", tt.name)
		case tt.xtextWrong:
			fixed = false
			t.Logf("%s: norm.NFKC(%+q) = %+q, want %+q", tt.name, tt.in, got, tt.want)
		case got != tt.want:
			t.Errorf("%s: norm.NFKC(%+q) = %+q, want %+q: another case nfkc must handle", tt.name, tt.in, got, tt.want)
		}
	}
	if fixed {
		t.Error("norm.NFKC gets every case right: saslPrep can use it directly and nfkc can go")
	}
}
