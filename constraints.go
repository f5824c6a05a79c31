// This file holds general names and name constraints, checked as OpenSSL's
// NAME_CONSTRAINTS_check does.

package pqssl

import (
	"bytes"
	"encoding/asn1"
	"strings"

	"github.com/pqssl/pqssl/internal/oid"
)

// GeneralName tags (context-specific).
const (
	gnOtherName     = 0
	gnRFC822Name    = 1
	gnDNSName       = 2
	gnX400Address   = 3
	gnDirectoryName = 4
	gnEDIPartyName  = 5
	gnURI           = 6
	gnIPAddress     = 7
	gnRegisteredID  = 8
)

type generalName struct {
	tag   int
	value []byte // content octets; for a directoryName the Name's DER, for an otherName its type-id and value
}

func parseGeneralNames(der []byte) ([]generalName, error) {
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return nil, err
	}
	return parseGeneralNamesContent(seq.Bytes)
}

func parseGeneralNamesContent(b []byte) ([]generalName, error) {
	var names []generalName
	for len(b) > 0 {
		var v asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &v); err != nil {
			return names, err
		}
		if v.Class != asn1.ClassContextSpecific {
			continue
		}
		names = append(names, generalName{tag: v.Tag, value: v.Bytes})
	}
	return names, nil
}

type generalSubtree struct {
	base          generalName
	minMaxInvalid bool // minimum other than 0, or a maximum
}

type nameConstraints struct {
	permitted, excluded []generalSubtree
}

func parseNameConstraints(der []byte) *nameConstraints {
	var raw struct {
		Permitted asn1.RawValue `asn1:"optional,tag:0"`
		Excluded  asn1.RawValue `asn1:"optional,tag:1"`
	}
	if _, err := asn1.Unmarshal(der, &raw); err != nil {
		return nil
	}
	parse := func(b []byte) []generalSubtree {
		var out []generalSubtree
		for len(b) > 0 {
			var st asn1.RawValue
			var err error
			if b, err = asn1.Unmarshal(b, &st); err != nil {
				return out
			}
			var base asn1.RawValue
			rest, err := asn1.Unmarshal(st.Bytes, &base)
			if err != nil {
				return out
			}
			sub := generalSubtree{base: generalName{tag: base.Tag, value: base.Bytes}}
			for len(rest) > 0 {
				var mm asn1.RawValue
				if rest, err = asn1.Unmarshal(rest, &mm); err != nil {
					break
				}
				if mm.Tag == 1 || (mm.Tag == 0 && len(bytes.TrimLeft(mm.Bytes, "\x00")) > 0) {
					sub.minMaxInvalid = true
				}
			}
			out = append(out, sub)
		}
		return out
	}
	return &nameConstraints{permitted: parse(raw.Permitted.Bytes), excluded: parse(raw.Excluded.Bytes)}
}

// match is OpenSSL's nc_match: a name must match one permitted subtree of
// its own type, if there are any, and no excluded subtree.
func (nc *nameConstraints) match(gn generalName) VerifyReason {
	typ := gn.tag
	matched := 0 // 0 no subtree of the type, 1 none matched, 2 one matched
	for _, st := range nc.permitted {
		if st.base.tag != typ {
			continue
		}
		if st.minMaxInvalid {
			return SubtreeMinMax
		}
		if matched == 2 {
			continue
		}
		matched = 1
		r := ncMatchSingle(typ, gn, st.base)
		if r == 0 {
			matched = 2
		} else if r != PermittedSubtreeViolation {
			return r
		}
	}
	if matched == 1 {
		return PermittedSubtreeViolation
	}
	for _, st := range nc.excluded {
		if st.base.tag != typ {
			continue
		}
		if st.minMaxInvalid {
			return SubtreeMinMax
		}
		r := ncMatchSingle(typ, gn, st.base)
		if r == 0 {
			return ExcludedSubtreeViolation
		} else if r != PermittedSubtreeViolation {
			return r
		}
	}
	return 0
}

func ncMatchSingle(typ int, gn, base generalName) VerifyReason {
	switch typ {
	case gnDirectoryName:
		nm, err1 := parseName(gn.value)
		bn, err2 := parseName(base.value)
		if err1 != nil || err2 != nil {
			return UnsupportedNameSyntax
		}
		if !strings.HasPrefix(nm.canon, bn.canon) {
			return PermittedSubtreeViolation
		}
		return 0
	case gnDNSName:
		return ncDNS(gn.value, base.value)
	case gnRFC822Name:
		return ncEmail(gn.value, base.value)
	case gnURI:
		return ncURI(gn.value, base.value)
	case gnIPAddress:
		return ncIP(gn.value, base.value)
	}
	return UnsupportedConstraintType
}

func asciiEqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func ncDNS(dns, base []byte) VerifyReason {
	if len(base) == 0 {
		return 0
	}
	if len(dns) < len(base) {
		return PermittedSubtreeViolation
	}
	tail := dns[len(dns)-len(base):]
	if len(dns) > len(base) && base[0] != '.' && dns[len(dns)-len(base)-1] != '.' {
		return PermittedSubtreeViolation
	}
	if !asciiEqualFold(base, tail) {
		return PermittedSubtreeViolation
	}
	return 0
}

