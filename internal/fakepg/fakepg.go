// Package fakepg is an in-process stand-in for a PostgreSQL server, for tests
// of behaviour a real server cannot be made to show: hostile answers to the
// SSLRequest, silence, broken handshakes, and protocol features newer than the
// installed server. It records every byte each client sent, so tests can
// assert what crossed the wire in the clear.
package fakepg

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// SSLRequestCode and friends are the protocol's magic startup codes.
const (
	SSLRequestCode    = 80877103
	CancelRequestCode = 80877102
	ProtocolV3        = 196608
)

// Server accepts connections on 127.0.0.1 and passes each to a handler.
type Server struct {
	ln      net.Listener
	handler func(*Conn)

	mu    sync.Mutex
	conns []*Conn
	wg    sync.WaitGroup
}

// Conn is one accepted client connection. Reads through it are recorded.
type Conn struct {
	net.Conn
	mu   sync.Mutex
	recv bytes.Buffer
}

func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.recv.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// Received returns every byte read from the client so far, as it crossed the
// wire (TLS records included, undecrypted).
func (c *Conn) Received() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.recv.Bytes())
}

// Start listens on a free loopback port and serves each connection with
// handler on its own goroutine. The server is closed at the end of the test.
func Start(tb testing.TB, handler func(*Conn)) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fakepg: listen: %v", err)
	}
	s := &Server{ln: ln, handler: handler}
	s.wg.Add(1)
	go s.serve()
	tb.Cleanup(s.Close)
	return s
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &Conn{Conn: nc}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer nc.Close()
			// No test needs a connection for long; a bound keeps a
			// misbehaving client from hanging the suite.
			nc.SetDeadline(time.Now().Add(30 * time.Second))
			s.handler(c)
		}()
	}
}

// Close stops accepting, closes every connection and waits for the handlers.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Port is the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// PortString is Port as a string, for connection strings.
func (s *Server) PortString() string { return strconv.Itoa(s.Port()) }

// Conns returns the connections accepted so far.
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Conn(nil), s.conns...)
}

// ReadStartupPacket reads one length-prefixed startup packet and returns its
// code and body.
func ReadStartupPacket(r io.Reader) (code uint32, body []byte, err error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < 8 || n > 10000 {
		return 0, nil, fmt.Errorf("fakepg: bad startup packet length %d", n)
	}
	body = make([]byte, n-8)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return binary.BigEndian.Uint32(hdr[4:8]), body, nil
}

// StartupParams parses the key/value pairs of a StartupMessage body.
func StartupParams(body []byte) map[string]string {
	m := map[string]string{}
	parts := bytes.Split(body, []byte{0})
	for i := 0; i+1 < len(parts); i += 2 {
		if len(parts[i]) == 0 {
			break
		}
		m[string(parts[i])] = string(parts[i+1])
	}
	return m
}

// Message writes one backend message of type t.
func Message(w io.Writer, t byte, body []byte) error {
	buf := make([]byte, 5, 5+len(body))
	buf[0] = t
	binary.BigEndian.PutUint32(buf[1:], uint32(4+len(body)))
	_, err := w.Write(append(buf, body...))
	return err
}

// ErrorResponse builds the body of an ErrorResponse.
func ErrorResponse(severity, code, msg string) []byte {
	var b bytes.Buffer
	for _, f := range []struct {
		t byte
		v string
	}{{'S', severity}, {'V', severity}, {'C', code}, {'M', msg}} {
		b.WriteByte(f.t)
		b.WriteString(f.v)
		b.WriteByte(0)
	}
	b.WriteByte(0)
	return b.Bytes()
}

// ServeSession plays a minimal server after the startup packet was read on
// rw: it trusts the client, answers simple queries with one text row
// holding reply, and returns when the client terminates.
func ServeSession(rw io.ReadWriter, reply string) error {
	w := bufio.NewWriter(rw)
	Message(w, 'R', []byte{0, 0, 0, 0}) // AuthenticationOk
	for _, kv := range [][2]string{{"server_version", "17.0"}, {"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"}, {"integer_datetimes", "on"}, {"standard_conforming_strings", "on"}} {
		Message(w, 'S', []byte(kv[0]+"\x00"+kv[1]+"\x00"))
	}
	Message(w, 'K', []byte{0, 0, 0, 1, 0, 0, 0, 2})
	Message(w, 'Z', []byte{'I'})
	if err := w.Flush(); err != nil {
		return err
	}
	r := bufio.NewReader(rw)
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n < 4 || n > 1<<20 {
			return errors.New("fakepg: bad message length")
		}
		body := make([]byte, n-4)
		if _, err := io.ReadFull(r, body); err != nil {
			return err
		}
		switch hdr[0] {
		case 'X':
			return nil
		case 'Q':
			var rd bytes.Buffer
			binary.Write(&rd, binary.BigEndian, int16(1))
			rd.WriteString("reply\x00")
			binary.Write(&rd, binary.BigEndian, int32(0))
			binary.Write(&rd, binary.BigEndian, int16(0))
			binary.Write(&rd, binary.BigEndian, int32(25)) // text
			binary.Write(&rd, binary.BigEndian, int16(-1))
			binary.Write(&rd, binary.BigEndian, int32(-1))
			binary.Write(&rd, binary.BigEndian, int16(0))
			Message(w, 'T', rd.Bytes())
			var dr bytes.Buffer
			binary.Write(&dr, binary.BigEndian, int16(1))
			binary.Write(&dr, binary.BigEndian, int32(len(reply)))
			dr.WriteString(reply)
			Message(w, 'D', dr.Bytes())
			Message(w, 'C', []byte("SELECT 1\x00"))
			Message(w, 'Z', []byte{'I'})
			if err := w.Flush(); err != nil {
				return err
			}
		default:
			Message(w, 'E', ErrorResponse("ERROR", "0A000", "fakepg supports simple queries only"))
			Message(w, 'Z', []byte{'I'})
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
}

// ServeTLS completes a TLS handshake as server on c with cfg and serves a
// session over it; it is the body of a handler that answered 'S'.
func ServeTLS(c net.Conn, cfg *tls.Config, reply string) error {
	tc := tls.Server(c, cfg)
	if err := tc.Handshake(); err != nil {
		return err
	}
	code, _, err := ReadStartupPacket(tc)
	if err != nil {
		return err
	}
	if code != ProtocolV3 {
		return fmt.Errorf("fakepg: unexpected startup code %d", code)
	}
	return ServeSession(tc, reply)
}
