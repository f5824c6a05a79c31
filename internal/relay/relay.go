// Package relay is a loopback TCP relay for tests and benchmarks: it
// forwards each connection it accepts to a target address (a PostgreSQL
// server), and measures what crosses it.
//
// Each direction is watched by a [tlswire.Observer] of
// [tlswire.NewPostgresObserver], which reads PostgreSQL's negotiation (an
// SSLRequest, possibly after a GSSENCRequest, and the server's one-byte
// answers, or a ClientHello sent directly as with sslnegotiation=direct)
// and then the TLS handshake up to the point where it becomes encrypted.
// For each connection a [ConnStats] records what the client offered and
// the server chose, whether the server sent a HelloRetryRequest, the bytes
// each way and the flights; [Relay.Totals] sums them.
//
// # Flights
//
// A flight is a time the client sends and then waits for the server's
// answer. The relay sees only the order in which bytes arrive at it, so it
// counts exactly this: a flight starts each time bytes from the client
// arrive (one read on the client's socket returns) when the last bytes to
// arrive in either direction came from the server, or when none have
// arrived yet. Further client bytes that arrive before any from the server
// belong to the same flight, however many writes the client made. Bytes
// that are only TLS alerts (the close_notify each side sends as it closes)
// count for neither side: the relay follows the record headers of TLS
// connections, and tells an encrypted TLS 1.3 alert by its length, which no
// PostgreSQL message is short enough to share. [ConnStats.Answered] counts
// the flights after which the server sent something; a session ended by
// the client's Terminate has one flight more than that.
//
// Against PostgreSQL with sslmode=require, trust authentication and TLS
// 1.3, a session with one query has these flights: 1 the SSLRequest; 2 the
// ClientHello; 3 the Finished and the startup message; 4 the query; 5 the
// Terminate; plus one for the second ClientHello after a
// HelloRetryRequest, one per further query or authentication exchange,
// and one for the second round trip of a TLS 1.2 handshake. The TCP
// handshake is one more round trip, which the relay cannot see since the
// kernel completes it before the relay accepts: [ConnStats.RoundTrips]
// adds it to Answered.
//
// Server bytes the client does not wait for can split a flight: if the
// server sends something unprompted (a TLS 1.3 session ticket on receipt of
// the client's Finished) and it arrives between two writes of one client
// flight (the Finished, then the startup message), the second write counts
// as a new flight. PostgreSQL 15 sends no ticket. A Delay longer than the gap
// between the client's writes rules that out, since the server's reaction
// then arrives at least Delay after the bytes that caused it.
//
// # Latency
//
// [Options.Delay] delays every chunk of bytes by the same time from the
// moment it arrived, in each direction, so that a round trip through the
// relay takes at least twice the delay while throughput is not limited by
// it: the relay keeps a queue of timestamped chunks per direction, read by
// a writer that waits for each chunk's time, rather than sleeping per
// write, and order is kept. [Options.ConnectDelay] delays the start of
// forwarding of each connection once, as a TCP handshake would.
//
// # Faults
//
// [Options.Fault] chooses for each connection a [Fault]: cut the connection
// (close both sides) or stall it (forward nothing more, keep both sockets
// open) after a number of bytes in one direction, counted from the start or
// from a phase of the connection: the answer to the SSLRequest, the
// ServerHello, the end of the handshake, the start of a given flight.
//
// Once the handshake is encrypted and no fault is pending, forwarding is a
// read and a write per chunk, plus the queue when Delay is set and a look
// at the TLS record headers the chunk holds, to count flights.
package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"
)

// Options configures a Relay. The zero value forwards without delay or
// fault.
type Options struct {
	// Delay is the one-way delay added to each direction: a round trip
	// through the relay takes at least 2*Delay.
	Delay time.Duration
	// ConnectDelay is waited once per connection after accepting it and
	// before connecting to the target. The client's connect returns at
	// once, but nothing it sends is forwarded before ConnectDelay has
	// passed, which costs the first flight what a slow TCP handshake would.
	ConnectDelay time.Duration
	// Fault, when set, is called with the index of each accepted
	// connection (0 for the first) and returns the fault to inject in it;
	// the zero Fault injects none.
	Fault func(connIndex int) Fault
}

// dialTimeout bounds the connection to the target.
const dialTimeout = 10 * time.Second

// Relay accepts connections on a loopback port and forwards each to its
// target.
type Relay struct {
	target string
	opts   Options
	ln     net.Listener
	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu       sync.Mutex
	accepted int
	active   map[*conn]struct{}
	finished []ConnStats
	changed  chan struct{} // closed and replaced when a connection finishes
	closed   bool
}

// Start listens on 127.0.0.1 at a free port and forwards every connection
// it accepts to target (host:port).
func Start(target string, opts Options) (*Relay, error) {
	if opts.Delay < 0 || opts.ConnectDelay < 0 {
		return nil, errors.New("relay: Delay and ConnectDelay must not be negative")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Relay{
		target: target, opts: opts, ln: ln, ctx: ctx, cancel: cancel,
		active: map[*conn]struct{}{}, changed: make(chan struct{}),
	}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// Addr returns the address the relay listens on, host:port.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// Close stops accepting, closes every connection, stalled ones included,
// and waits until all of the relay's goroutines have returned. The
// connections it closes are recorded in Stats like any other.
func (r *Relay) Close() error {
	r.once.Do(func() {
		r.cancel()
		r.ln.Close()
		r.mu.Lock()
		r.closed = true
		for c := range r.active {
			c.closeAll()
		}
		r.mu.Unlock()
		r.wg.Wait()
	})
	return nil
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		nc, err := r.ln.Accept()
		if err != nil {
			// Closed, or out of file descriptors: either way no test can
			// go on with this relay.
			return
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			nc.Close()
			return
		}
		var f Fault
		if r.opts.Fault != nil {
			f = r.opts.Fault(r.accepted)
		}
		c := newConn(r, r.accepted, nc, f)
		r.accepted++
		r.active[c] = struct{}{}
		r.wg.Add(1)
		r.mu.Unlock()
		go c.run()
	}
}

// finish records the statistics of a connection that has ended.
func (r *Relay) finish(c *conn, s ConnStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.active, c)
	r.finished = append(r.finished, s)
	close(r.changed)
	r.changed = make(chan struct{})
}

// Stats returns the statistics of the connections that have ended, in the
// order they were accepted. A connection still open is not among them.
func (r *Relay) Stats() []ConnStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sortedStats()
}

func (r *Relay) sortedStats() []ConnStats {
	out := append([]ConnStats(nil), r.finished...)
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// Wait waits until at least n connections have ended and returns the
// statistics of all that have, as Stats does. It returns an error when ctx
// ends first, or when the relay is closed with fewer than n ended.
func (r *Relay) Wait(ctx context.Context, n int) ([]ConnStats, error) {
	for {
		r.mu.Lock()
		if len(r.finished) >= n {
			s := r.sortedStats()
			r.mu.Unlock()
			return s, nil
		}
		changed, got, closed := r.changed, len(r.finished), r.closed && len(r.active) == 0
		r.mu.Unlock()
		if closed {
			return nil, fmt.Errorf("relay: closed after %d connections ended, waiting for %d", got, n)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("relay: %d connections ended, waiting for %d: %w", got, n, ctx.Err())
		}
	}
}

// Totals returns the sums of Stats.
func (r *Relay) Totals() Totals { return Sum(r.Stats()) }
