// This file holds SASLprep (RFC 4013), applied to passwords as libpq does.

package pgauth

//go:generate go run ./internal/gentables -in testdata/rfc3454-tables.txt -out saslprep_tables.go

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// saslPrep prepares a password for SCRAM the way PostgreSQL's pg_saslprep
// does (RFC 4013 SASLprep, with PostgreSQL's own reading of it), so that the
// client derives the key the server derived when the password was set:
//
//   - a password of ASCII characters only is used as it is;
//   - non-ASCII spaces become spaces and characters "commonly mapped to
//     nothing" are removed;
//   - the result is NFKC-normalised;
//   - when the input is not valid UTF-8, or the mapped password is empty,
//     holds a prohibited or (in Unicode 3.2) unassigned character, or breaks
//     the bidirectional rules, the password is used unchanged, as libpq does.
//
// PostgreSQL checks the prohibited and bidirectional rules on the mapped
// password before normalisation, not after it as RFC 4013 says; the server
// does the same when it stores a password, so pqssl follows PostgreSQL.
//
// The tables are generated from RFC 3454 (saslprep_tables.go).
func saslPrep(pw string) string {
	ascii := true
	for i := 0; i < len(pw); i++ {
		if pw[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii || !utf8.ValidString(pw) {
		return pw
	}
	mapped := make([]rune, 0, len(pw))
	for _, r := range pw {
		switch {
		case unicode.Is(saslprepSpaces, r):
			mapped = append(mapped, ' ')
		case unicode.Is(saslprepNothing, r):
		default:
			mapped = append(mapped, r)
		}
	}
	if len(mapped) == 0 {
		return pw
	}
	randAL := false
	for _, r := range mapped {
		if unicode.Is(saslprepProhibited, r) || unicode.Is(saslprepUnassigned, r) {
			return pw
		}
		randAL = randAL || unicode.Is(saslprepRandAL, r)
	}
	if randAL {
		for _, r := range mapped {
			if unicode.Is(saslprepL, r) {
				return pw
			}
		}
		if !unicode.Is(saslprepRandAL, mapped[0]) || !unicode.Is(saslprepRandAL, mapped[len(mapped)-1]) {
			return pw
		}
	}
	return nfkc(string(mapped))
}

// nfkc returns the NFKC form of s, which must hold only characters assigned
// in Unicode 3.2 (SASLprep rejects the others first).
//
// The canonical composition is done here rather than by
// golang.org/x/text/unicode/norm's NFKC, which (as of x/text v0.34.0)
// composes a mark with a starter across a character of combining class 0
// that combines backward: for a, U+0B56, U+0334, U+0301 it returns U+00E1,
// U+0B56, U+0334, where UAX #15 (and PostgreSQL, and Python's unicodedata)
// leave the string as it is, since U+0B56 is itself the starter U+0301
// would compose with. TestNormNFKC shows the difference. The package still
// provides the compatibility decomposition and answers, for one pair at a
// time, whether and into what the pair composes.
func nfkc(s string) string {
	out := make([]rune, 0, len(s))
	starter := -1 // index in out of the last starter
	lastCCC := -1 // combining class of the last character after it, -1 if none
	for _, r := range norm.NFKD.String(s) {
		ccc := int(norm.NFD.PropertiesString(string(r)).CCC())
		// UAX #15: r is blocked from the starter when a character between
		// them has class 0 or a class at least r's.
		if starter >= 0 && (lastCCC == -1 || lastCCC < ccc) {
			if c, ok := composePair(out[starter], r); ok {
				out[starter] = c
				continue
			}
		}
		if ccc == 0 {
			starter, lastCCC = len(out), -1
		} else {
			lastCCC = ccc
		}
		out = append(out, r)
	}
	return string(out)
}

// composePair returns the primary composite of starter a and character b, if
// there is one. No pair with a supplementary-plane character composes in
// Unicode 3.2, whereas x/text follows a later Unicode version; SASLprep has
// already refused characters unassigned in 3.2, so the test only keeps
// later compositions out should that ever change.
func composePair(a, b rune) (rune, bool) {
	if a >= 0x10000 || b >= 0x10000 {
		return 0, false
	}
	c := norm.NFC.String(string([]rune{a, b}))
	r, n := utf8.DecodeRuneInString(c)
	if n != len(c) {
		return 0, false
	}
	return r, true
}
