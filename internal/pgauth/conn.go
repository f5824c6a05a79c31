// Package pgauth answers PostgreSQL's password authentication requests on
// lib/pq's behalf, as libpq would: cleartext, MD5, SCRAM-SHA-256 and
// SCRAM-SHA-256-PLUS with tls-server-end-point channel binding, with
// channel_binding, SASLprep and the password file.
//
// The root package wraps every connection it hands to lib/pq with Wrap.
package pgauth

import (
	"bytes"
	"crypto/md5"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// Authentication request codes of the AuthenticationRequest ('R') message.
const (
	authOK           = 0
	authCleartext    = 3
	authMD5          = 5
	authSASL         = 10
	authSASLContinue = 11
	authSASLFinal    = 12
)

// SASL mechanisms, and the channel binding type pqssl uses, as PostgreSQL
// names them.
const (
	mechSCRAM     = "SCRAM-SHA-256"
	mechSCRAMPlus = "SCRAM-SHA-256-PLUS"
	cbindType     = "tls-server-end-point"
)

// Limits on the messages an authConn reads, libpq's for authentication
// requests.
const (
	maxAuthRequestLen = 2000  // 'R', length word included
	maxNegotiateLen   = 10000 // 'v'
)

// Outcome describes how a session authenticated.
type Outcome struct {
	// Mechanism is SCRAM-SHA-256[-PLUS], "md5", "password", or "" when
	// the server asked for nothing.
	Mechanism string
	// GS2Flag is SCRAM's channel binding flag ('p', 'y' or 'n'), 0
	// without SCRAM.
	GS2Flag byte
	// Bound reports SCRAM-SHA-256-PLUS completed with a verified server
	// signature.
	Bound bool
}

// Trace, when set, is told how each session that reaches AuthenticationOk
// authenticated. Tests use it to see that channel binding took place.
var Trace atomic.Pointer[func(Outcome)]

// Params is what a wrapped connection needs to answer the server.
type Params struct {
	// ChannelBinding is the channel_binding parameter: disable, prefer
	// or require; "" means prefer.
	ChannelBinding string
	// User is the user name to fall back on when lib/pq's StartupMessage
	// names none.
	User string
	// Password is the password parameter or PGPASSWORD; "" when none.
	Password string
	// Passfile is the password file consulted when Password is "".
	Passfile string
	// DBName is the database name; "" means the user name, as in libpq.
	DBName string
	// Host, HostAddr and Port are the connection's host, hostaddr and
	// port parameters as the root package resolved them, which the
	// password file entry must match; Port "" means libpq's default.
	Host, HostAddr, Port string

	// MinProtocolMinor is the minor protocol version min_protocol_version
	// asks for (0 for 3.0, 2 for 3.2 and "latest"). A server that answers
	// with NegotiateProtocolVersion for an older version is refused in
	// libpq 18's words, rather than leaving it to lib/pq.
	MinProtocolMinor int

	// RequireAuth is the require_auth parameter, parsed.
	RequireAuth Requirement

	// OnOK, when set, is told how the session authenticated once the
	// server has reported AuthenticationOk and every check passed.
	OnOK func(Outcome)

	// BeforeOK, when set, is called when the server reports
	// AuthenticationOk, before lib/pq sees it; an error it returns ends
	// authentication. The root package checks sslcertmode=require with
	// it.
	BeforeOK func() error
}

// Wrap returns conn for lib/pq, wrapped in a connection that answers the
// server's password authentication requests on lib/pq's behalf. When conn
// is a *tls.Conn, its server certificate is the one SCRAM-SHA-256-PLUS binds
// to.
func Wrap(conn net.Conn, p Params) net.Conn {
	c := &authConn{Conn: conn, p: p}
	c.tls, _ = conn.(*tls.Conn)
	if c.p.ChannelBinding == "" {
		c.p.ChannelBinding = "prefer"
	}
	return c
}

// authConn wraps the connection handed to lib/pq. While the session starts
// up it reads the server's messages itself and answers every password
// authentication request (cleartext, MD5, SCRAM-SHA-256 and
// SCRAM-SHA-256-PLUS with tls-server-end-point channel binding) as libpq
// would: channel_binding, SASLprep, the password file and libpq's checks of
// each request. lib/pq sees only what follows: AuthenticationOk or the
// server's ErrorResponse, so that a wrong password still surfaces as
// *pq.Error. Requests pqssl does not handle (GSSAPI, SSPI) are passed to
// lib/pq untouched. After that it is a plain pass-through.
//
// A connection whose first packet is not a protocol 3 StartupMessage (lib/pq's
// CancelRequest connections) is passed through from the start.
type authConn struct {
	net.Conn
	tls *tls.Conn // nil on a plaintext connection
	p   Params

	pass  bool      // plain pass-through from now on
	state authState // what the connection is doing
	head  []byte    // the first bytes lib/pq wrote, until their code is known
	user  string    // the user name of the StartupMessage
	out   []byte    // bytes lib/pq has yet to read
	err   error     // the error that ended authentication, returned to every read

	scram    *scramClient // the SCRAM exchange, once the server asked for SASL
	method   string       // the password method used, for Trace
	answered bool         // a cleartext or MD5 password was sent

	readDeadline atomic.Int64 // Unix nanoseconds; 0 for none
}

type authState int

const (
	stateStartup authState = iota // before the StartupMessage
	stateAuth                     // reading the server's authentication requests
	stateDone                     // pass-through
)

func (c *authConn) Read(b []byte) (int, error) {
	if c.pass {
		return c.Conn.Read(b)
	}
	return c.readAuth(b)
}

func (c *authConn) Write(b []byte) (int, error) {
	if c.state == stateStartup {
		c.noteStartup(b)
	}
	return c.Conn.Write(b)
}

// SetDeadline and SetReadDeadline also bound pqssl's own work while it
// answers the server: deriving a SCRAM key takes as long as the server's
// iteration count says.
func (c *authConn) SetDeadline(t time.Time) error {
	c.noteDeadline(t)
	return c.Conn.SetDeadline(t)
}

func (c *authConn) SetReadDeadline(t time.Time) error {
	c.noteDeadline(t)
	return c.Conn.SetReadDeadline(t)
}

func (c *authConn) noteDeadline(t time.Time) {
	if t.IsZero() {
		c.readDeadline.Store(0)
	} else {
		c.readDeadline.Store(t.UnixNano())
	}
}

// expired reports whether the read deadline has passed.
func (c *authConn) expired() bool {
	d := c.readDeadline.Load()
	return d != 0 && time.Now().UnixNano() > d
}

// noteStartup looks at what lib/pq writes first: a StartupMessage of
// protocol 3.x starts authentication, anything else (a CancelRequest) makes
// the connection a pass-through.
func (c *authConn) noteStartup(b []byte) {
	whole := len(c.head) == 0 && len(b) >= 8
	need := 8 - len(c.head)
	if need > len(b) {
		c.head = append(c.head, b...)
		return
	}
	c.head = append(c.head, b[:need]...)
	code := binary.BigEndian.Uint32(c.head[4:8])
	c.head = nil
	if code>>16 != 3 {
		c.state, c.pass = stateDone, true
		return
	}
	c.state = stateAuth
	c.user = c.p.User
	if n := binary.BigEndian.Uint32(b[0:4]); whole && n >= 8 && int64(n) <= int64(len(b)) {
		if u, ok := startupParam(b[8:n], "user"); ok {
			c.user = u
		}
	}
}

// startupParam returns the value of key in the parameters of a
// StartupMessage body.
func startupParam(body []byte, key string) (string, bool) {
	for len(body) > 0 && body[0] != 0 {
		i := bytes.IndexByte(body, 0)
		if i < 0 {
			return "", false
		}
		k := string(body[:i])
		body = body[i+1:]
		j := bytes.IndexByte(body, 0)
		if j < 0 {
			return "", false
		}
		if k == key {
			return string(body[:j]), true
		}
		body = body[j+1:]
	}
	return "", false
}

// readAuth serves lib/pq's reads while authentication is under way.
func (c *authConn) readAuth(b []byte) (int, error) {
	for len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.state != stateAuth {
			c.pass = true
			return c.Conn.Read(b)
		}
		if err := c.step(); err != nil {
			c.err = err
			return 0, err
		}
	}
	n := copy(b, c.out)
	c.out = c.out[n:]
	if len(c.out) == 0 {
		c.out = nil
		c.pass = c.state == stateDone
	}
	return n, nil
}

