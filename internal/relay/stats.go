// This file holds the statistics the relay keeps of each connection, and
// their totals.

package relay

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/pqssl/pqssl/internal/tlswire"
)

// ConnStats is what the relay saw of one connection. TLS details are those
// of the bytes that arrived at the relay, whether or not a fault kept them
// from being forwarded.
type ConnStats struct {
	// Index is the connection's position in accept order, from 0.
	Index int
	// Start is when the relay accepted the connection, Duration how long
	// it lasted until both sides were closed.
	Start    time.Time
	Duration time.Duration

	// SSLRequest and GSSENCRequest report what the client asked for
	// before TLS; SSLResponse and GSSENCResponse hold the server's
	// one-byte answers ('S', 'N', 'G'), 0 when none came.
	SSLRequest     bool
	SSLResponse    byte
	GSSENCRequest  bool
	GSSENCResponse byte
	// DirectTLS reports a ClientHello at the very start of the stream
	// (sslnegotiation=direct). TLS reports that the connection went on in
	// TLS: DirectTLS, or an SSLRequest answered 'S'.
	DirectTLS bool
	TLS       bool

	// ClientHellos holds the client's ClientHello messages (two after a
	// HelloRetryRequest); SupportedGroups and KeyShares are those of the
	// first, the groups it offers and those it sent keys for.
	ClientHellos    []tlswire.ClientHello
	SupportedGroups []tls.CurveID
	KeyShares       []tls.CurveID
	// ServerHellos holds the server's HelloRetryRequest and ServerHello
	// messages in order.
	ServerHellos []tlswire.ServerHello
	// HelloRetryRequest reports that the server sent one. Group is the key
	// exchange group the server chose (from its final ServerHello, or its
	// ECDHE ServerKeyExchange in TLS 1.2), Version the TLS version.
	HelloRetryRequest bool
	Group             tls.CurveID
	Version           uint16
	// TLSError reports TLS bytes the relay could not parse, when TLS.
	TLSError error

	// BytesToServer and BytesToClient count the bytes forwarded.
	BytesToServer, BytesToClient int64
	// Flights counts the client's flights (see the package
	// documentation); Answered those after which the server sent
	// something, which excludes a final Terminate.
	Flights, Answered int

	// Fault is the fault chosen for the connection; FaultFired reports
	// that it took effect.
	Fault      Fault
	FaultFired bool
	// Err reports why the relay could not connect to the target.
	Err error
}

// RoundTrips returns Answered plus one for the TCP handshake, which the
// relay cannot see: the round trips the connection cost its client.
func (s ConnStats) RoundTrips() int { return s.Answered + 1 }

// String summarises the connection for test logs.
func (s ConnStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d", s.Index)
	if s.Err != nil {
		fmt.Fprintf(&b, " error: %v", s.Err)
		return b.String()
	}
	if s.GSSENCRequest {
		fmt.Fprintf(&b, " GSSENCRequest->%s", answer(s.GSSENCResponse))
	}
	if s.SSLRequest {
		fmt.Fprintf(&b, " SSLRequest->%s", answer(s.SSLResponse))
	}
	if s.DirectTLS {
		b.WriteString(" direct TLS")
	}
	if len(s.ClientHellos) > 0 {
		fmt.Fprintf(&b, "; groups [%s], key shares [%s]", tlswire.GroupList(s.SupportedGroups), tlswire.GroupList(s.KeyShares))
	}
	if s.HelloRetryRequest {
		b.WriteString("; HelloRetryRequest")
	}
	if s.Version != 0 {
		fmt.Fprintf(&b, "; %s %s", tls.VersionName(s.Version), tlswire.GroupName(s.Group))
	}
	if s.TLSError != nil {
		fmt.Fprintf(&b, "; %v", s.TLSError)
	}
	fmt.Fprintf(&b, "; %d flights (%d answered), %d bytes to server, %d to client", s.Flights, s.Answered, s.BytesToServer, s.BytesToClient)
	if s.Fault.Action != NoFault {
		fmt.Fprintf(&b, "; %v (fired: %v)", s.Fault, s.FaultFired)
	}
	return b.String()
}

func answer(c byte) string {
	if c == 0 {
		return "none"
	}
	return fmt.Sprintf("%q", c)
}

// Totals sums the statistics of connections.
type Totals struct {
	// Conns counts the connections; Failed those the relay could not
	// forward (ConnStats.Err), TLS those that went on in TLS.
	Conns, Failed, TLS int
	// HelloRetryRequests counts the connections with one.
	HelloRetryRequests int
	// Groups counts the connections by the group the server chose; a TLS
	// connection whose ServerHello the relay did not see counts under 0.
	Groups map[tls.CurveID]int
	// Flights and the bytes are sums over the connections.
	Flights                      int
	BytesToServer, BytesToClient int64
	// Faults counts the connections whose fault took effect.
	Faults int
}

// Sum returns the totals of stats.
func Sum(stats []ConnStats) Totals {
	t := Totals{Groups: map[tls.CurveID]int{}}
	for _, s := range stats {
		t.Conns++
		if s.Err != nil {
			t.Failed++
		}
		if s.TLS {
			t.TLS++
			t.Groups[s.Group]++
		}
		if s.HelloRetryRequest {
			t.HelloRetryRequests++
		}
		if s.FaultFired {
			t.Faults++
		}
		t.Flights += s.Flights
		t.BytesToServer += s.BytesToServer
		t.BytesToClient += s.BytesToClient
	}
	return t
}
