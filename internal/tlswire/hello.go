// This file holds the hello messages: ClientHello, ServerHello and
// HelloRetryRequest parsed, with their extensions, into what each side
// offers and chooses.

package tlswire

import (
	"bytes"
	"crypto/tls"

	"golang.org/x/crypto/cryptobyte"
)

// ClientHello is what a ClientHello message says about the connection the
// client wants.
type ClientHello struct {
	// LegacyVersion is the version field of the message (0x0303 from a
	// TLS 1.3 client); SupportedVersions is the supported_versions
	// extension, in the client's order of preference, nil when absent.
	LegacyVersion     uint16
	SupportedVersions []uint16
	CipherSuites      []uint16
	// SupportedGroups is the supported_groups extension in the client's
	// order of preference; KeyShares lists the groups of the key_share
	// entries, the groups for which the client already sent a key.
	SupportedGroups []tls.CurveID
	KeyShares       []tls.CurveID
	// ALPN holds the protocols of the application_layer_protocol_negotiation
	// extension; ServerName the host_name of the server_name extension.
	ALPN       []string
	ServerName string
	// Extensions lists the extension types in the order they appear.
	Extensions []uint16
}

// ServerHello is what a ServerHello or HelloRetryRequest message says
// about the server's choices.
type ServerHello struct {
	// LegacyVersion is the version field of the message; Version the
	// negotiated version: the supported_versions extension when present
	// (TLS 1.3), else LegacyVersion.
	LegacyVersion uint16
	Version       uint16
	CipherSuite   uint16
	// HelloRetryRequest reports that the message is a HelloRetryRequest:
	// its random is SHA-256("HelloRetryRequest") (RFC 8446, 4.1.3).
	HelloRetryRequest bool
	// Group is the group of the key_share extension: the group the server
	// asks the client to retry with in a HelloRetryRequest, the group of
	// the server's key share in a ServerHello. It is zero when the
	// extension is absent, as it is below TLS 1.3.
	Group tls.CurveID
	// Extensions lists the extension types in the order they appear.
	Extensions []uint16
}

// ParseError reports a malformed or unexpected TLS message or record.
type ParseError struct {
	Msg string
}

func (e *ParseError) Error() string { return "tlswire: " + e.Msg }

func parseErr(msg string) error { return &ParseError{Msg: msg} }

// Handshake message types, record content types and extensions that this
// package reads (RFC 8446 and RFC 5246).
const (
	typeClientHello       = 1
	typeServerHello       = 2
	typeServerKeyExchange = 12

	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23

	extServerName        = 0
	extSupportedGroups   = 10
	extALPN              = 16
	extSupportedVersions = 43
	extKeyShare          = 51

	recordHeaderLen    = 5
	handshakeHeaderLen = 4
	// maxRecordLen is the largest TLSCiphertext fragment TLS 1.2 allows
	// (TLS 1.3 allows less).
	maxRecordLen = 1<<14 + 2048
	// maxHandshakeLen bounds the messages this package keeps in memory; it
	// is crypto/tls's own limit, far above any real hello.
	maxHandshakeLen = 1 << 16
)

// helloRetryRequestRandom is SHA-256("HelloRetryRequest"), the random of
// every HelloRetryRequest (RFC 8446, 4.1.3).
var helloRetryRequestRandom = []byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
	0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// ParseClientHello parses a ClientHello given either as TLS records as they
// cross the wire (the first byte is 0x16; the message may span several
// records) or as a bare handshake message (the first byte is 1). Bytes after
// the message are ignored.
func ParseClientHello(b []byte) (*ClientHello, error) {
	body, err := handshakeBody(b, typeClientHello, "ClientHello")
	if err != nil {
		return nil, err
	}
	return parseClientHello(body)
}

// ParseServerHello parses a ServerHello or HelloRetryRequest given as TLS
// records or as a bare handshake message (the first byte is 2), as
// [ParseClientHello] does.
func ParseServerHello(b []byte) (*ServerHello, error) {
	body, err := handshakeBody(b, typeServerHello, "ServerHello")
	if err != nil {
		return nil, err
	}
	return parseServerHello(body)
}