func ncEmail(eml, base []byte) VerifyReason {
	emlAt := bytes.LastIndexByte(eml, '@')
	baseAt := bytes.LastIndexByte(base, '@')
	if emlAt < 0 {
		return UnsupportedNameSyntax
	}
	// A leading dot in the constraint matches any host in that domain.
	if baseAt < 0 && len(base) > 0 && base[0] == '.' {
		if len(eml) > len(base) && asciiEqualFold(base, eml[len(eml)-len(base):]) {
			return 0
		}
		return PermittedSubtreeViolation
	}
	baseHost := base
	if baseAt >= 0 {
		if baseAt != 0 {
			if baseAt != emlAt {
				return PermittedSubtreeViolation
			}
			if bytes.IndexByte(base[:baseAt], 0) >= 0 || bytes.IndexByte(eml[:emlAt], 0) >= 0 {
				return UnsupportedNameSyntax
			}
			if !bytes.Equal(base[:baseAt], eml[:emlAt]) { // local part: case-sensitive
				return PermittedSubtreeViolation
			}
		}
		baseHost = base[baseAt+1:]
	}
	if !asciiEqualFold(baseHost, eml[emlAt+1:]) {
		return PermittedSubtreeViolation
	}
	return 0
}

func ncURI(uri, base []byte) VerifyReason {
	p := bytes.IndexByte(uri, ':')
	if p < 0 || len(uri)-p < 3 || uri[p+1] != '/' || uri[p+2] != '/' {
		return UnsupportedNameSyntax
	}
	host := uri[p+3:]
	if i := bytes.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	} else if i := bytes.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	if len(host) == 0 {
		return UnsupportedNameSyntax
	}
	if len(base) > 0 && base[0] == '.' {
		if len(host) > len(base) && asciiEqualFold(host[len(host)-len(base):], base) {
			return 0
		}
		return PermittedSubtreeViolation
	}
	if !asciiEqualFold(host, base) {
		return PermittedSubtreeViolation
	}
	return 0
}

func ncIP(ip, base []byte) VerifyReason {
	if len(ip) != 4 && len(ip) != 16 {
		return UnsupportedNameSyntax
	}
	if len(base) != 8 && len(base) != 32 {
		return UnsupportedNameSyntax
	}
	if 2*len(ip) != len(base) {
		return PermittedSubtreeViolation
	}
	mask := base[len(ip):]
	for i := range ip {
		if ip[i]&mask[i] != base[i]&mask[i] {
			return PermittedSubtreeViolation
		}
	}
	return 0
}

// checkNameConstraintsCert is NAME_CONSTRAINTS_check: the subject (as a
// directoryName and its emailAddress attributes) and every subjectAltName
// entry are checked.
func checkNameConstraintsCert(x *certInfo, nc *nameConstraints) VerifyReason {
	if len(x.subjectAttrs)+len(x.sans) > 0 &&
		len(nc.permitted)+len(nc.excluded) > (1<<20)/(len(x.subjectAttrs)+len(x.sans)) {
		return Unspecified
	}
	if len(x.subjectAttrs) > 0 {
		if r := nc.match(generalName{tag: gnDirectoryName, value: x.cert.RawSubject}); r != 0 {
			return r
		}
		for _, a := range x.subjectAttrs {
			if !a.oid.Equal(oid.EmailAddress) {
				continue
			}
			if a.tag != tagIA5String {
				return UnsupportedNameSyntax
			}
			if r := nc.match(generalName{tag: gnRFC822Name, value: a.value}); r != 0 {
				return r
			}
		}
	}
	for _, gn := range x.sans {
		if r := nc.match(gn); r != 0 {
			return r
		}
	}
	return 0
}

// checkNameConstraintsCN is NAME_CONSTRAINTS_check_CN: common names that
// look like host names (at least two labels) are checked as dNSNames.
func checkNameConstraintsCN(x *certInfo, nc *nameConstraints) VerifyReason {
	for _, a := range x.subjectAttrs {
		if !a.oid.Equal(oid.CommonName) {
			continue
		}
		s, ok := asn1ToUTF8(a.tag, a.value)
		if !ok {
			// OpenSSL gives up on the whole verification here.
			return Unspecified
		}
		s = strings.TrimRight(s, "\x00")
		if strings.IndexByte(s, 0) >= 0 {
			return UnsupportedNameSyntax
		}
		if !looksLikeDNSName(s) {
			continue
		}
		if r := nc.match(generalName{tag: gnDNSName, value: []byte(s)}); r != 0 {
			return r
		}
	}
	return 0
}

// looksLikeDNSName is OpenSSL's cn2dnsid test: letters, digits and '_',
// with inner '-' and '.', no empty labels, no '-' next to a '.', and at
// least one dot.
func looksLikeDNSName(s string) bool {
	isDNS := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '_' {
			continue
		}
		if i > 0 && i < len(s)-1 {
			if c == '-' {
				continue
			}
			if c == '.' && s[i+1] != '.' && s[i-1] != '-' && s[i+1] != '-' {
				isDNS = true
				continue
			}
		}
		return false
	}
	return isDNS
}
