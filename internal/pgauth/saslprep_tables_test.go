package pgauth

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
	"unicode"
)

// TestTablesGenerated checks that saslprep_tables.go is what gentables
// writes from the committed RFC 3454 tables, so that neither was edited
// without the other.
func TestTablesGenerated(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to run gentables with")
	}
	want, err := exec.Command(goTool, "run", "./internal/gentables", "-in", "testdata/rfc3454-tables.txt", "-out", "-").Output()
	if err != nil {
		t.Fatalf("gentables: %v", err)
	}
	got, err := os.ReadFile("saslprep_tables.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("saslprep_tables.go is out of date: run go generate ./internal/pgauth")
	}
}

// TestTables spot-checks every RFC 3454 table at its edges, and checks that
// the tables are valid for unicode.Is.
func TestTables(t *testing.T) {
	tests := []struct {
		name string // the RFC's table, for the failure message
		tab  *unicode.RangeTable
		r    rune
		want bool
	}{
		{"C.1.2", saslprepSpaces, 0x00A0, true},
		{"C.1.2", saslprepSpaces, 0x200B, true},
		{"C.1.2", saslprepSpaces, 0x3000, true},
		{"C.1.1 is not C.1.2", saslprepSpaces, ' ', false},
		{"C.1.2", saslprepSpaces, 0x200C, false},

		{"B.1", saslprepNothing, 0x00AD, true},
		{"B.1", saslprepNothing, 0x180C, true},
		{"B.1", saslprepNothing, 0xFE0F, true},
		{"B.1", saslprepNothing, 0xFEFF, true},
		{"B.1", saslprepNothing, 0x00AE, false},
		{"B.1", saslprepNothing, 0xFE10, false},

		{"C.1.2", saslprepProhibited, 0x00A0, true},
		{"C.2.1", saslprepProhibited, 0x0000, true},
		{"C.2.1", saslprepProhibited, 0x001F, true},
		{"C.2.1", saslprepProhibited, 0x007F, true},
		{"C.2.2", saslprepProhibited, 0x0080, true},
		{"C.2.2", saslprepProhibited, 0x009F, true},
		{"C.2.2", saslprepProhibited, 0x06DD, true},
		{"C.2.2", saslprepProhibited, 0x1D17A, true},
		{"C.3", saslprepProhibited, 0xE000, true},
		{"C.3", saslprepProhibited, 0xF8FF, true},
		{"C.3", saslprepProhibited, 0xF0000, true},
		{"C.3", saslprepProhibited, 0x10FFFD, true},
		{"C.4", saslprepProhibited, 0xFDD0, true},
		{"C.4", saslprepProhibited, 0xFFFE, true},
		{"C.4", saslprepProhibited, 0x1FFFF, true},
		{"C.4", saslprepProhibited, 0x10FFFF, true},
		{"C.5", saslprepProhibited, 0xD800, true},
		{"C.5", saslprepProhibited, 0xDFFF, true},
		{"C.6", saslprepProhibited, 0xFFF9, true},
		{"C.6", saslprepProhibited, 0xFFFD, true},
		{"C.7", saslprepProhibited, 0x2FF0, true},
		{"C.7", saslprepProhibited, 0x2FFB, true},
		{"C.8", saslprepProhibited, 0x0340, true},
		{"C.8", saslprepProhibited, 0x200E, true},
		{"C.8", saslprepProhibited, 0x206F, true},
		{"C.9", saslprepProhibited, 0xE0001, true},
		{"C.9", saslprepProhibited, 0xE0020, true},
		{"C.9", saslprepProhibited, 0xE007F, true},
		{"prohibited", saslprepProhibited, ' ', false},
		{"prohibited", saslprepProhibited, 'a', false},
		{"prohibited", saslprepProhibited, 0x00A1, false},
		{"prohibited", saslprepProhibited, 0x0300, false},
		{"prohibited", saslprepProhibited, 0xE0002, false},
		{"prohibited", saslprepProhibited, 0xEFFFD, false},

		{"A.1", saslprepUnassigned, 0x0221, true},
		{"A.1", saslprepUnassigned, 0x0234, true},
		{"A.1", saslprepUnassigned, 0x024F, true},
		{"A.1", saslprepUnassigned, 0x1D800, true},
		{"A.1", saslprepUnassigned, 0xE0080, true},
		{"A.1", saslprepUnassigned, 0xEFFFD, true},
		{"A.1", saslprepUnassigned, 0x0220, false},
		{"A.1", saslprepUnassigned, 'A', false},
		{"A.1 leaves out non-characters", saslprepUnassigned, 0xFFFE, false},
		{"A.1 leaves out private use", saslprepUnassigned, 0x10FFFD, false},

		{"D.1", saslprepRandAL, 0x05BE, true},
		{"D.1", saslprepRandAL, 0x05D0, true},
		{"D.1", saslprepRandAL, 0x0627, true},
		{"D.1", saslprepRandAL, 0xFEFC, true},
		{"D.1", saslprepRandAL, 'A', false},
		{"D.1", saslprepRandAL, 0x05BF, false},

		{"D.2", saslprepL, 'A', true},
		{"D.2", saslprepL, 'z', true},
		{"D.2", saslprepL, 0x00C0, true},
		{"D.2", saslprepL, 0x10FFFD, true},
		{"D.2", saslprepL, '0', false},
		{"D.2", saslprepL, 0x05D0, false},
	}
	for _, tt := range tests {
		if got := unicode.Is(tt.tab, tt.r); got != tt.want {
			t.Errorf("table %s: unicode.Is(%U) = %v, want %v", tt.name, tt.r, got, tt.want)
		}
	}

	for name, tab := range map[string]*unicode.RangeTable{"spaces": saslprepSpaces, "nothing": saslprepNothing,
		"prohibited": saslprepProhibited, "unassigned": saslprepUnassigned, "RandAL": saslprepRandAL, "L": saslprepL} {
		latin := 0
		for i, r := range tab.R16 {
			if r.Lo > r.Hi || r.Stride != 1 || (i > 0 && tab.R16[i-1].Hi >= r.Lo) {
				t.Errorf("table %s: R16 is not sorted at %d", name, i)
			}
			if r.Hi <= unicode.MaxLatin1 {
				latin++
			}
		}
		for i, r := range tab.R32 {
			if r.Lo > r.Hi || r.Lo <= 0xFFFF || r.Stride != 1 || (i > 0 && tab.R32[i-1].Hi >= r.Lo) {
				t.Errorf("table %s: R32 is not sorted at %d", name, i)
			}
		}
		if tab.LatinOffset != latin {
			t.Errorf("table %s: LatinOffset %d, want %d", name, tab.LatinOffset, latin)
		}
	}
}
