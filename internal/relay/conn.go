// This file holds one connection through the relay: the dial to the
// target, the two pipes that forward its directions, with any delay, and
// the carrying out of its fault.

package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pqssl/pqssl/internal/tlswire"
)

const (
	// bufSize is the size of each direction's read buffer.
	bufSize = 32 << 10
	// queueLen bounds the chunks waiting out Delay in one direction; a
	// full queue stops reading, so a fast sender is held back by TCP flow
	// control as it would be by a long link.
	queueLen = 64
)

var errRelayClosed = errors.New("relay: closed before the connection was forwarded")

// conn is one connection through the relay: the client's socket, the
// socket to the target and the two pipes between them.
type conn struct {
	r      *Relay
	index  int
	client net.Conn
	fault  Fault
	start  time.Time

	done      chan struct{} // closed by closeAll
	closeOnce sync.Once
	last      atomic.Uint32 // Direction of the last bytes that arrived, alerts aside
	halted    atomic.Bool   // the fault is taking effect: nothing more is forwarded
	acted     atomic.Bool   // the fault took effect

	up, down *pipe
	// flights counts the client's flights; answered is the number of the
	// last flight after which server bytes arrived.
	flights, answered atomic.Int32

	// mu guards what the two pipes share: the server socket while it is
	// being set and the fault's state.
	mu     sync.Mutex
	server net.Conn
	// limit[d] is the offset in direction d at which the fault fires, -1
	// when not yet known; arrived[d] counts the bytes that arrived in d.
	limit     [3]int64
	arrived   [3]int64
	phaseDone bool // the fault's phase was reached
	fired     bool // the fault's point was reached; acted follows
}

func newConn(r *Relay, index int, client net.Conn, f Fault) *conn {
	return &conn{
		r: r, index: index, client: client, fault: f,
		done:  make(chan struct{}),
		limit: [3]int64{-1, -1, -1},
	}
}

func (c *conn) run() {
	defer c.r.wg.Done()
	c.start = time.Now()
	err := c.connect()
	if err == nil {
		c.forward()
	}
	c.closeAll()
	c.r.finish(c, c.stats(err))
}

// connect waits out ConnectDelay and connects to the target.
func (c *conn) connect() error {
	if d := c.r.opts.ConnectDelay; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.done:
			return errRelayClosed
		}
	}
	ctx, cancel := context.WithTimeout(c.r.ctx, dialTimeout)
	defer cancel()
	var d net.Dialer
	s, err := d.DialContext(ctx, "tcp", c.r.target)
	if err != nil {
		if c.r.ctx.Err() != nil {
			return errRelayClosed
		}
		return fmt.Errorf("relay: connecting to %s: %w", c.r.target, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		s.Close()
		return errRelayClosed
	default:
	}
	c.server = s
	return nil
}

// forward runs both pipes until both have ended.
func (c *conn) forward() {
	c.up = newPipe(c, ToServer, c.client, c.server)
	c.down = newPipe(c, ToClient, c.server, c.client)
	if f := c.fault; f.Action != NoFault && f.Phase == PhaseStart {
		c.limit[f.dir()] = f.After
	}
	var wg sync.WaitGroup
	wg.Add(2)
	for _, p := range []*pipe{c.up, c.down} {
		go func() {
			defer wg.Done()
			p.run()
		}()
	}
	wg.Wait()
}

// closeAll closes both sockets, which ends both pipes.
func (c *conn) closeAll() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		close(c.done)
		c.client.Close()
		if c.server != nil {
			c.server.Close()
		}
	})
}

// act carries out the fault once the bytes up to its point are written.
func (c *conn) act() {
	c.acted.Store(true)
	if c.fault.Action == Cut {
		c.closeAll()
	}
}

// reachPhase records that the connection reached phase ph at offset off
// of direction d, and sets where the fault fires if it counts from ph.
func (c *conn) reachPhase(ph Phase, d Direction, off int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.fault
	if f.Action == NoFault || f.Phase != ph || c.phaseDone || c.fired {
		return
	}
	c.phaseDone = true
	switch fd := f.dir(); {
	case fd == d:
		c.limit[d] = off + f.After
	case f.After == 0:
		c.limit[d] = off
	default:
		c.limit[fd] = c.arrived[fd] + f.After
	}
}

func (c *conn) stats(err error) ConnStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	var up, down *tlswire.Observer
	if c.up != nil {
		up, down = c.up.obs, c.down.obs
	}
	n := negotiated(up, down)
	s := ConnStats{
		Index: c.index, Start: c.start, Duration: time.Since(c.start),
		SSLRequest: n.sslRequest, SSLResponse: n.sslResponse,
		GSSENCRequest: n.gssRequest, GSSENCResponse: n.gssResponse,
		DirectTLS: n.direct, TLS: n.tls(),
		Flights: int(c.flights.Load()), Answered: int(c.answered.Load()),
		Fault: c.fault, FaultFired: c.acted.Load(),
		Err: err,
	}
	if c.up == nil {
		return s
	}
	s.BytesToServer, s.BytesToClient = c.up.written, c.down.written
	s.ClientHellos = slices.Clone(up.ClientHellos())
	if len(s.ClientHellos) > 0 {
		s.SupportedGroups, s.KeyShares = s.ClientHellos[0].SupportedGroups, s.ClientHellos[0].KeyShares
	}
	s.ServerHellos = slices.Clone(down.ServerHellos())
	s.HelloRetryRequest, s.Group, s.Version = down.HelloRetryRequest(), down.Group(), down.Version()
	if s.TLS {
		// Without TLS the Observers' errors only say that the session is
		// in the clear.
		var errs []error
		if err := up.Err(); err != nil {
			errs = append(errs, fmt.Errorf("from the client: %w", err))
		}
		if err := down.Err(); err != nil {
			errs = append(errs, fmt.Errorf("from the server: %w", err))
		}
		s.TLSError = errors.Join(errs...)
	}
	return s
}

