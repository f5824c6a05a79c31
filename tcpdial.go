// This file holds the TCP connection to the server: the dial, through the
// application's DialFunc when it gave one, and libpq's TCP parameters
// (keepalives, keepalives_idle, keepalives_interval, keepalives_count,
// tcp_user_timeout) applied to the socket.

package pqssl

import (
	"context"
	"net"
)

// A DialFunc opens the network connection to a server, as net.Dialer's
// DialContext does. network is "tcp" or "unix"; address is the host (or
// hostaddr) and port, or the socket path, of one host of the connection
// string.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// WithDialFunc makes the Connector open its network connections with f:
// every host and encryption attempt, the connections of a Listener and
// lib/pq's cancel requests. Everything above the connection stays pqssl's:
// the SSLRequest or direct TLS, the handshake, verification by libpq's rules
// and authentication. f suits SSH tunnels, proxies, custom resolvers and
// test networks.
//
// When f returns a *net.TCPConn, the keepalive parameters and
// tcp_user_timeout of the connection string are applied to it as to a
// connection pqssl dials itself; for any other net.Conn they are f's to
// honour. Settings the string leaves out stay as f made them: a net.Dialer
// whose KeepAlive is 0 turns on Go's 15-second keepalives, where pqssl's
// own dial (like libpq) keeps the operating system's values.
func WithDialFunc(f DialFunc) Option {
	return func(c *Connector) { c.dialFunc = f }
}

// dialTCP opens the connection to the server and applies the TCP
// parameters.
func (d *dialer) dialTCP(ctx context.Context, network, address string) (net.Conn, error) {
	dial := d.c.dialFunc
	if dial == nil {
		// KeepAlive < 0: the keepalive settings are the connection
		// string's, applied below, not net.Dialer's defaults.
		nd := net.Dialer{KeepAlive: -1}
		dial = nd.DialContext
	}
	conn, err := dial(ctx, network, address)
	if err != nil {
		return nil, wrapAttempt(phaseDial, err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		if err := d.c.cfg.applyTCP(tc); err != nil {
			conn.Close()
			return nil, wrapAttempt(phaseDial, err)
		}
	}
	return conn, nil
}

// applyTCP sets libpq's TCP parameters on conn. As in libpq, keepalives=0
// turns keepalives off, an idle time, interval or count that is not given
// leaves the operating system's value in place, and one given as 0 or less
// is refused, as Linux refuses libpq's setsockopt of it.
func (cfg *config) applyTCP(conn *net.TCPConn) error {
	ka := net.KeepAliveConfig{Enable: cfg.keepalives, Idle: -1, Interval: -1, Count: -1}
	if cfg.keepalives {
		for _, p := range []struct {
			kw, opt string
			set     func()
			ok      bool
		}{
			{"keepalives_idle", "TCP_KEEPIDLE", func() { ka.Idle = cfg.keepalivesIdle }, cfg.keepalivesIdle > 0},
			{"keepalives_interval", "TCP_KEEPINTVL", func() { ka.Interval = cfg.keepalivesInterval }, cfg.keepalivesInterval > 0},
			{"keepalives_count", "TCP_KEEPCNT", func() { ka.Count = cfg.keepalivesCount }, cfg.keepalivesCount > 0},
		} {
			s, given := cfg.sources[p.kw]
			if !given || !s.ok {
				continue
			}
			if !p.ok {
				return s.errorf("setsockopt(%s) failed: invalid argument: %q", p.opt, s.val)
			}
			p.set()
		}
	}
	if err := conn.SetKeepAliveConfig(ka); err != nil {
		return &ParameterError{Name: "keepalives", Source: cfg.sourceOf("keepalives"), Err: err}
	}
	if cfg.tcpUserTimeout > 0 {
		if err := setUserTimeout(conn, cfg.tcpUserTimeout); err != nil {
			return &ParameterError{Name: "tcp_user_timeout", Source: cfg.sourceOf("tcp_user_timeout"), Err: err}
		}
	}
	return nil
}

// sourceOf names where kw's value came from, for errors.
func (cfg *config) sourceOf(kw string) string {
	if s, ok := cfg.sources[kw]; ok {
		return s.src
	}
	return sourceDefault
}
