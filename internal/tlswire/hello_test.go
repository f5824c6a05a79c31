package tlswire

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/cryptobyte"
)

func TestHelloRetryRequestRandom(t *testing.T) {
	sum := sha256.Sum256([]byte("HelloRetryRequest"))
	if !bytes.Equal(sum[:], helloRetryRequestRandom) {
		t.Fatalf("helloRetryRequestRandom = %x, want SHA-256(\"HelloRetryRequest\") = %x", helloRetryRequestRandom, sum)
	}
}

func TestGroupName(t *testing.T) {
	tests := []struct {
		g    tls.CurveID
		want string
	}{
		{tls.X25519MLKEM768, "X25519MLKEM768"},
		{4588, "X25519MLKEM768"},
		{4587, "SecP256r1MLKEM768"},
		{4589, "SecP384r1MLKEM1024"},
		{tls.X25519, "X25519"},
		{tls.CurveP256, "P-256"},
		{tls.CurveP384, "P-384"},
		{tls.CurveP521, "P-521"},
		{30, "X448"},
		{256, "ffdhe2048"},
		{260, "ffdhe8192"},
		{0x0a0a, "GREASE(0x0a0a)"},
		{0xfafa, "GREASE(0xfafa)"},
		{0x0a1a, "0x0a1a"},
		{0x1234, "0x1234"},
	}
	for _, tt := range tests {
		if got := GroupName(tt.g); got != tt.want {
			t.Errorf("GroupName(%d) = %q, want %q", tt.g, got, tt.want)
		}
	}
	if got, want := GroupList([]tls.CurveID{tls.X25519MLKEM768, tls.X25519}), "X25519MLKEM768, X25519"; got != want {
		t.Errorf("GroupList = %q, want %q", got, want)
	}
	if got := GroupList(nil); got != "" {
		t.Errorf("GroupList(nil) = %q, want empty", got)
	}
}

// helloSpec describes a hello message for the builders below.
type helloSpec struct {
	random   []byte // nil: 32 bytes of 0x11
	suites   []uint16
	noExts   bool
	exts     []ext
	trailing []byte // bytes after the extensions block, inside the message
}

type ext struct {
	typ  uint16
	data []byte
}

func buildMessage(typ uint8, body []byte) []byte {
	var b cryptobyte.Builder
	b.AddUint8(typ)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(body) })
	return b.BytesOrPanic()
}

func buildExts(b *cryptobyte.Builder, s helloSpec) {
	if s.noExts {
		return
	}
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, e := range s.exts {
			b.AddUint16(e.typ)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.data) })
		}
	})
}

func random(s helloSpec) []byte {
	if s.random != nil {
		return s.random
	}
	return bytes.Repeat([]byte{0x11}, 32)
}

func buildClientHello(s helloSpec) []byte {
	var b cryptobyte.Builder
	b.AddUint16(tls.VersionTLS12)
	b.AddBytes(random(s))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(bytes.Repeat([]byte{7}, 32)) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, c := range s.suites {
			b.AddUint16(c)
		}
	})
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
	buildExts(&b, s)
	b.AddBytes(s.trailing)
	return buildMessage(typeClientHello, b.BytesOrPanic())
}

func buildServerHello(s helloSpec) []byte {
	var b cryptobyte.Builder
	b.AddUint16(tls.VersionTLS12)
	b.AddBytes(random(s))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(bytes.Repeat([]byte{7}, 32)) })
	b.AddUint16(s.suites[0])
	b.AddUint8(0)
	buildExts(&b, s)
	b.AddBytes(s.trailing)
	return buildMessage(typeServerHello, b.BytesOrPanic())
}

// u16s encodes values as a vector with a length prefix of prefixLen bytes.
func u16s(prefixLen int, vs ...uint16) []byte {
	var b cryptobyte.Builder
	add := func(b *cryptobyte.Builder) {
		for _, v := range vs {
			b.AddUint16(v)
		}
	}
	if prefixLen == 1 {
		b.AddUint8LengthPrefixed(add)
	} else {
		b.AddUint16LengthPrefixed(add)
	}
	return b.BytesOrPanic()
}

func keyShares(groups ...uint16) []byte {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, g := range groups {
			b.AddUint16(g)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(bytes.Repeat([]byte{byte(g)}, 32)) })
		}
	})
	return b.BytesOrPanic()
}

