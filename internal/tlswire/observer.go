// This file holds the Observer, which follows the bytes one side of a TLS
// connection sends, record by record, up to the point where the handshake
// becomes encrypted.

package tlswire

import (
	"crypto/tls"
	"sync/atomic"
)

// Side names the end of a TLS connection whose bytes an [Observer] sees.
type Side uint8

const (
	// Client is the side that sends the ClientHello.
	Client Side = iota + 1
	// Server is the side that sends the ServerHello.
	Server
)

func (s Side) String() string {
	switch s {
	case Client:
		return "client"
	case Server:
		return "server"
	}
	return "Side(?)"
}

// Observer reads the bytes one side of a TLS connection sends, as they
// cross the wire, and records the plaintext part of the handshake: the
// ClientHello messages (two after a HelloRetryRequest) or the ServerHello
// and HelloRetryRequest messages, and, in TLS 1.2, the group of the
// server's ECDHE ServerKeyExchange.
//
// Write it the bytes of one direction in order, in chunks of any size:
// records may be split across writes or share one, and handshake messages
// may be fragmented across records. Memory stays bounded whatever it is
// fed: it keeps at most one handshake message of interest (up to 64 KiB) and
// skips the others.
//
// Observation ends, after which Write does nothing but return, at the
// first of:
//   - the end of the first encrypted record: in TLS 1.3 the records after
//     the ServerHello (server side) or after the ClientHello messages
//     (client side, where the first is the Finished unless the client sends
//     a certificate); in TLS 1.2 the record after ChangeCipherSpec, which
//     holds the Finished. Nothing encrypted is parsed; only the first
//     encrypted record's header is read, to find where it ends.
//   - malformed input, reported by Err.
//
// Parsing stops at the encryption point, so a long session costs one
// branch per Write.
//
// An Observer is not safe for concurrent use, except that Done may be
// called at any time, and once Done reports true the other methods may be
// called concurrently with further Writes, which no longer touch it.
type Observer struct {
	side Side
	done atomic.Bool
	pos  int64 // bytes written so far

	// PostgreSQL's negotiation before TLS (NewPostgresObserver): pg while
	// reading it, pre the bytes read, tlsAt where TLS starts.
	pg    bool
	pre   []byte
	tlsAt int64

	// Record layer: the header being read, then the record's body.
	hdr      [recordHeaderLen]byte
	hdrN     int
	recType  uint8
	recStart int64
	recLeft  int

	// Handshake layer, fed with the bodies of handshake records.
	msgHdr   [handshakeHeaderLen]byte
	msgHdrN  int
	msgType  uint8
	msgLeft  int
	msgKeep  bool
	msg      []byte
	msgStart int64 // offsets of the record the message started in
	msgEnd   int64

	framing     bool // encrypted: only looking for the end of the first encrypted record
	encrypted   bool
	encAt       int64
	encEnd      int64
	ccs         bool // a ChangeCipherSpec was seen (client side)
	otherMsgs   bool // client side: a handshake message other than a ClientHello was seen
	tls12       bool // server side: a ServerHello below TLS 1.3 was seen
	hrr         bool
	helloEnd    int64
	records     int
	clientHello []ClientHello
	serverHello []ServerHello
	version     uint16
	group       tls.CurveID
	err         error
}

// NewObserver returns an Observer of the bytes that side sends, which
// start with TLS; see [NewPostgresObserver] for a PostgreSQL connection.
func NewObserver(side Side) *Observer {
	return &Observer{side: side}
}

// Side reports whose bytes the Observer reads.
func (o *Observer) Side() Side { return o.side }

// Write observes p. It never fails and always returns len(p), nil, so that
// an Observer can be the writer of an io.TeeReader or io.MultiWriter.
func (o *Observer) Write(p []byte) (int, error) {
	n := len(p)
	if o.done.Load() {
		return n, nil
	}
	for len(p) > 0 && !o.done.Load() {
		if o.pg {
			p = p[o.preamble(p):]
			continue
		}
		if o.recLeft == 0 {
			k, full := fill(o.hdr[:], &o.hdrN, p)
			o.pos += int64(k)
			p = p[k:]
			if !full {
				break
			}
			o.startRecord()
			continue
		}
		k := min(len(p), o.recLeft)
		o.recLeft -= k
		o.recordBody(p[:k])
		p = p[k:]
		if o.recLeft == 0 && !o.done.Load() {
			o.endRecord()
		}
	}
	return n, nil
}

// fill copies the start of p into hdr, a header of which *n bytes are
// read already, and returns the number of bytes it took and whether hdr is
// now complete, in which case *n is reset for the next header.
func fill(hdr []byte, n *int, p []byte) (int, bool) {
	k := copy(hdr[*n:], p)
	*n += k
	if *n < len(hdr) {
		return k, false
	}
	*n = 0
	return k, true
}