// handshakeBody returns the body of the first handshake message in b, which
// must be of type want. A message that spans records is copied; one that
// fits in its record is returned in place.
func handshakeBody(b []byte, want uint8, name string) ([]byte, error) {
	if len(b) == 0 {
		return nil, parseErr(name + ": no data")
	}
	if b[0] == want {
		return messageBody(b, want, name)
	}
	if b[0] != recordHandshake {
		return nil, parseErr(name + ": neither a handshake record nor a handshake message")
	}
	var hs []byte // handshake bytes gathered from the records so far
	for rest := b; ; {
		if len(rest) < recordHeaderLen {
			return nil, parseErr(name + ": truncated record")
		}
		if rest[0] != recordHandshake || rest[1] != 3 {
			return nil, parseErr(name + ": not a TLS handshake record")
		}
		n := int(rest[3])<<8 | int(rest[4])
		if n > maxRecordLen || len(rest) < recordHeaderLen+n {
			return nil, parseErr(name + ": truncated record")
		}
		frag := rest[recordHeaderLen : recordHeaderLen+n]
		rest = rest[recordHeaderLen+n:]
		if hs == nil && messageComplete(frag) {
			return messageBody(frag, want, name)
		}
		hs = append(hs, frag...)
		if len(hs) > handshakeHeaderLen+maxHandshakeLen {
			return nil, parseErr(name + ": message too long")
		}
		if messageComplete(hs) {
			return messageBody(hs, want, name)
		}
	}
}

// messageComplete reports whether b starts with a whole handshake message.
func messageComplete(b []byte) bool {
	return len(b) >= handshakeHeaderLen && len(b)-handshakeHeaderLen >= int(b[1])<<16|int(b[2])<<8|int(b[3])
}

func messageBody(b []byte, want uint8, name string) ([]byte, error) {
	if len(b) < handshakeHeaderLen || b[0] != want {
		return nil, parseErr(name + ": wrong handshake message type")
	}
	n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	if n > maxHandshakeLen {
		return nil, parseErr(name + ": message too long")
	}
	if len(b)-handshakeHeaderLen < n {
		return nil, parseErr(name + ": truncated message")
	}
	return b[handshakeHeaderLen : handshakeHeaderLen+n], nil
}

