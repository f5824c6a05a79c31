// This file holds the names of key exchange groups, including the hybrid
// ones that crypto/tls of Go 1.24 does not name.

package tlswire

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// Key exchange groups (TLS NamedGroup values) that crypto/tls of Go 1.24
// does not name. They are typed as tls.CurveID so that they compare with
// the values crypto/tls uses.
const (
	// SecP256r1MLKEM768 is the hybrid of P-256 and ML-KEM-768 (0x11eb).
	SecP256r1MLKEM768 tls.CurveID = 0x11eb
	// SecP384r1MLKEM1024 is the hybrid of P-384 and ML-KEM-1024 (0x11ed).
	SecP384r1MLKEM1024 tls.CurveID = 0x11ed
	// X25519Kyber768Draft00 is the pre-standard hybrid that some clients
	// still offered in 2024 (0x6399).
	X25519Kyber768Draft00 tls.CurveID = 0x6399
)

// groupNames holds the names reports use: the short forms of RFC 8422 and
// RFC 7919 and the names of the hybrid drafts, which are also OpenSSL's.
var groupNames = map[tls.CurveID]string{
	tls.CurveP256:         "P-256",
	tls.CurveP384:         "P-384",
	tls.CurveP521:         "P-521",
	tls.X25519:            "X25519",
	30:                    "X448",
	26:                    "brainpoolP256r1",
	27:                    "brainpoolP384r1",
	28:                    "brainpoolP512r1",
	31:                    "brainpoolP256r1tls13",
	32:                    "brainpoolP384r1tls13",
	33:                    "brainpoolP512r1tls13",
	256:                   "ffdhe2048",
	257:                   "ffdhe3072",
	258:                   "ffdhe4096",
	259:                   "ffdhe6144",
	260:                   "ffdhe8192",
	0x0200:                "MLKEM512",
	0x0201:                "MLKEM768",
	0x0202:                "MLKEM1024",
	tls.X25519MLKEM768:    "X25519MLKEM768",
	SecP256r1MLKEM768:     "SecP256r1MLKEM768",
	SecP384r1MLKEM1024:    "SecP384r1MLKEM1024",
	X25519Kyber768Draft00: "X25519Kyber768Draft00",
}

// GroupName returns a name for a key exchange group: "X25519MLKEM768",
// "X25519", "P-256", "ffdhe2048", ...; "GREASE(0x0a0a)" for the values
// RFC 8701 reserves and "0x1234" for any other.
func GroupName(g tls.CurveID) string {
	if name, ok := groupNames[g]; ok {
		return name
	}
	if isGREASE(uint16(g)) {
		return fmt.Sprintf("GREASE(0x%04x)", uint16(g))
	}
	return fmt.Sprintf("0x%04x", uint16(g))
}

// GroupList returns the names of groups separated by commas, as reports
// print a supported_groups or key_share list.
func GroupList(groups []tls.CurveID) string {
	var b strings.Builder
	for i, g := range groups {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(GroupName(g))
	}
	return b.String()
}

// isGREASE reports whether v is one of the 0x?a?a values clients send to
// keep servers tolerant of unknown values (RFC 8701).
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}