// itemKind says what an item of a pipe's queue asks for.
type itemKind uint8

const (
	itemData itemKind = iota // forward data, then carry out the fault if fire
	itemEOF                  // the source ended: half-close the destination
	itemFail                 // the source failed: close everything
)

// item is one thing a pipe's writer does, at least Delay after at.
type item struct {
	at   time.Time
	kind itemKind
	data []byte
	fire bool
}

// pipe forwards one direction.
type pipe struct {
	c        *conn
	dir      Direction
	src, dst net.Conn
	delay    time.Duration
	queue    chan item // nil without Delay: the reader writes itself

	// obs reads the negotiation and the TLS handshake while analyzing.
	obs       *tlswire.Observer
	analyzing bool
	sslSeen   bool // PhaseSSLResponse was reported
	helloSeen bool // PhaseServerHello or PhaseHandshake was reported

	watch   bool  // the fault may still fire in this direction
	pos     int64 // bytes that arrived
	written int64 // bytes forwarded
	records framer
}

func newPipe(c *conn, d Direction, src, dst net.Conn) *pipe {
	side := tlswire.Client
	if d == ToClient {
		side = tlswire.Server
	}
	return &pipe{
		c: c, dir: d, src: src, dst: dst, delay: c.r.opts.Delay,
		obs: tlswire.NewPostgresObserver(side), analyzing: true,
		watch: c.fault.Action != NoFault,
	}
}

func (p *pipe) run() {
	if p.delay > 0 {
		p.queue = make(chan item, queueLen)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.writeLoop()
		}()
		defer wg.Wait()
	}
	p.readLoop()
}

func (p *pipe) readLoop() {
	buf := make([]byte, bufSize)
	for {
		n, err := p.src.Read(buf)
		if n > 0 {
			now := time.Now()
			data, a := buf[:n], p.pos
			p.pos += int64(n)
			if p.analyzing {
				p.analyze(data)
			}
			flight := p.c.arrive(p.dir, p.speaks(data, a))
			if !p.c.halted.Load() {
				fire := false
				if p.watch {
					data, fire = p.watchFault(data, a, flight)
				}
				if !p.send(item{at: now, data: data, fire: fire}) {
					return
				}
			}
		}
		if err != nil {
			kind := itemFail
			if errors.Is(err, io.EOF) && !p.c.halted.Load() {
				kind = itemEOF
			}
			p.send(item{at: time.Now(), kind: kind})
			return
		}
	}
}

// send hands it to the writer, or without Delay carries it out. It
// reports whether the pipe goes on.
func (p *pipe) send(it item) bool {
	if p.queue == nil {
		return p.apply(it)
	}
	if it.kind == itemData {
		if len(it.data) == 0 && !it.fire {
			return true
		}
		it.data = bytes.Clone(it.data) // the read buffer is reused
	}
	select {
	case p.queue <- it:
		return true
	case <-p.c.done:
		return false
	}
}

func (p *pipe) writeLoop() {
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		var it item
		select {
		case it = <-p.queue:
		case <-p.c.done:
			return
		}
		if wait := time.Until(it.at.Add(p.delay)); wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-p.c.done:
				t.Stop()
				return
			}
		}
		if !p.apply(it) {
			return
		}
	}
}

// apply carries out it and reports whether the pipe goes on.
func (p *pipe) apply(it item) bool {
	switch it.kind {
	case itemData:
		return p.write(it.data, it.fire)
	case itemEOF:
		if tc, ok := p.dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		} else {
			p.dst.Close()
		}
		return false
	case itemFail:
		p.c.closeAll()
		return false
	}
	return true
}

// write forwards data, then carries out the fault if fire, and reports
// whether the pipe goes on.
//
// The fault halts the other pipe before data, the bytes up to its point,
// is written: bytes a peer sends in answer to them can only arrive after
// that, and are dropped, so that the fault takes effect before the answer
// to the last bytes forwarded.
func (p *pipe) write(data []byte, fire bool) bool {
	c := p.c
	if fire {
		c.halted.Store(true)
	} else if c.halted.Load() {
		return true // dropped: the relay reads on to notice the peers' end
	}
	if len(data) > 0 {
		n, err := p.dst.Write(data)
		p.written += int64(n)
		if err != nil {
			c.closeAll()
			return false
		}
	}
	if fire {
		c.act()
		return c.fault.Action != Cut
	}
	return true
}

// watchFault checks whether the fault fires in data, the bytes that just
// arrived at offset a and start the given flight (0: no new flight), and
// returns the part to forward and whether the fault fires after it.
func (p *pipe) watchFault(data []byte, a int64, flight int) ([]byte, bool) {
	c := p.c
	if f := c.fault; flight > 0 && f.Phase == PhaseFlight && f.Flight == flight {
		c.reachPhase(PhaseFlight, ToServer, a)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.arrived[p.dir] = p.pos
	if c.fired {
		p.watch = false
		return data, false
	}
	lim := c.limit[p.dir]
	if lim < 0 || lim > p.pos {
		return data, false
	}
	c.fired, p.watch = true, false
	return data[:max(lim-a, 0)], true
}