// step reads one message from the server and acts on it.
func (c *authConn) step() error {
	var hdr [5]byte
	if _, err := io.ReadFull(c.Conn, hdr[:]); err != nil {
		return err
	}
	typ, n := hdr[0], binary.BigEndian.Uint32(hdr[1:])
	switch typ {
	case 'E':
		// lib/pq reads the body itself, and copes with the unframed
		// errors of servers that could not start a backend.
		c.out = append(c.out, hdr[:]...)
		c.state = stateDone
		return nil
	case 'v':
		// NegotiateProtocolVersion, when lib/pq asked for a newer
		// protocol than the server speaks: lib/pq's business.
		if n < 4 || n > maxNegotiateLen {
			return &AuthError{Kind: AuthMalformedMessage, Reason: "received invalid protocol negotiation message"}
		}
		body := make([]byte, n-4)
		if _, err := io.ReadFull(c.Conn, body); err != nil {
			return err
		}
		// The servers send their whole newest version, 3 << 16 | minor.
		if len(body) >= 4 {
			v := binary.BigEndian.Uint32(body)
			if major, minor := v>>16, v&0xffff; major == 3 && minor < uint32(c.p.MinProtocolMinor) {
				return &AuthError{Kind: AuthProtocolVersion, Reason: fmt.Sprintf(
					`server only supports protocol version 3.%d, but "min_protocol_version" was set to 3.%d`, minor, c.p.MinProtocolMinor)}
			}
		}
		c.out = append(append(c.out, hdr[:]...), body...)
		return nil
	case 'R':
		if n < 8 || n > maxAuthRequestLen {
			return unexpectedMessage(typ)
		}
		body := make([]byte, n-4)
		if _, err := io.ReadFull(c.Conn, body); err != nil {
			return err
		}
		return c.authRequest(hdr[:], body)
	default:
		return unexpectedMessage(typ)
	}
}

