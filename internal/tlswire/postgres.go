// This file holds the Observer of a PostgreSQL connection, which skips the
// negotiation in the clear (SSLRequest, GSSENCRequest) before reading TLS.

package tlswire

import (
	"encoding/binary"
	"fmt"
)

// PostgreSQL's request codes that may precede TLS on a connection (the
// protocol's "Message Formats").
const (
	SSLRequestCode    = 80877103
	GSSENCRequestCode = 80877104
)

// NewPostgresObserver returns an Observer of the bytes side sends on a
// PostgreSQL connection, where TLS starts after a negotiation in the
// clear: the client's 8-byte SSLRequest, optionally preceded by a
// GSSENCRequest, and the server's one-byte answers to them ('N' to the
// GSSENCRequest, 'S' to the SSLRequest). The Observer skips that
// negotiation, which [Observer.Preamble] returns, and then reads TLS as
// [NewObserver]'s does. A stream that starts with a TLS record is read as
// TLS at once, as PostgreSQL 17 servers accept from clients with
// sslnegotiation=direct.
//
// A negotiation that does not end in TLS (an 'N' to the SSLRequest, 'G'
// to the GSSENCRequest, a startup message) ends observation with a
// *[ParseError]. Offsets the Observer reports count from the first byte
// written, negotiation included.
func NewPostgresObserver(side Side) *Observer {
	return &Observer{side: side, pg: true, tlsAt: -1}
}

// preamble reads PostgreSQL's negotiation from p, which is not empty, and
// returns the number of bytes it consumed. It leaves the first TLS byte
// unread and ends preamble mode where TLS starts.
func (o *Observer) preamble(p []byte) int {
	if len(o.pre) == 0 && (p[0] == recordHandshake || (o.side == Server && p[0] == recordAlert)) {
		// Direct TLS; the server may refuse the ClientHello with an alert.
		o.startTLS()
		return 0
	}
	if o.side == Server {
		return o.serverPreamble(p[0])
	}
	k := min(len(p), 8-len(o.pre)%8)
	o.pre = append(o.pre, p[:k]...)
	o.pos += int64(k)
	if len(o.pre)%8 != 0 {
		return k
	}
	pkt := o.pre[len(o.pre)-8:]
	length, code := binary.BigEndian.Uint32(pkt), binary.BigEndian.Uint32(pkt[4:])
	switch {
	case length == 8 && code == SSLRequestCode:
		o.startTLS()
	case length == 8 && code == GSSENCRequestCode && len(o.pre) == 8:
		// Refused or not, an SSLRequest may follow.
	default:
		o.fail(fmt.Sprintf("the client sent a startup packet of length %d and code %d, not an SSLRequest", length, code))
	}
	return k
}

// serverPreamble reads b, a byte of the server's answers, and returns 1.
func (o *Observer) serverPreamble(b byte) int {
	o.pre = append(o.pre, b)
	o.pos++
	switch {
	case b == 'S':
		o.startTLS()
	case b == 'N' && len(o.pre) == 1:
		// The answer to a GSSENCRequest, or a refused SSLRequest: the next
		// byte tells.
	case len(o.pre) > 1:
		o.fail(fmt.Sprintf("the server refused TLS: it answered %q", o.pre))
	default:
		o.fail(fmt.Sprintf("the server's first byte %q is neither an answer to SSLRequest nor a TLS record", b))
	}
	return 1
}

// startTLS records that TLS starts at the current offset.
func (o *Observer) startTLS() {
	o.pg, o.tlsAt = false, o.pos
}

// Preamble returns the PostgreSQL negotiation the Observer of
// [NewPostgresObserver] skipped before TLS: from the client, the
// GSSENCRequest and SSLRequest packets; from the server, the answers to
// them. When the negotiation did not end in TLS, it ends with the byte or
// packet that showed it. The slice is the Observer's own.
func (o *Observer) Preamble() []byte { return o.pre }

// TLSStart returns the offset of the first TLS byte: 0 for an Observer of
// [NewObserver], the length of the negotiation for one of
// [NewPostgresObserver], -1 while that negotiation has not ended in TLS.
func (o *Observer) TLSStart() int64 { return o.tlsAt }
