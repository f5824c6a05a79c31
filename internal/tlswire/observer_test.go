package tlswire

import (
	"bytes"
	"errors"
	"testing"
)

func record(typ uint8, body ...byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	testCH    = buildClientHello(fullClientHello)
	testCH12  = buildClientHello(helloSpec{suites: []uint16{0xc02b}, exts: []ext{{extSupportedGroups, u16s(2, 29, 23)}}})
	testHRR   = buildServerHello(helloSpec{random: helloRetryRequestRandom, suites: []uint16{0x1301}, exts: []ext{{extSupportedVersions, []byte{3, 4}}, {extKeyShare, []byte{0, 23}}}})
	testSH13  = buildServerHello(helloSpec{suites: []uint16{0x1301}, exts: []ext{{extSupportedVersions, []byte{3, 4}}, {extKeyShare, []byte{0, 23, 0, 1, 4}}}})
	testSH12  = buildServerHello(helloSpec{suites: []uint16{0xc02b}, noExts: true})
	testCCS   = record(recordChangeCipherSpec, 1)
	testAppl  = record(recordApplicationData, 1, 2, 3, 4)
	testAlert = record(recordAlert, 2, 40)
)

func TestObserverStreams(t *testing.T) {
	tests := []struct {
		name       string
		side       Side
		stream     []byte
		done       bool
		err        bool
		hellos     int
		encAt      int64 // -1: not encrypted
		encEnd     int64
		wantHRR    bool
		wantGroup  uint16
		wantVerson uint16
	}{
		{name: "client TLS 1.3", side: Client, stream: cat(records(testCH, 100), testCCS, testAppl, testAppl),
			done: true, hellos: 1, encAt: int64(len(records(testCH, 100)) + 6), encEnd: int64(len(records(testCH, 100)) + 6 + 9)},
		{name: "client after a HelloRetryRequest", side: Client, stream: cat(records(testCH, 1<<14), testCCS, records(testCH, 1<<14), testAppl),
			done: true, hellos: 2, encAt: int64(2*(len(testCH)+5) + 6), encEnd: int64(2*(len(testCH)+5) + 6 + 9)},
		{name: "client TLS 1.2", side: Client, stream: cat(records(testCH12, 1<<14), record(recordHandshake, 16, 0, 0, 1, 9), testCCS, record(recordHandshake, 0x99, 0x88), testAppl),
			done: true, hellos: 1, encAt: int64(len(testCH12) + 5 + 10 + 6), encEnd: int64(len(testCH12) + 5 + 10 + 6 + 7)},
		{name: "client TLS 1.2 abbreviated, Finished like a ClientHello", side: Client,
			stream: cat(records(testCH, 1<<14), testCCS, record(recordHandshake, 1, 0, 0, 2, 0xaa, 0xbb)),
			done:   true, hellos: 1, encAt: int64(len(testCH) + 5 + 6), encEnd: int64(len(testCH) + 5 + 6 + 11)},
		{name: "client TLS 1.2 abbreviated, Finished like a long ClientHello", side: Client,
			stream: cat(records(testCH, 1<<14), testCCS, record(recordHandshake, 1, 0, 0, 200, 0xaa, 0xbb), testAppl),
			done:   true, hellos: 1, encAt: int64(len(testCH) + 5 + 6), encEnd: int64(len(testCH) + 5 + 6 + 11)},
		{name: "client still in the handshake", side: Client, stream: records(testCH, 1<<14)[:50], encAt: -1},
		{name: "client sends a plaintext alert", side: Client, stream: cat(records(testCH, 1<<14), testAlert), hellos: 1, encAt: -1},
		{name: "server TLS 1.3", side: Server, stream: cat(records(testSH13, 1<<14), testCCS, testAppl, testAppl),
			done: true, hellos: 1, encAt: int64(len(testSH13) + 5), encEnd: int64(len(testSH13) + 5 + 6 + 9), wantGroup: 23, wantVerson: 0x0304},
		{name: "server HelloRetryRequest then ServerHello", side: Server, stream: cat(records(testHRR, 1<<14), testCCS, records(testSH13, 7), testAppl),
			done: true, hellos: 2, encAt: int64(len(testHRR) + 5 + 6 + len(records(testSH13, 7))), encEnd: int64(len(testHRR) + 5 + 6 + len(records(testSH13, 7)) + 9),
			wantHRR: true, wantGroup: 23, wantVerson: 0x0304},
		{name: "server refuses with an alert", side: Server, stream: testAlert, encAt: -1},
		{name: "server HelloRetryRequest only", side: Server, stream: cat(records(testHRR, 1<<14), testCCS), hellos: 1, encAt: -1, wantHRR: true},
		{name: "server TLS 1.2 with a large certificate", side: Server,
			stream: cat(records(testSH12, 1<<14), records(cat([]byte{11, 0x0f, 0, 0}, make([]byte, 0x0f0000)), 1<<14),
				records([]byte{14, 0, 0, 0}, 10), testCCS, record(recordHandshake, 0x42, 0x42), testAppl),
			done: true, hellos: 1, wantVerson: 0x0303,
			encAt:  int64(len(testSH12) + 5 + len(records(make([]byte, 0x0f0004), 1<<14)) + 9 + 6),
			encEnd: int64(len(testSH12) + 5 + len(records(make([]byte, 0x0f0004), 1<<14)) + 9 + 6 + 7)},
		{name: "server TLS 1.2 zero-length encrypted record", side: Server, stream: cat(records(testSH12, 1<<14), testCCS, record(recordHandshake)),
			done: true, hellos: 1, wantVerson: 0x0303, encAt: int64(len(testSH12) + 5 + 6), encEnd: int64(len(testSH12) + 5 + 6 + 5)},

		{name: "not TLS", side: Client, stream: []byte("GET / HTTP/1.1\r\n\r\n"), done: true, err: true, encAt: -1},
		{name: "client starts with an alert", side: Client, stream: testAlert, done: true, err: true, encAt: -1},
		{name: "record version", side: Client, stream: []byte{22, 2, 0, 0, 0}, done: true, err: true, encAt: -1},
		{name: "record too long", side: Client, stream: []byte{22, 3, 1, 0xff, 0xff}, done: true, err: true, encAt: -1},
		{name: "unknown content type", side: Server, stream: cat(records(testSH12, 1<<14), record(99, 1)), done: true, err: true, hellos: 1, encAt: -1, wantVerson: 0x0303},
		{name: "ChangeCipherSpec inside a message", side: Client, stream: cat(records(testCH[:10], 1<<14), testCCS), done: true, err: true, encAt: -1},
		{name: "server ChangeCipherSpec first", side: Server, stream: cat(record(recordAlert, 1, 0), testCCS), done: true, err: true, encAt: -1},
		{name: "three ClientHellos", side: Client, stream: records(cat(testCH, testCH, testCH), 1<<14), done: true, err: true, hellos: 2, encAt: -1},
		{name: "two HelloRetryRequests", side: Server, stream: records(cat(testHRR, testHRR), 1<<14), done: true, err: true, hellos: 1, encAt: -1, wantHRR: true},
		{name: "ServerHello after a TLS 1.2 ServerHello", side: Server, stream: records(cat(testSH12, testSH12), 1<<14), done: true, err: true, hellos: 1, encAt: -1, wantVerson: 0x0303},
		{name: "malformed ClientHello", side: Client, stream: records([]byte{1, 0, 0, 2, 3, 3}, 1<<14), done: true, err: true, encAt: -1},
		{name: "malformed ServerHello", side: Server, stream: records([]byte{2, 0, 0, 2, 3, 3}, 1<<14), done: true, err: true, encAt: -1},
		{name: "huge ClientHello", side: Client, stream: records([]byte{1, 0x01, 0, 1}, 10), done: true, err: true, encAt: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, sizes := range chunkings {
				o := feed(tt.side, tt.stream, sizes...)
				if o.Done() != tt.done {
					t.Errorf("chunks %v: Done = %v, want %v", sizes, o.Done(), tt.done)
				}
				var pe *ParseError
				if err := o.Err(); (err != nil) != tt.err || (err != nil && !errors.As(err, &pe)) {
					t.Errorf("chunks %v: Err = %v, want error: %v", sizes, err, tt.err)
				}
				n := len(o.ClientHellos()) + len(o.ServerHellos())
				if n != tt.hellos {
					t.Errorf("chunks %v: %d hellos, want %d", sizes, n, tt.hellos)
				}
				if tt.encAt < 0 {
					if o.Encrypted() {
						t.Errorf("chunks %v: Encrypted at %d", sizes, o.EncryptedAt())
					}
				} else if !o.Encrypted() || o.EncryptedAt() != tt.encAt || o.EncryptedRecordEnd() != tt.encEnd {
					t.Errorf("chunks %v: Encrypted %v at %d ending %d, want at %d ending %d",
						sizes, o.Encrypted(), o.EncryptedAt(), o.EncryptedRecordEnd(), tt.encAt, tt.encEnd)
				}
				if o.HelloRetryRequest() != tt.wantHRR || uint16(o.Group()) != tt.wantGroup || o.Version() != tt.wantVerson {
					t.Errorf("chunks %v: HRR %v group %v version %x, want %v %v %x", sizes,
						o.HelloRetryRequest(), o.Group(), o.Version(), tt.wantHRR, tt.wantGroup, tt.wantVerson)
				}
				if cap(o.msg) > handshakeHeaderLen+maxHandshakeLen {
					t.Errorf("chunks %v: message buffer of %d bytes", sizes, cap(o.msg))
				}
			}
		})
	}
}