// startRecord acts on the record header just read.
func (o *Observer) startRecord() {
	typ := o.hdr[0]
	n := int(o.hdr[3])<<8 | int(o.hdr[4])
	o.recType, o.recStart, o.recLeft = typ, o.pos-recordHeaderLen, n
	o.records++
	if o.hdr[1] != 3 {
		o.fail("record version is not TLS")
		return
	}
	if n > maxRecordLen {
		o.fail("record too long")
		return
	}
	if o.records == 1 && typ != recordHandshake && (o.side == Client || typ != recordAlert) {
		// A server may refuse a ClientHello with an alert; anything else
		// that starts a stream is not TLS.
		o.fail("the stream does not start with a TLS handshake record")
		return
	}
	inMessage := o.msgHdrN > 0 || o.msgLeft > 0
	switch {
	case !o.framing && inMessage && typ != recordHandshake:
		if o.side == Client && o.ccs {
			// What looked like the start of a second ClientHello was the
			// encrypted Finished.
			o.encryptAt(o.msgStart, o.msgEnd)
			return
		}
		// RFC 8446, 5.1: handshake messages are not interleaved with
		// other records.
		o.fail("handshake message interrupted by another record")
		return
	case o.framing:
		if typ == recordChangeCipherSpec && o.encEnd == 0 {
			break // TLS 1.3's compatibility ChangeCipherSpec is not encrypted
		}
		if o.encEnd == 0 {
			o.encEnd = o.recStart + recordHeaderLen + int64(n)
		}
	case typ == recordHandshake:
		if o.side == Client && o.ccs && (o.otherMsgs || !o.mayRetry()) {
			// After its ChangeCipherSpec, a client that cannot be answering
			// a HelloRetryRequest sends its encrypted Finished.
			o.encryptAt(o.recStart, o.recStart+recordHeaderLen+int64(n))
		}
	case typ == recordChangeCipherSpec:
		switch o.side {
		case Client:
			o.ccs = true // handled at the record's end, see endRecord
		case Server:
			if !o.tls12 && !o.hrr {
				o.fail("ChangeCipherSpec before the ServerHello")
			}
		}
	case typ == recordApplicationData:
		o.encryptAt(o.recStart, o.recStart+recordHeaderLen+int64(n))
	case typ == recordAlert:
	default:
		o.fail("record of unknown content type")
		return
	}
	if o.recLeft == 0 && !o.done.Load() {
		o.endRecord()
	}
}

// mayRetry reports whether a handshake record after the client's
// ChangeCipherSpec can be a second ClientHello: the client has sent one
// ClientHello offering TLS 1.3 and nothing else.
func (o *Observer) mayRetry() bool {
	if len(o.clientHello) != 1 {
		return false
	}
	for _, v := range o.clientHello[0].SupportedVersions {
		if v >= tls.VersionTLS13 {
			return true
		}
	}
	return false
}

// endRecord acts on the end of the current record.
func (o *Observer) endRecord() {
	end := o.pos
	switch {
	case o.framing:
		if o.encEnd != 0 && end >= o.encEnd {
			o.stop()
		}
	case o.recType == recordChangeCipherSpec:
		if (o.side == Server && o.tls12) || (o.side == Client && o.otherMsgs) {
			// TLS 1.2: everything after ChangeCipherSpec is encrypted.
			o.encryptAt(end, 0)
		}
	}
}

// recordBody observes part of the current record's body.
func (o *Observer) recordBody(p []byte) {
	end := o.pos + int64(len(p))
	if !o.framing && o.recType == recordHandshake {
		o.handshakeBytes(p)
	}
	o.pos = end
}

// handshakeBytes feeds p, part of a handshake record's body, to the
// handshake message layer. It advances o.pos over what it consumed.
func (o *Observer) handshakeBytes(p []byte) {
	for len(p) > 0 && !o.framing && !o.done.Load() {
		if o.msgLeft == 0 {
			if o.msgHdrN == 0 {
				o.msgStart, o.msgEnd = o.recStart, o.pos+int64(o.recLeft)+int64(len(p))
			}
			k, full := fill(o.msgHdr[:], &o.msgHdrN, p)
			o.pos += int64(k)
			p = p[k:]
			if !full {
				return
			}
			o.startMessage()
			continue
		}
		k := min(len(p), o.msgLeft)
		if o.msgKeep {
			o.msg = append(o.msg, p[:k]...)
		}
		o.msgLeft -= k
		o.pos += int64(k)
		p = p[k:]
		if o.msgLeft == 0 {
			o.endMessage()
		}
	}
}

// startMessage acts on the handshake message header just read.
func (o *Observer) startMessage() {
	typ := o.msgHdr[0]
	n := int(o.msgHdr[1])<<16 | int(o.msgHdr[2])<<8 | int(o.msgHdr[3])
	o.msgType, o.msgLeft, o.msg = typ, n, o.msg[:0]
	switch o.side {
	case Client:
		if o.ccs && (typ != typeClientHello || n > maxHandshakeLen) {
			o.encryptAt(o.msgStart, o.msgEnd)
			return
		}
		o.msgKeep = typ == typeClientHello
		if !o.msgKeep {
			o.otherMsgs = true
		}
	case Server:
		o.msgKeep = typ == typeServerHello || (typ == typeServerKeyExchange && o.tls12)
	}
	if o.msgKeep && n > maxHandshakeLen {
		o.fail("handshake message too long")
		return
	}
	if n == 0 {
		o.endMessage()
	}
}

