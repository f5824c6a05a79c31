// This file holds X.509 names: parsing, and the canonical encoding OpenSSL
// compares them by.

package pqssl

import (
	"bytes"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pqssl/pqssl/internal/cparse"
)

type nameAttr struct {
	oid   asn1.ObjectIdentifier
	tag   int    // universal tag of the value
	value []byte // content octets of the value, as in the certificate
}

type parsedName struct {
	canon string
	attrs []nameAttr // in order, multi-valued RDNs flattened
}

// Universal string tags.
const (
	tagUTF8String      = 12
	tagPrintableString = 19
	tagT61String       = 20
	tagIA5String       = 22
	tagVisibleString   = 26
	tagUniversalString = 28
	tagBMPString       = 30
)

// parseName parses a DER Name and computes OpenSSL's canonical encoding of
// it (x509_name_canon): each string value converted to UTF-8, stripped of
// leading and trailing white space, inner white space runs collapsed to one
// space and ASCII letters lowered, re-encoded as UTF8String; each RDN as a
// DER SET; the RDNs concatenated without the outer SEQUENCE.
func parseName(der []byte) (parsedName, error) {
	var rdns []asn1.RawValue
	rest, err := asn1.Unmarshal(der, &rdns)
	if err != nil {
		return parsedName{}, err
	}
	if len(rest) > 0 {
		return parsedName{}, errors.New("trailing data after name")
	}
	var out parsedName
	var canon bytes.Buffer
	for _, rdn := range rdns {
		if rdn.Class != asn1.ClassUniversal || rdn.Tag != asn1.TagSet {
			return parsedName{}, errors.New("malformed RDN")
		}
		var entries [][]byte
		for b := rdn.Bytes; len(b) > 0; {
			var atv struct {
				Type  asn1.RawValue
				Value asn1.RawValue
			}
			if b, err = asn1.Unmarshal(b, &atv); err != nil {
				return parsedName{}, err
			}
			var oid asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(atv.Type.FullBytes, &oid); err != nil {
				return parsedName{}, err
			}
			out.attrs = append(out.attrs, nameAttr{oid: oid, tag: atv.Value.Tag, value: atv.Value.Bytes})
			value := atv.Value.FullBytes
			if atv.Value.Class == asn1.ClassUniversal && !atv.Value.IsCompound {
				if s, ok := canonString(atv.Value.Tag, atv.Value.Bytes); ok {
					value = derTLV(tagUTF8String, []byte(s))
				} else if isCanonTag(atv.Value.Tag) {
					return parsedName{}, errors.New("invalid string in name")
				}
			}
			entries = append(entries, derTLV(0x30, append(append([]byte{}, atv.Type.FullBytes...), value...)))
		}
		sort.Slice(entries, func(i, j int) bool { return bytes.Compare(entries[i], entries[j]) < 0 })
		canon.Write(derTLV(0x31, bytes.Join(entries, nil)))
	}
	out.canon = canon.String()
	return out, nil
}

func isCanonTag(tag int) bool {
	switch tag {
	case tagUTF8String, tagPrintableString, tagT61String, tagIA5String, tagVisibleString,
		tagUniversalString, tagBMPString:
		return true
	}
	return false
}

// asn1ToUTF8 converts a string value to UTF-8 like ASN1_STRING_to_UTF8:
// single-byte string types are taken as Latin-1.
func asn1ToUTF8(tag int, b []byte) (string, bool) {
	switch tag {
	case tagUTF8String:
		return string(b), utf8.Valid(b)
	case tagPrintableString, tagT61String, tagIA5String, tagVisibleString,
		asn1.TagNumericString, asn1.TagUTCTime, asn1.TagGeneralizedTime:
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), true
	case tagBMPString:
		if len(b)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(b[2*i:])
			if utf16.IsSurrogate(rune(u[i])) {
				return "", false
			}
		}
		return string(utf16.Decode(u)), true
	case tagUniversalString:
		if len(b)%4 != 0 {
			return "", false
		}
		r := make([]rune, len(b)/4)
		for i := range r {
			r[i] = rune(binary.BigEndian.Uint32(b[4*i:]))
			if !utf8.ValidRune(r[i]) {
				return "", false
			}
		}
		return string(r), true
	}
	return "", false
}

func canonString(tag int, b []byte) (string, bool) {
	if !isCanonTag(tag) {
		return "", false
	}
	s, ok := asn1ToUTF8(tag, b)
	if !ok {
		return "", false
	}
	i, j := 0, len(s)
	for i < j && cparse.IsSpace(s[i]) {
		i++
	}
	for j > i && cparse.IsSpace(s[j-1]) {
		j--
	}
	var out strings.Builder
	for k := i; k < j; {
		c := s[k]
		switch {
		case c >= 0x80:
			out.WriteByte(c)
			k++
		case cparse.IsSpace(c):
			out.WriteByte(' ')
			for k < j && cparse.IsSpace(s[k]) {
				k++
			}
		default:
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			out.WriteByte(c)
			k++
		}
	}
	return out.String(), true
}

// derTLV encodes one DER element with a single-byte tag.
func derTLV(tag byte, content []byte) []byte {
	n := len(content)
	out := []byte{tag}
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, content...)
}
