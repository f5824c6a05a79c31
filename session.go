// This file holds what pqssl keeps of a session's socket: what bounds it by
// its caller's context where lib/pq alone would block (startup and
// authentication, and a query whose cancellation the server never answers),
// and what turns lib/pq's bare startup errors into libpq's.

package pqssl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// cancelGrace is how long a session whose query lib/pq is cancelling may
// still wait for the server's answer before its socket times out. lib/pq
// sends a CancelRequest when a query's context ends and then reads until the
// server answers; a server (or network) that has stopped would hold the
// caller forever. The session is already marked bad by then, so cutting the
// wait short loses nothing but the server's "canceling statement" error.
const cancelGrace = time.Second

// sessionSocket is the socket of the session a connection attempt opens:
// the attempt's first dial. lib/pq dials again through the same dialer only
// to send a CancelRequest for that session.
type sessionSocket struct {
	mu         sync.Mutex
	dialed     bool     // the session's dial has started
	conn       net.Conn // the session's socket, once the dial succeeded
	tls        bool     // the session runs over TLS
	expired    bool     // the attempt's context ended before Connect returned
	cancelling bool     // lib/pq is cancelling a query of the session
}

// dial reports whether a dial through the attempt's dialer is the session's
// own (the first), rather than one carrying a CancelRequest. For the latter
// it starts the session's grace period.
func (s *sessionSocket) dial() (session bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dialed {
		s.dialed = true
		return true
	}
	s.cancelling = true
	if s.conn != nil {
		s.conn.SetDeadline(time.Now().Add(cancelGrace))
	}
	return false
}

// wrap returns the session's socket as lib/pq and TLS use it: its timeouts
// after a cancellation began are reported as ErrCancelUnanswered.
func (s *sessionSocket) wrap(conn net.Conn) net.Conn {
	return &sessionConn{Conn: conn, s: s}
}

type sessionConn struct {
	net.Conn
	s *sessionSocket
}

func (c *sessionConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	return n, c.s.explain(err)
}

func (c *sessionConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	return n, c.s.explain(err)
}

func (s *sessionSocket) explain(err error) error {
	if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancelling && !s.expired {
		return ErrCancelUnanswered
	}
	return err
}

// set records the session's socket once the dialer hands it to lib/pq.
func (s *sessionSocket) set(conn net.Conn, tls bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn, s.tls = conn, tls
	if s.expired {
		conn.SetDeadline(time.Unix(1, 0))
	}
}

// expire makes every read and write on the session's socket fail at once,
// now or as soon as it exists: the attempt's context has ended while lib/pq
// was still starting the session, which it bounds only by connect_timeout.
func (s *sessionSocket) expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired = true
	if s.conn != nil {
		s.conn.SetDeadline(time.Unix(1, 0))
	}
}

// startupErr gives the errors lib/pq reports bare while it starts the
// session libpq's texts: a server that closes the connection before the
// session is ready, and lib/pq's connect_timeout.
func (s *sessionSocket) startupErr(ctx context.Context, err error) error {
	var ae *attemptError
	if errors.As(err, &ae) {
		// The dialer's own failure, already in libpq's words.
		return err
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return ctxErr(ctx, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tls {
		return fmt.Errorf("pqssl: SSL connection has been closed unexpectedly: %w", io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("pqssl: server closed the connection unexpectedly: %w", io.ErrUnexpectedEOF)
}