func TestObserverServerKeyExchange(t *testing.T) {
	point := bytes.Repeat([]byte{4}, 65)
	ske := cat([]byte{12, 0, 0, byte(4 + len(point) + 6), 3, 0, 24, byte(len(point))}, point, []byte{4, 3, 0, 2, 9, 9})
	o := feed(Server, cat(records(cat(testSH12, ske), 1<<14), testCCS), 3)
	if o.Err() != nil || o.Group() != 24 {
		t.Fatalf("err %v, group %v; want P-384", o.Err(), GroupName(o.Group()))
	}
	// The same bytes from a TLS 1.3 server are not a ServerKeyExchange.
	o = feed(Server, cat(records(cat(testHRR, ske), 1<<14)), 3)
	if o.Group() != 0 {
		t.Fatalf("group %v after a HelloRetryRequest", GroupName(o.Group()))
	}
}

func TestConnObservesBothWays(t *testing.T) {
	cp, sp := tcpPipe(t)
	c := NewConn(cp, Server)
	go func() {
		sp.Write(records(testCH, 1<<14))
	}()
	buf := make([]byte, len(testCH)+5)
	for n := 0; n < len(buf); {
		k, err := c.Read(buf[n:])
		if err != nil {
			t.Fatal(err)
		}
		n += k
	}
	if _, err := c.Write(records(testSH13, 1<<14)); err != nil {
		t.Fatal(err)
	}
	if len(c.Client.ClientHellos()) != 1 || len(c.Server.ServerHellos()) != 1 || !c.Server.Encrypted() {
		t.Fatalf("client saw %d ClientHellos, server %d ServerHellos", len(c.Client.ClientHellos()), len(c.Server.ServerHellos()))
	}
	if c.Client.Side() != Client || c.Server.Side() != Server || Side(9).String() != "Side(?)" {
		t.Fatal("sides mixed up")
	}
}