// endMessage acts on the handshake message just completed.
func (o *Observer) endMessage() {
	if !o.msgKeep {
		return
	}
	body := o.msg
	switch {
	case o.side == Client && o.msgType == typeClientHello:
		ch, err := parseClientHello(body)
		if err != nil {
			if o.ccs {
				// Encrypted bytes that happened to look like the start of
				// a ClientHello.
				o.encryptAt(o.msgStart, o.msgEnd)
				return
			}
			o.failErr(err)
			return
		}
		if len(o.clientHello) == 2 {
			o.fail("more than two ClientHello messages")
			return
		}
		o.clientHello = append(o.clientHello, *ch)
		o.helloEnd = o.pos
	case o.side == Server && o.msgType == typeServerHello:
		sh, err := parseServerHello(body)
		if err != nil {
			o.failErr(err)
			return
		}
		if o.tls12 || (o.hrr && sh.HelloRetryRequest) {
			o.fail("unexpected ServerHello")
			return
		}
		o.serverHello = append(o.serverHello, *sh)
		o.helloEnd = o.pos
		switch {
		case sh.HelloRetryRequest:
			o.hrr = true
		case sh.Version >= tls.VersionTLS13:
			o.version, o.group = sh.Version, sh.Group
			o.encryptAt(o.pos, 0)
		default:
			o.version = sh.Version
			o.tls12 = true
		}
	case o.side == Server && o.msgType == typeServerKeyExchange:
		if g, ok := parseECDHEServerKeyExchange(body); ok {
			o.group = g
		}
	}
	o.msg = o.msg[:0]
}

// encryptAt records that the bytes from offset at on are encrypted and
// switches to framing. end is the end of the first encrypted record when
// known already, else zero.
func (o *Observer) encryptAt(at, end int64) {
	o.encrypted, o.framing, o.encAt, o.encEnd = true, true, at, end
	o.msgLeft, o.msgHdrN = 0, 0
	if cap(o.msg) > 4096 {
		o.msg = nil // the session may last; keep no large buffer alive
	}
	if end != 0 && o.pos >= end {
		o.stop()
	}
}

func (o *Observer) fail(msg string) { o.failErr(parseErr(msg)) }

func (o *Observer) failErr(err error) {
	o.err = err
	o.stop()
}

func (o *Observer) stop() {
	o.msg = nil
	o.done.Store(true)
}

// Done reports whether observation has ended: the first encrypted record
// has passed, or the input was malformed (see Err). It is safe to call
// concurrently with Write.
func (o *Observer) Done() bool { return o.done.Load() }

// Err returns the reason the input could not be parsed, a *[ParseError],
// or nil.
func (o *Observer) Err() error { return o.err }

// Encrypted reports whether the handshake was seen to become encrypted.
func (o *Observer) Encrypted() bool { return o.encrypted }

// EncryptedAt returns the offset in the stream (counted from the first byte
// written) of the first encrypted byte: just past the ServerHello in TLS
// 1.3, just past ChangeCipherSpec in TLS 1.2, the start of the first
// encrypted record on a TLS 1.3 client's side. It is 0 until Encrypted.
func (o *Observer) EncryptedAt() int64 { return o.encAt }

// EncryptedRecordEnd returns the offset just past the first encrypted
// record, or 0 until it has passed. On the client's side that record holds
// the client's Finished (unless the client sends a certificate in TLS
// 1.3), which ends the handshake.
func (o *Observer) EncryptedRecordEnd() int64 {
	if o.encEnd != 0 && o.pos >= o.encEnd {
		return o.encEnd
	}
	return 0
}

// HelloEnd returns the offset just past the last ClientHello or ServerHello
// message seen (the last HelloRetryRequest before its ServerHello), or 0.
func (o *Observer) HelloEnd() int64 { return o.helloEnd }

// ClientHellos returns the ClientHello messages seen on the client's side:
// one, or two after a HelloRetryRequest. The slice is the Observer's own.
func (o *Observer) ClientHellos() []ClientHello { return o.clientHello }

// ServerHellos returns the ServerHello and HelloRetryRequest messages seen
// on the server's side, in order. The slice is the Observer's own.
func (o *Observer) ServerHellos() []ServerHello { return o.serverHello }

// HelloRetryRequest reports whether the server sent a HelloRetryRequest.
func (o *Observer) HelloRetryRequest() bool { return o.hrr }

// Version returns the version the server chose in its ServerHello (not a
// HelloRetryRequest), or 0 before it.
func (o *Observer) Version() uint16 { return o.version }

// Group returns the key exchange group of the handshake as the server's
// side shows it: the key_share group of the TLS 1.3 ServerHello, or the
// named curve of a TLS 1.2 ECDHE ServerKeyExchange. It is 0 when not seen
// (before it, or for a TLS 1.2 key exchange without ECDHE).
func (o *Observer) Group() tls.CurveID { return o.group }
