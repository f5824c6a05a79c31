// Command gentables writes the SASLprep tables of package pgauth from the
// tables of RFC 3454.
//
// It reads the RFC's text (or an extract of it holding the tables), takes
// the code points listed between each "----- Start Table X -----" and
// "----- End Table X -----" line, and writes them as *unicode.RangeTable
// variables:
//
//	go run ./internal/gentables -in testdata/rfc3454-tables.txt -out saslprep_tables.go
//
// Lines inside a table that do not start with a code point (the RFC's page
// headers and footers) are skipped; a table that is missing or empty is an
// error, so that a truncated input cannot produce lax tables.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// A table of the output: a variable holding the union of RFC 3454 tables.
type table struct {
	name  string   // the Go variable
	doc   string   // its doc comment, without the leading "// "
	parts []string // the RFC's tables it is the union of
}

// tables are the variables pgauth uses, in the order written.
var tables = []table{
	{"saslprepSpaces", "C.1.2: non-ASCII space characters, which SASLprep maps to a space.", []string{"C.1.2"}},
	{"saslprepNothing", "B.1: characters commonly mapped to nothing, which SASLprep removes.", []string{"B.1"}},
	{"saslprepProhibited", "SASLprep's prohibited output (RFC 4013, section 2.3): the union of\n// C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8 and C.9.",
		[]string{"C.1.2", "C.2.1", "C.2.2", "C.3", "C.4", "C.5", "C.6", "C.7", "C.8", "C.9"}},
	{"saslprepUnassigned", "A.1: code points unassigned in Unicode 3.2.", []string{"A.1"}},
	{"saslprepRandAL", "D.1: characters with bidirectional property R or AL.", []string{"D.1"}},
	{"saslprepL", "D.2: characters with bidirectional property L.", []string{"D.2"}},
}

// span is an inclusive range of code points.
type span struct{ lo, hi rune }

func main() {
	in := flag.String("in", "testdata/rfc3454-tables.txt", "the RFC 3454 text or table extract to read")
	out := flag.String("out", "saslprep_tables.go", "the Go file to write; - for standard output")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gentables: ")

	f, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	rfc, err := parse(f)
	f.Close()
	if err != nil {
		log.Fatalf("%s: %v", *in, err)
	}
	src, err := generate(rfc)
	if err != nil {
		log.Fatal(err)
	}
	if *out == "-" {
		os.Stdout.Write(src)
		return
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// parse reads the tables of the RFC's text: table name to its code points.
func parse(r io.Reader) (map[string][]span, error) {
	tabs := map[string][]span{}
	cur := ""
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if name, ok := marker(line, "Start"); ok {
			if cur != "" {
				return nil, fmt.Errorf("line %d: table %s starts inside table %s", n, name, cur)
			}
			if _, dup := tabs[name]; dup {
				return nil, fmt.Errorf("line %d: table %s appears twice", n, name)
			}
			cur = name
			tabs[cur] = nil
			continue
		}
		if name, ok := marker(line, "End"); ok {
			if name != cur {
				return nil, fmt.Errorf("line %d: end of table %s inside table %q", n, name, cur)
			}
			cur = ""
			continue
		}
		if cur == "" || line == "" {
			continue
		}
		s, ok, err := parseEntry(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		if ok {
			tabs[cur] = append(tabs[cur], s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != "" {
		return nil, fmt.Errorf("table %s does not end", cur)
	}
	return tabs, nil
}

// marker recognises "----- Start Table X -----" (or End).
func marker(line, word string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "----- "+word+" Table ")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, " -----")
	return strings.TrimSpace(name), ok
}

// parseEntry parses "XXXX", "XXXX-YYYY" or either followed by "; ...". A line
// whose first field is not hexadecimal (a page header or footer) is no
// entry.
func parseEntry(line string) (span, bool, error) {
	field, _, _ := strings.Cut(line, ";")
	field = strings.TrimSpace(field)
	lo, hi, isRange := strings.Cut(field, "-")
	if !isHex(lo) || (isRange && !isHex(hi)) {
		return span{}, false, nil
	}
	if !isRange {
		hi = lo
	}
	a, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return span{}, false, err
	}
	b, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return span{}, false, err
	}
	if a > b || b > unicode.MaxRune {
		return span{}, false, fmt.Errorf("bad range %q", field)
	}
	return span{rune(a), rune(b)}, true, nil
}

func isHex(s string) bool {
	if len(s) < 4 || len(s) > 6 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789ABCDEFabcdef", c) {
			return false
		}
	}
	return true
}

// merge sorts spans and joins those that overlap or touch.
func merge(in []span) []span {
	s := append([]span(nil), in...)
	sort.Slice(s, func(i, j int) bool { return s[i].lo < s[j].lo })
	var out []span
	for _, r := range s {
		if n := len(out); n > 0 && r.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

// generate returns the Go source of the tables.
func generate(rfc map[string][]span) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by gentables from RFC 3454; DO NOT EDIT.\n\n")
	b.WriteString("package pgauth\n\nimport \"unicode\"\n\n")
	b.WriteString("// The tables of RFC 3454 that SASLprep uses, for Unicode 3.2.\n")
	for _, t := range tables {
		var all []span
		for _, p := range t.parts {
			s, ok := rfc[p]
			if !ok || len(s) == 0 {
				return nil, fmt.Errorf("table %s is missing or empty", p)
			}
			all = append(all, s...)
		}
		fmt.Fprintf(&b, "\n// %s\nvar %s = &unicode.RangeTable{\n", t.doc, t.name)
		writeRanges(&b, merge(all))
		b.WriteString("}\n")
	}
	return format.Source(b.Bytes())
}

// perLine is how many ranges writeRanges puts on a line.
const perLine = 4

// writeRanges writes the R16, R32 and LatinOffset fields for spans, which
// are sorted and disjoint, each as {Lo, Hi, Stride 1}. A span that crosses
// U+FFFF is split.
func writeRanges(b *bytes.Buffer, spans []span) {
	var r16, r32 []span
	for _, s := range spans {
		switch {
		case s.hi <= 0xFFFF:
			r16 = append(r16, s)
		case s.lo > 0xFFFF:
			r32 = append(r32, s)
		default:
			r16 = append(r16, span{s.lo, 0xFFFF})
			r32 = append(r32, span{0x10000, s.hi})
		}
	}
	latin := 0
	if len(r16) > 0 {
		b.WriteString("\tR16: []unicode.Range16{")
		for i, s := range r16 {
			if i%perLine == 0 {
				b.WriteString("\n\t\t")
			} else {
				b.WriteString(" ")
			}
			fmt.Fprintf(b, "{0x%04x, 0x%04x, 1},", s.lo, s.hi)
			if s.hi <= unicode.MaxLatin1 {
				latin++
			}
		}
		b.WriteString("\n\t},\n")
	}
	if len(r32) > 0 {
		b.WriteString("\tR32: []unicode.Range32{")
		for i, s := range r32 {
			if i%perLine == 0 {
				b.WriteString("\n\t\t")
			} else {
				b.WriteString(" ")
			}
			fmt.Fprintf(b, "{0x%x, 0x%x, 1},", s.lo, s.hi)
		}
		b.WriteString("\n\t},\n")
	}
	if latin > 0 {
		fmt.Fprintf(b, "\tLatinOffset: %d,\n", latin)
	}
}