func unexpectedMessage(typ byte) error {
	t := string(rune(typ))
	if typ < 0x20 || typ > 0x7e {
		t = fmt.Sprintf("\\x%02x", typ)
	}
	return &AuthError{Kind: AuthProtocolViolation, Reason: "expected authentication request from server, but received " + t}
}

// authRequest acts on an AuthenticationRequest, with libpq's checks
// (check_expected_areq, pg_fe_sendauth).
func (c *authConn) authRequest(hdr, body []byte) error {
	code := binary.BigEndian.Uint32(body[:4])
	payload := body[4:]
	require := c.p.ChannelBinding == "require"

	// libpq's order: sslcertmode, then require_auth, then channel_binding.
	if code == authOK && c.p.BeforeOK != nil {
		if err := c.p.BeforeOK(); err != nil {
			return err
		}
	}
	if err := c.p.RequireAuth.allows(code, c.answered || c.scram != nil && c.scram.finished()); err != nil {
		return err
	}

	switch code {
	case authOK:
		bound := c.scram != nil && c.scram.bound()
		if require && !bound {
			// A server that skips authentication, or a man in the
			// middle that cannot complete SCRAM-SHA-256-PLUS.
			return &ChannelBindingError{Kind: ChannelBindingNotUsed, Reason: "channel binding required, but server authenticated client without channel binding"}
		}
		o := Outcome{Mechanism: c.method, Bound: bound}
		if c.scram != nil {
			o.GS2Flag = c.scram.gs2Header[0]
		}
		if f := Trace.Load(); f != nil {
			(*f)(o)
		}
		if c.p.OnOK != nil {
			c.p.OnOK(o)
		}
		c.out = append(append(c.out, hdr...), body...)
		c.state = stateDone
		return nil
	case authSASL:
		return c.saslStart(payload)
	case authSASLContinue, authSASLFinal:
		return c.saslContinue(payload, code == authSASLFinal)
	}

	if require {
		// Never answer a request that could disclose the password, or
		// leave the server unauthenticated.
		return &ChannelBindingError{Kind: ChannelBindingNotUsed, Reason: "channel binding required but not supported by server's authentication request"}
	}
	switch code {
	case authCleartext, authMD5:
		return c.sendPassword(code, payload)
	default:
		if c.p.RequireAuth.Set() {
			// lib/pq would answer, but then require_auth could not
			// tell whether the exchange completed.
			return &AuthError{Kind: AuthUnsupportedMechanism, Reason: "server requested " + methodDescription(code) + ", which pqssl does not perform"}
		}
		// GSSAPI, SSPI and requests nobody supports: lib/pq answers
		// them, or fails with its own message.
		c.out = append(append(c.out, hdr...), body...)
		c.state = stateDone
		return nil
	}
}

// password returns the password to answer the server with: the password
// parameter, else the password file's entry for this connection.
func (c *authConn) password() string {
	if c.p.Password != "" {
		return c.p.Password
	}
	dbname := c.p.DBName
	if dbname == "" {
		dbname = c.user // libpq's default database
	}
	pw, _ := passwordFromFile(c.p.Passfile, endpoint{c.p.Host, c.p.HostAddr, c.p.Port}, dbname, c.user)
	return pw
}

// sendPassword answers AuthenticationCleartextPassword and
// AuthenticationMD5Password.
func (c *authConn) sendPassword(code uint32, payload []byte) error {
	pw := c.password()
	if pw == "" {
		return ErrNoPassword
	}
	c.method = "password"
	if code == authMD5 {
		if len(payload) < 4 {
			return &AuthError{Kind: AuthLocalFailure, Reason: "fe_sendauth: error sending password authentication"}
		}
		if len(payload) > 4 {
			// libpq reads the salt, answers, and then fails on the
			// first byte after it, which it takes for the next message;
			// pqssl fails the same way without answering.
			return unexpectedMessage(payload[4])
		}
		inner := md5.Sum([]byte(pw + c.user))
		outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), payload[:4]...))
		pw = "md5" + hex.EncodeToString(outer[:])
		c.method = "md5"
	}
	msg := newFrontendMessage('p')
	msg = append(append(msg, pw...), 0)
	if err := c.send(msg); err != nil {
		return err
	}
	c.answered = true
	return nil
}