func serverNameExt(name string) []byte {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(0)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(name)) })
	})
	return b.BytesOrPanic()
}

func alpnExt(protos ...string) []byte {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, p := range protos {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(p)) })
		}
	})
	return b.BytesOrPanic()
}

// records splits a handshake byte stream into handshake records of at most
// size bytes of body each.
func records(hs []byte, size int) []byte {
	var out []byte
	for len(hs) > 0 {
		n := min(size, len(hs))
		out = append(out, recordHandshake, 3, 3, byte(n>>8), byte(n))
		out = append(out, hs[:n]...)
		hs = hs[n:]
	}
	return out
}

var fullClientHello = helloSpec{
	suites: []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
	exts: []ext{
		{extServerName, serverNameExt("db.example.com")},
		{extSupportedGroups, u16s(2, 0x0a0a, 4588, 29, 23)},
		{extALPN, alpnExt("postgresql", "h2")},
		{extSupportedVersions, u16s(1, 0x0304, 0x0303)},
		{extKeyShare, keyShares(4588, 29)},
		{0xff01, nil},
	},
}

func TestParseClientHello(t *testing.T) {
	msg := buildClientHello(fullClientHello)
	want := &ClientHello{
		LegacyVersion:     tls.VersionTLS12,
		SupportedVersions: []uint16{0x0304, 0x0303},
		CipherSuites:      []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		SupportedGroups:   []tls.CurveID{0x0a0a, 4588, 29, 23},
		KeyShares:         []tls.CurveID{4588, 29},
		ALPN:              []string{"postgresql", "h2"},
		ServerName:        "db.example.com",
		Extensions:        []uint16{0, 10, 16, 43, 51, 0xff01},
	}
	inputs := map[string][]byte{
		"message":              msg,
		"message and trailing": append(bytes.Clone(msg), 0x16, 3),
		"one record":           records(msg, 1<<14),
		"records of 7 bytes":   records(msg, 7),
		"records of 1 byte":    records(msg, 1),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			got, err := ParseClientHello(in)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ParseClientHello (-want +got):\n%s", d)
			}
		})
	}

	t.Run("no extensions", func(t *testing.T) {
		got, err := ParseClientHello(buildClientHello(helloSpec{suites: []uint16{0x002f}, noExts: true}))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(&ClientHello{LegacyVersion: tls.VersionTLS12, CipherSuites: []uint16{0x002f}}, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
}

func TestParseServerHello(t *testing.T) {
	keyShare := func(g uint16) []byte { return append([]byte{byte(g >> 8), byte(g), 0, 2}, 1, 2) }
	tests := []struct {
		name string
		spec helloSpec
		want *ServerHello
	}{
		{
			name: "TLS 1.3",
			spec: helloSpec{suites: []uint16{tls.TLS_AES_128_GCM_SHA256}, exts: []ext{
				{extSupportedVersions, []byte{3, 4}}, {extKeyShare, keyShare(4588)}}},
			want: &ServerHello{LegacyVersion: 0x0303, Version: 0x0304, CipherSuite: tls.TLS_AES_128_GCM_SHA256,
				Group: 4588, Extensions: []uint16{43, 51}},
		},
		{
			name: "HelloRetryRequest",
			spec: helloSpec{random: helloRetryRequestRandom, suites: []uint16{tls.TLS_AES_256_GCM_SHA384}, exts: []ext{
				{extKeyShare, []byte{0, 23}}, {extSupportedVersions, []byte{3, 4}}}},
			want: &ServerHello{LegacyVersion: 0x0303, Version: 0x0304, CipherSuite: tls.TLS_AES_256_GCM_SHA384,
				HelloRetryRequest: true, Group: tls.CurveP256, Extensions: []uint16{51, 43}},
		},
		{
			name: "TLS 1.2 without extensions",
			spec: helloSpec{suites: []uint16{0xc02b}, noExts: true},
			want: &ServerHello{LegacyVersion: 0x0303, Version: 0x0303, CipherSuite: 0xc02b},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := buildServerHello(tt.spec)
			for _, in := range [][]byte{msg, records(msg, 5)} {
				got, err := ParseServerHello(in)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(tt.want, got); d != "" {
					t.Errorf("ParseServerHello (-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestParseHelloErrors(t *testing.T) {
	ch := buildClientHello(fullClientHello)
	sh := buildServerHello(helloSpec{suites: []uint16{0x1301}, exts: []ext{{extSupportedVersions, []byte{3, 4}}}})
	bad := func(spec helloSpec, e ext) []byte {
		spec.exts = []ext{e}
		return buildClientHello(spec)
	}
	base := helloSpec{suites: []uint16{0x1301}}
	tests := []struct {
		name   string
		server bool
		in     []byte
	}{
		{"empty", false, nil},
		{"application data record", false, []byte{23, 3, 3, 0, 1, 0}},
		{"ServerHello given to ParseClientHello", false, sh},
		{"ClientHello given to ParseServerHello", true, ch},
		{"truncated message", false, ch[:len(ch)-1]},
		{"truncated record", false, records(ch, 1<<14)[:100]},
		{"record header only", false, []byte{22, 3, 1}},
		{"record of another type in the middle", false, append(records(ch[:10], 10), 23, 3, 3, 0, 1, 0)},
		{"bad record version", false, []byte{22, 2, 0, 0, 4, 1, 0, 0, 0}},
		{"huge message", false, []byte{1, 0xff, 0xff, 0xff}},
		{"huge message in records", false, records(append([]byte{1, 0x01, 0x00, 0x01}, make([]byte, 1<<16+1)...), 1<<14)},
		{"empty body", false, []byte{1, 0, 0, 0}},
		{"odd cipher suites", false, buildMessage(typeClientHello, append(append([]byte{3, 3}, make([]byte, 33)...), 0, 3, 0, 1, 2, 1, 0))},
		{"trailing bytes after extensions", false, buildClientHello(helloSpec{suites: []uint16{1}, trailing: []byte{0}})},
		{"bad supported_groups", false, bad(base, ext{extSupportedGroups, []byte{0, 3, 0, 1, 2}})},
		{"bad key_share", false, bad(base, ext{extKeyShare, []byte{0, 4, 0, 29, 0, 9}})},
		{"bad supported_versions", false, bad(base, ext{extSupportedVersions, []byte{3, 3, 4, 0}})},
		{"empty ALPN protocol", false, bad(base, ext{extALPN, []byte{0, 1, 0}})},
		{"bad server_name", false, bad(base, ext{extServerName, []byte{0, 5, 0, 0, 9}})},
		{"extension overruns", false, buildClientHello(helloSpec{suites: []uint16{1}, noExts: true, trailing: []byte{0, 10, 0, 10}})},
		{"ServerHello bad key_share", true, buildServerHello(helloSpec{suites: []uint16{0x1301}, exts: []ext{{extKeyShare, []byte{0, 29, 0, 5}}}})},
		{"HelloRetryRequest key_share with a key", true, buildServerHello(helloSpec{random: helloRetryRequestRandom, suites: []uint16{0x1301}, exts: []ext{{extKeyShare, []byte{0, 29, 0, 1, 9}}}})},
		{"ServerHello bad supported_versions", true, buildServerHello(helloSpec{suites: []uint16{0x1301}, exts: []ext{{extSupportedVersions, []byte{3}}}})},
		{"ServerHello truncated", true, sh[:40]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.server {
				_, err = ParseServerHello(tt.in)
			} else {
				_, err = ParseClientHello(tt.in)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want a *ParseError", err)
			}
		})
	}
}

func TestParseECDHEServerKeyExchange(t *testing.T) {
	point := bytes.Repeat([]byte{4}, 65)
	ecdhe := func(tail ...byte) []byte {
		b := append([]byte{3, 0, 23, byte(len(point))}, point...)
		return append(b, tail...)
	}
	tests := []struct {
		name string
		in   []byte
		want tls.CurveID
		ok   bool
	}{
		{"TLS 1.2 signed", ecdhe(4, 3, 0, 2, 9, 9), tls.CurveP256, true},
		{"TLS 1.0 signed", ecdhe(0, 2, 9, 9), tls.CurveP256, true},
		{"anonymous", ecdhe(), tls.CurveP256, true},
		{"signature overruns", ecdhe(4, 3, 0, 9, 9), 0, false},
		{"explicit curve", append([]byte{1}, ecdhe()[1:]...), 0, false},
		// A DHE ServerKeyExchange with a 768-byte prime also starts with 3.
		{"DHE with a 6144-bit prime", append([]byte{3, 0}, bytes.Repeat([]byte{0xff}, 768)...), 0, false},
		{"empty", nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := parseECDHEServerKeyExchange(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: got %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