func parseClientHello(body []byte) (*ClientHello, error) {
	s := cryptobyte.String(body)
	ch := &ClientHello{}
	var sessionID, suites, compression cryptobyte.String
	if !s.ReadUint16(&ch.LegacyVersion) || !s.Skip(32) ||
		!s.ReadUint8LengthPrefixed(&sessionID) || len(sessionID) > 32 ||
		!s.ReadUint16LengthPrefixed(&suites) || len(suites)%2 != 0 ||
		!s.ReadUint8LengthPrefixed(&compression) {
		return nil, parseErr("ClientHello: malformed")
	}
	ch.CipherSuites, _ = uint16s[uint16](suites) // even length checked above
	var err error
	ch.Extensions, err = extensions(&s, "ClientHello", func(typ uint16, data cryptobyte.String) bool {
		var ok bool
		switch typ {
		case extServerName:
			ok = parseServerName(data, ch)
		case extSupportedGroups:
			ch.SupportedGroups, ok = groupVector(data)
		case extALPN:
			ch.ALPN, ok = parseALPN(data)
		case extSupportedVersions:
			ch.SupportedVersions, ok = versionVector(data)
		case extKeyShare:
			ch.KeyShares, ok = keyShareGroups(data)
		default:
			ok = true
		}
		return ok
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

func parseServerHello(body []byte) (*ServerHello, error) {
	s := cryptobyte.String(body)
	sh := &ServerHello{}
	var random []byte
	var sessionID cryptobyte.String
	var compression uint8
	if !s.ReadUint16(&sh.LegacyVersion) || !s.ReadBytes(&random, 32) ||
		!s.ReadUint8LengthPrefixed(&sessionID) || len(sessionID) > 32 ||
		!s.ReadUint16(&sh.CipherSuite) || !s.ReadUint8(&compression) {
		return nil, parseErr("ServerHello: malformed")
	}
	sh.HelloRetryRequest = bytes.Equal(random, helloRetryRequestRandom)
	sh.Version = sh.LegacyVersion
	var err error
	sh.Extensions, err = extensions(&s, "ServerHello", func(typ uint16, data cryptobyte.String) bool {
		ok := true
		switch typ {
		case extSupportedVersions:
			ok = data.ReadUint16(&sh.Version) && data.Empty()
		case extKeyShare:
			// A HelloRetryRequest names a group; a ServerHello carries a
			// KeyShareEntry: the group and the server's key.
			var g uint16
			ok = data.ReadUint16(&g)
			if ok && !sh.HelloRetryRequest {
				var key cryptobyte.String
				ok = data.ReadUint16LengthPrefixed(&key)
			}
			ok = ok && data.Empty()
			sh.Group = tls.CurveID(g)
		}
		return ok
	})
	if err != nil {
		return nil, err
	}
	return sh, nil
}

// extensions reads the extensions block that ends a hello, checking the
// framing of every extension first, then hands each in turn to parse,
// which reports whether its data is well formed. It returns the extension
// types in order. A hello without the block (allowed below TLS 1.3) has
// none.
func extensions(s *cryptobyte.String, name string, parse func(typ uint16, data cryptobyte.String) bool) ([]uint16, error) {
	if s.Empty() {
		return nil, nil
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, parseErr(name + ": malformed extensions")
	}
	for check := exts; !check.Empty(); {
		var typ uint16
		var data cryptobyte.String
		if !check.ReadUint16(&typ) || !check.ReadUint16LengthPrefixed(&data) {
			return nil, parseErr(name + ": malformed extensions")
		}
	}
	var types []uint16
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		exts.ReadUint16(&typ)
		exts.ReadUint16LengthPrefixed(&data)
		types = append(types, typ)
		if !parse(typ, data) {
			return nil, parseErr(name + ": malformed extension " + extName(typ))
		}
	}
	return types, nil
}

func parseServerName(data cryptobyte.String, ch *ClientHello) bool {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() {
		return false
	}
	for !list.Empty() {
		var typ uint8
		var name cryptobyte.String
		if !list.ReadUint8(&typ) || !list.ReadUint16LengthPrefixed(&name) {
			return false
		}
		if typ == 0 && ch.ServerName == "" {
			ch.ServerName = string(name)
		}
	}
	return true
}

// uint16s reads list as a sequence of 16-bit values.
func uint16s[T ~uint16](list cryptobyte.String) ([]T, bool) {
	if len(list)%2 != 0 {
		return nil, false
	}
	vs := make([]T, 0, len(list)/2)
	for !list.Empty() {
		var v uint16
		list.ReadUint16(&v)
		vs = append(vs, T(v))
	}
	return vs, true
}

func groupVector(data cryptobyte.String) ([]tls.CurveID, bool) {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() {
		return nil, false
	}
	return uint16s[tls.CurveID](list)
}

func versionVector(data cryptobyte.String) ([]uint16, bool) {
	var list cryptobyte.String
	if !data.ReadUint8LengthPrefixed(&list) || !data.Empty() {
		return nil, false
	}
	return uint16s[uint16](list)
}

func keyShareGroups(data cryptobyte.String) ([]tls.CurveID, bool) {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() {
		return nil, false
	}
	groups := []tls.CurveID{}
	for !list.Empty() {
		var g uint16
		var key cryptobyte.String
		if !list.ReadUint16(&g) || !list.ReadUint16LengthPrefixed(&key) {
			return nil, false
		}
		groups = append(groups, tls.CurveID(g))
	}
	return groups, true
}

func parseALPN(data cryptobyte.String) ([]string, bool) {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() {
		return nil, false
	}
	var protos []string
	for !list.Empty() {
		var p cryptobyte.String
		if !list.ReadUint8LengthPrefixed(&p) || p.Empty() {
			return nil, false
		}
		protos = append(protos, string(p))
	}
	return protos, true
}

// parseECDHEServerKeyExchange returns the named curve of a TLS 1.2 (or
// older) ServerKeyExchange of an ECDHE cipher suite: curve_type 3
// (named_curve), the curve, the public point, then a signature with or
// without its algorithm (none for anonymous suites). The whole message is
// checked against that layout because a DHE ServerKeyExchange can start
// with the byte 3 too.
func parseECDHEServerKeyExchange(body []byte) (tls.CurveID, bool) {
	s := cryptobyte.String(body)
	var curveType uint8
	var curve uint16
	var point cryptobyte.String
	if !s.ReadUint8(&curveType) || curveType != 3 || !s.ReadUint16(&curve) ||
		!s.ReadUint8LengthPrefixed(&point) || point.Empty() {
		return 0, false
	}
	if s.Empty() {
		return tls.CurveID(curve), true
	}
	withAlg, withoutAlg := s, s
	var alg uint16
	var sig cryptobyte.String
	if withAlg.ReadUint16(&alg) && withAlg.ReadUint16LengthPrefixed(&sig) && withAlg.Empty() {
		return tls.CurveID(curve), true
	}
	if withoutAlg.ReadUint16LengthPrefixed(&sig) && withoutAlg.Empty() {
		return tls.CurveID(curve), true
	}
	return 0, false
}

func extName(typ uint16) string {
	switch typ {
	case extServerName:
		return "server_name"
	case extSupportedGroups:
		return "supported_groups"
	case extALPN:
		return "application_layer_protocol_negotiation"
	case extSupportedVersions:
		return "supported_versions"
	case extKeyShare:
		return "key_share"
	}
	return "?"
}
