package tlswire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// startupPacket returns an 8-byte PostgreSQL request of the given code.
func startupPacket(length, code uint32) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint32(b, length)
	binary.BigEndian.PutUint32(b[4:], code)
	return b
}

var (
	testSSLRequest = startupPacket(8, SSLRequestCode)
	testGSSRequest = startupPacket(8, GSSENCRequestCode)
	testStartup    = startupPacket(40, 196608)
)

func TestPostgresObserver(t *testing.T) {
	chStream := cat(records(testCH, 100), testCCS, testAppl)
	shStream := cat(records(testSH13, 1<<14), testCCS, testAppl)
	tests := []struct {
		name     string
		side     Side
		stream   []byte
		preamble []byte
		tlsStart int64 // -1: TLS never starts
		err      bool
		hellos   int
	}{
		{name: "SSLRequest", side: Client, stream: cat(testSSLRequest, chStream), preamble: testSSLRequest, tlsStart: 8, hellos: 1},
		{name: "GSSENCRequest then SSLRequest", side: Client, stream: cat(testGSSRequest, testSSLRequest, chStream),
			preamble: cat(testGSSRequest, testSSLRequest), tlsStart: 16, hellos: 1},
		{name: "direct ClientHello", side: Client, stream: chStream, tlsStart: 0, hellos: 1},
		{name: "SSLRequest only", side: Client, stream: testSSLRequest, preamble: testSSLRequest, tlsStart: 8},
		{name: "half an SSLRequest", side: Client, stream: testSSLRequest[:5], preamble: testSSLRequest[:5], tlsStart: -1},
		{name: "startup message", side: Client, stream: testStartup, preamble: testStartup, tlsStart: -1, err: true},
		{name: "two GSSENCRequests", side: Client, stream: cat(testGSSRequest, testGSSRequest), preamble: cat(testGSSRequest, testGSSRequest), tlsStart: -1, err: true},
		{name: "plaintext after a refused SSLRequest", side: Client, stream: cat(testSSLRequest, testStartup), preamble: testSSLRequest, tlsStart: 8, err: true},
		{name: "SSLRequest of the wrong length", side: Client, stream: startupPacket(9, SSLRequestCode), preamble: startupPacket(9, SSLRequestCode), tlsStart: -1, err: true},

		{name: "answer S", side: Server, stream: cat([]byte("S"), shStream), preamble: []byte("S"), tlsStart: 1, hellos: 1},
		{name: "answers N then S", side: Server, stream: cat([]byte("NS"), shStream), preamble: []byte("NS"), tlsStart: 2, hellos: 1},
		{name: "direct ServerHello", side: Server, stream: shStream, tlsStart: 0, hellos: 1},
		{name: "direct alert", side: Server, stream: testAlert, tlsStart: 0},
		{name: "answer N", side: Server, stream: []byte("N"), preamble: []byte("N"), tlsStart: -1},
		{name: "answer N then plaintext", side: Server, stream: []byte("NR\x00\x00\x00\x08"), preamble: []byte("NR"), tlsStart: -1, err: true},
		{name: "answers N N", side: Server, stream: []byte("NN"), preamble: []byte("NN"), tlsStart: -1, err: true},
		{name: "answer G", side: Server, stream: []byte("G"), preamble: []byte("G"), tlsStart: -1, err: true},
		{name: "error response", side: Server, stream: []byte("E\x00\x00\x00\x10"), preamble: []byte("E"), tlsStart: -1, err: true},
		{name: "TLS after N", side: Server, stream: cat([]byte("N"), shStream), preamble: []byte("N\x16"), tlsStart: -1, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, sizes := range chunkings {
				o := feedTo(NewPostgresObserver(tt.side), tt.stream, sizes...)
				if !bytes.Equal(o.Preamble(), tt.preamble) || o.TLSStart() != tt.tlsStart {
					t.Errorf("chunks %v: preamble %q, TLS at %d; want %q, %d", sizes, o.Preamble(), o.TLSStart(), tt.preamble, tt.tlsStart)
				}
				var pe *ParseError
				if err := o.Err(); (err != nil) != tt.err || (err != nil && !errors.As(err, &pe)) {
					t.Errorf("chunks %v: Err = %v, want error: %v", sizes, err, tt.err)
				}
				if n := len(o.ClientHellos()) + len(o.ServerHellos()); n != tt.hellos {
					t.Errorf("chunks %v: %d hellos, want %d", sizes, n, tt.hellos)
				}
			}
		})
	}
}

// TestPostgresObserverOffsets checks that offsets count the negotiation:
// the observation of a stream after an SSLRequest is that of the bare TLS
// stream shifted by the request's length.
func TestPostgresObserverOffsets(t *testing.T) {
	stream := cat(records(testHRR, 1<<14), testCCS, records(testSH13, 7), testAppl)
	bare := feed(Server, stream, 3)
	o := NewPostgresObserver(Server)
	o.Write(cat([]byte("NS"), stream))
	if o.Err() != nil || !o.Done() {
		t.Fatalf("err %v, done %v", o.Err(), o.Done())
	}
	if o.HelloEnd() != bare.HelloEnd()+2 || o.EncryptedAt() != bare.EncryptedAt()+2 || o.EncryptedRecordEnd() != bare.EncryptedRecordEnd()+2 {
		t.Errorf("offsets %d %d %d, want those of the bare stream %d %d %d plus 2", o.HelloEnd(), o.EncryptedAt(), o.EncryptedRecordEnd(),
			bare.HelloEnd(), bare.EncryptedAt(), bare.EncryptedRecordEnd())
	}
	if !o.HelloRetryRequest() || o.Group() != bare.Group() {
		t.Errorf("HRR %v, group %v", o.HelloRetryRequest(), GroupName(o.Group()))
	}
	if bare.TLSStart() != 0 || bare.Preamble() != nil {
		t.Errorf("NewObserver: TLSStart %d, preamble %q", bare.TLSStart(), bare.Preamble())
	}
}
