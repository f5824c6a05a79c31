// This file holds faults and their terms: the directions of traffic, the
// actions, and the phases from which a fault counts bytes.

package relay

import "fmt"

// Direction is a direction of the traffic through the relay.
type Direction uint8

const (
	// ToServer is the direction of the bytes the client sends.
	ToServer Direction = iota + 1
	// ToClient is the direction of the bytes the server sends.
	ToClient
)

func (d Direction) String() string {
	switch d {
	case ToServer:
		return "to server"
	case ToClient:
		return "to client"
	}
	return "the phase's direction"
}

// Action is what a Fault does to a connection.
type Action uint8

const (
	// NoFault leaves the connection alone.
	NoFault Action = iota
	// Cut closes both sides of the connection: each peer reads the end of
	// the stream after the bytes forwarded so far.
	Cut
	// Stall stops forwarding in both directions and keeps both sockets
	// open, as a network that stops delivering would. The relay goes on
	// reading and dropping what the peers send, so that it notices when one
	// of them gives up and closes; Close releases the others.
	Stall
)

func (a Action) String() string {
	switch a {
	case NoFault:
		return "none"
	case Cut:
		return "cut"
	case Stall:
		return "stall"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Phase is a point in a connection from which a Fault counts bytes.
type Phase uint8

const (
	// PhaseStart is the start of the connection (in both directions).
	PhaseStart Phase = iota
	// PhaseSSLResponse is just past the server's one-byte answer to the
	// SSLRequest (ToClient). It is never reached without an SSLRequest.
	PhaseSSLResponse
	// PhaseServerHello is just past the server's ServerHello, the one
	// after any HelloRetryRequest (ToClient): mid-handshake.
	PhaseServerHello
	// PhaseHandshake is just past the client's first encrypted TLS record
	// (ToServer), its Finished unless it sends a certificate in TLS 1.3:
	// the handshake is complete and application data follows.
	PhaseHandshake
	// PhaseFlight is the start of the client's flight number Fault.Flight
	// (ToServer), counted from 1 as [ConnStats.Flights] counts them: for
	// instance the flight that sends a query, to fail mid-query.
	PhaseFlight
)

func (p Phase) String() string {
	switch p {
	case PhaseStart:
		return "start"
	case PhaseSSLResponse:
		return "SSLRequest answer"
	case PhaseServerHello:
		return "ServerHello"
	case PhaseHandshake:
		return "handshake"
	case PhaseFlight:
		return "flight"
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// direction returns the direction in which the phase's point lies.
func (p Phase) direction() Direction {
	switch p {
	case PhaseSSLResponse, PhaseServerHello:
		return ToClient
	}
	return ToServer
}

// Fault describes a failure to inject in one connection: Action, once After
// bytes have been forwarded in direction Dir past Phase. It takes effect
// as soon as the bytes up to that point have arrived and been forwarded
// (for the very start of a direction, when its first bytes arrive), and
// from then on nothing more is forwarded in either direction.
//
// Examples:
//
//	Fault{Action: Cut, Dir: ToClient}                 // before the answer to the SSLRequest
//	Fault{Action: Cut, Dir: ToClient, After: 100}     // after 100 bytes from the server
//	Fault{Action: Stall, Phase: PhaseSSLResponse}     // after the 'S'
//	Fault{Action: Cut, Phase: PhaseServerHello}       // mid-handshake
//	Fault{Action: Cut, Phase: PhaseHandshake}         // after the handshake
//	Fault{Action: Cut, Phase: PhaseHandshake, Dir: ToServer, After: 20} // after 20 bytes of application data
//	Fault{Action: Stall, Phase: PhaseFlight, Flight: 5, Dir: ToClient}  // the answer to flight 5 (a query) is lost
//
// When Dir is the direction of the phase's point (the zero Dir means that
// direction), After counts from that point. When it is the other one, After
// counts that direction's bytes arriving after the phase was reached; with
// After 0 the fault then takes effect at the phase's point itself. A phase
// that is never reached injects nothing.
type Fault struct {
	Action Action
	Phase  Phase
	Dir    Direction
	After  int64
	// Flight is the flight of PhaseFlight.
	Flight int
}

func (f Fault) String() string {
	if f.Action == NoFault {
		return "no fault"
	}
	phase := f.Phase.String()
	if f.Phase == PhaseFlight {
		phase = fmt.Sprintf("flight %d", f.Flight)
	}
	return fmt.Sprintf("%v after %d bytes %v past %s", f.Action, f.After, f.dir(), phase)
}

func (f Fault) dir() Direction {
	if f.Dir == 0 {
		return f.Phase.direction()
	}
	return f.Dir
}
