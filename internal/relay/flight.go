// This file holds flight counting: the TLS record framing that tells
// alerts from other bytes, and the arrivals that start a new flight.

package relay

// Flights are counted from the order in which bytes arrive from the two
// peers; see the package documentation for the definition.

// recordHeaderLen is the length of a TLS record header.
const recordHeaderLen = 5

// Record content types, and the body length of an encrypted TLS 1.3 alert:
// the two-byte alert, the inner content type and a 16-byte AEAD tag (every
// TLS 1.3 cipher suite in use has one). PostgreSQL's shortest message is
// five bytes long, so no application data record is that short.
const (
	recordAlert           = 21
	recordApplicationData = 23
	encryptedAlertLen     = 2 + 1 + 16
)

// framer follows the TLS record layer of one direction for the whole
// connection, to tell the bytes of alert records (close_notify) from the
// others. It reads only the headers.
type framer struct {
	hdr  [recordHeaderLen]byte
	hdrN int
	left int  // body bytes of the current record still to come
	cur  bool // the current record is not an alert
}

// data reports whether p, the next bytes of the stream, holds a byte of a
// record that is not an alert. Bytes of a header not yet complete count as
// such unless their first byte names an alert.
func (f *framer) data(p []byte) bool {
	data := false
	for len(p) > 0 {
		if f.left > 0 {
			k := min(len(p), f.left)
			f.left -= k
			p = p[k:]
			data = data || f.cur
			continue
		}
		k := copy(f.hdr[f.hdrN:], p)
		f.hdrN += k
		p = p[k:]
		if f.hdrN < recordHeaderLen {
			data = data || f.hdr[0] != recordAlert
			break
		}
		f.hdrN = 0
		typ, n := f.hdr[0], int(f.hdr[3])<<8|int(f.hdr[4])
		f.left = n
		f.cur = typ != recordAlert && !(typ == recordApplicationData && n == encryptedAlertLen)
		data = data || f.cur
	}
	return data
}

// speaks reports whether data, which arrived at offset a, says something
// to the peer: it does unless it is only TLS alerts, such as the
// close_notify each side sends when it closes, which no one waits for.
// Outside TLS every byte speaks.
func (p *pipe) speaks(data []byte, a int64) bool {
	start := p.obs.TLSStart()
	if start < 0 || p.obs.Err() != nil {
		// Not TLS, or not TLS as the Observer understands it: no framing
		// to trust.
		return true
	}
	if a < start {
		return true // the negotiation before TLS
	}
	return p.records.data(data)
}

// arrive counts flights: bytes that speak from the client, arriving first
// or after bytes that speak from the server, start one. It returns the
// number of the flight that bytes arriving in direction d start, or 0.
func (c *conn) arrive(d Direction, speaks bool) int {
	if !speaks {
		return 0
	}
	if d == ToServer {
		if c.last.Swap(uint32(ToServer)) != uint32(ToServer) {
			return int(c.flights.Add(1))
		}
		return 0
	}
	c.last.Store(uint32(ToClient))
	c.answered.Store(c.flights.Load())
	return 0
}
