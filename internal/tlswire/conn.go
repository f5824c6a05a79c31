// This file holds Conn, a net.Conn that shows both directions of one end
// of a TLS connection to Observers.

package tlswire

import "net"

// Conn is a net.Conn, one end of a TLS connection, that shows what it reads
// and writes to two Observers, for a tls.Client or tls.Server built on it.
// Once both Observers are done it costs one atomic load per Read and Write.
type Conn struct {
	net.Conn
	// Client and Server observe the bytes the client and the server send.
	Client, Server *Observer

	reads, writes *Observer
}

// NewConn wraps c, the connection of the TLS end local (the side that will
// call tls.Client or tls.Server on it).
func NewConn(c net.Conn, local Side) *Conn {
	wc := &Conn{Conn: c, Client: NewObserver(Client), Server: NewObserver(Server)}
	if local == Client {
		wc.reads, wc.writes = wc.Server, wc.Client
	} else {
		wc.reads, wc.writes = wc.Client, wc.Server
	}
	return wc
}

// Read reads from the connection and observes what the peer sent.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.reads.Write(p[:n])
	}
	return n, err
}

// Write writes to the connection and observes what was sent.
func (c *Conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.writes.Write(p[:n])
	}
	return n, err
}