// saslStart answers AuthenticationSASL: it chooses the mechanism as libpq's
// pg_SASL_init does and sends the SCRAM client-first-message.
func (c *authConn) saslStart(payload []byte) error {
	cb := c.p.ChannelBinding
	if cb == "require" && c.tls == nil {
		return &ChannelBindingError{Kind: ChannelBindingNotUsed, Reason: "channel binding required, but SSL not in use"}
	}
	if c.scram != nil {
		return &AuthError{Kind: AuthProtocolViolation, Reason: "duplicate SASL authentication request"}
	}
	mechs, ok := parseMechanisms(payload)
	if !ok {
		return &AuthError{Kind: AuthMalformedMessage, Reason: "fe_sendauth: invalid authentication request from server: invalid list of authentication mechanisms"}
	}
	selected := ""
	for _, m := range mechs {
		switch {
		case m == mechSCRAMPlus && c.tls == nil:
			// Only a server behind a proxy that stripped TLS offers
			// this: the server would refuse the exchange anyway.
			return &AuthError{Kind: AuthProtocolViolation, Reason: "server offered SCRAM-SHA-256-PLUS authentication over a non-SSL connection"}
		case m == mechSCRAMPlus:
			if cb != "disable" {
				selected = mechSCRAMPlus
			}
		case m == mechSCRAM && selected == "":
			selected = mechSCRAM
		}
	}
	if selected == "" {
		return &AuthError{Kind: AuthUnsupportedMechanism, Reason: "none of the server's SASL authentication mechanisms are supported"}
	}
	if cb == "require" && selected != mechSCRAMPlus {
		return &ChannelBindingError{Kind: ChannelBindingNotUsed, Reason: "channel binding is required, but server did not offer an authentication method that supports channel binding"}
	}
	if err := c.p.RequireAuth.allowsMechanism(selected); err != nil {
		return err
	}
	pw := c.password()
	if pw == "" {
		return ErrNoPassword
	}

	gs2 := "n,,"
	var cbind []byte
	switch {
	case selected == mechSCRAMPlus:
		certs := c.tls.ConnectionState().PeerCertificates
		if len(certs) == 0 {
			return &ChannelBindingError{Kind: ChannelBindingUnsupportedCertificate, Reason: "could not get server certificate for channel binding"}
		}
		var err error
		if cbind, err = tlsServerEndPoint(certs[0]); err != nil {
			return err
		}
		gs2 = "p=" + cbindType + ",,"
	case c.tls != nil && cb != "disable":
		// The client could bind but the server does not offer to: the
		// flag lets a server that does support it detect a downgrade.
		gs2 = "y,,"
	}
	s, err := newSCRAMClient(selected, gs2, cbind, saslPrep(pw), c.expired)
	if err != nil {
		return err
	}
	c.scram, c.method = s, selected
	first := s.clientFirst()
	msg := newFrontendMessage('p')
	msg = append(append(msg, selected...), 0)
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(first)))
	msg = append(msg, first...)
	return c.send(msg)
}

// saslContinue answers AuthenticationSASLContinue and AuthenticationSASLFinal.
func (c *authConn) saslContinue(payload []byte, final bool) error {
	if c.scram == nil {
		return &AuthError{Kind: AuthProtocolViolation, Reason: "fe_sendauth: invalid authentication request from server: AUTH_REQ_SASL_CONT without AUTH_REQ_SASL"}
	}
	out, done, err := c.scram.exchange(payload)
	if err != nil {
		return err
	}
	if final && !done {
		return &AuthError{Kind: AuthProtocolViolation, Reason: "AuthenticationSASLFinal received from server, but SASL authentication was not completed"}
	}
	if out == nil {
		return nil
	}
	return c.send(append(newFrontendMessage('p'), out...))
}

// parseMechanisms parses the list of an AuthenticationSASL message: names
// ending in NUL, then an empty name.
func parseMechanisms(b []byte) ([]string, bool) {
	var mechs []string
	for {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, false
		}
		if i == 0 {
			return mechs, true
		}
		mechs = append(mechs, string(b[:i]))
		b = b[i+1:]
	}
}

// newFrontendMessage starts a message of type t; send fills in its length.
func newFrontendMessage(t byte) []byte {
	return append(make([]byte, 0, 128), t, 0, 0, 0, 0)
}

// send completes msg's length word and writes it to the server.
func (c *authConn) send(msg []byte) error {
	binary.BigEndian.PutUint32(msg[1:5], uint32(len(msg)-1))
	_, err := c.Conn.Write(msg)
	return err
}
