package pqssl

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math"
	"net"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/pqssl/pqssl/internal/oid"

	"golang.org/x/text/unicode/norm"

	"github.com/pqssl/pqssl/internal/cparse"
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

// authOutcome describes how a session authenticated.
type authOutcome struct {
	mechanism string // SCRAM-SHA-256[-PLUS], "md5", "password", or "" when the server asked for nothing
	gs2Flag   byte   // SCRAM's channel binding flag ('p', 'y' or 'n'), 0 without SCRAM
	bound     bool   // SCRAM-SHA-256-PLUS completed with a verified server signature
}

// authTrace, when set, is told how each session that reaches
// AuthenticationOk authenticated. Tests use it to see that channel binding
// took place.
var authTrace atomic.Pointer[func(authOutcome)]

// authParams is what an authConn needs to answer the server.
type authParams struct {
	channelBinding string // disable, prefer, require
	user           string
	password       string // the password parameter or PGPASSWORD; "" when none
	passfile       string // password file consulted when password is ""
	dbname         string
	host           hostSpec // the host the password file entry must match

	// sslcertmode=require is checked when the server reports successful
	// authentication, against what became of the client certificate in the
	// handshake (certs, nil on a plaintext session).
	sslcertmode string
	certs       *clientCertExchange
}

// wrapAuth returns conn for lib/pq, wrapped in an authConn that answers the
// server's password authentication requests on lib/pq's behalf.
func (d *dialer) wrapAuth(conn net.Conn, certs *clientCertExchange) net.Conn {
	cfg := d.c.cfg
	return newAuthConn(conn, authParams{
		sslcertmode:    cfg.sslcertmode,
		certs:          certs,
		channelBinding: cfg.channelBinding,
		user:           cfg.user,
		password:       cfg.password,
		passfile:       cfg.passfile,
		dbname:         cfg.dbname,
		host:           d.host,
	})
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
	p   authParams

	pass  bool      // plain pass-through from now on
	state authState // what the connection is doing
	head  []byte    // the first bytes lib/pq wrote, until their code is known
	user  string    // the user name of the StartupMessage
	out   []byte    // bytes lib/pq has yet to read
	err   error     // the error that ended authentication, returned to every read

	scram  *scramClient // the SCRAM exchange, once the server asked for SASL
	method string       // the password method used, for authTrace

	readDeadline atomic.Int64 // Unix nanoseconds; 0 for none
}

type authState int

const (
	stateStartup authState = iota // before the StartupMessage
	stateAuth                     // reading the server's authentication requests
	stateDone                     // pass-through
)

func newAuthConn(conn net.Conn, p authParams) net.Conn {
	c := &authConn{Conn: conn, p: p}
	c.tls, _ = conn.(*tls.Conn)
	if c.p.channelBinding == "" {
		c.p.channelBinding = "prefer"
	}
	return c
}

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
	c.user = c.p.user
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
			return &AuthError{Reason: "received invalid protocol negotiation message"}
		}
		body := make([]byte, n-4)
		if _, err := io.ReadFull(c.Conn, body); err != nil {
			return err
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
	return &AuthError{Reason: "expected authentication request from server, but received " + t}
}

// authRequest acts on an AuthenticationRequest, with libpq's checks
// (check_expected_areq, pg_fe_sendauth).
func (c *authConn) authRequest(hdr, body []byte) error {
	code := binary.BigEndian.Uint32(body[:4])
	payload := body[4:]
	require := c.p.channelBinding == "require"

	switch code {
	case authOK:
		if err := c.p.certs.check(c.p.sslcertmode); err != nil {
			return err
		}
		bound := c.scram != nil && c.scram.bound()
		if require && !bound {
			// A server that skips authentication, or a man in the
			// middle that cannot complete SCRAM-SHA-256-PLUS.
			return &ChannelBindingError{Reason: "channel binding required, but server authenticated client without channel binding"}
		}
		if f := authTrace.Load(); f != nil {
			o := authOutcome{mechanism: c.method, bound: bound}
			if c.scram != nil {
				o.gs2Flag = c.scram.gs2Header[0]
			}
			(*f)(o)
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
		return &ChannelBindingError{Reason: "channel binding required but not supported by server's authentication request"}
	}
	switch code {
	case authCleartext, authMD5:
		return c.sendPassword(code, payload)
	default:
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
	if c.p.password != "" {
		return c.p.password
	}
	dbname := c.p.dbname
	if dbname == "" {
		dbname = c.user // libpq's default database
	}
	pw, _ := passwordFromFile(c.p.passfile, c.p.host, dbname, c.user)
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
			return &AuthError{Reason: "fe_sendauth: error sending password authentication"}
		}
		inner := md5.Sum([]byte(pw + c.user))
		outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), payload[:4]...))
		pw = "md5" + hex.EncodeToString(outer[:])
		c.method = "md5"
	}
	msg := newFrontendMessage('p')
	msg = append(append(msg, pw...), 0)
	return c.send(msg)
}

// saslStart answers AuthenticationSASL: it chooses the mechanism as libpq's
// pg_SASL_init does and sends the SCRAM client-first-message.
func (c *authConn) saslStart(payload []byte) error {
	cb := c.p.channelBinding
	if cb == "require" && c.tls == nil {
		return &ChannelBindingError{Reason: "channel binding required, but SSL not in use"}
	}
	if c.scram != nil {
		return &AuthError{Reason: "duplicate SASL authentication request"}
	}
	mechs, ok := parseMechanisms(payload)
	if !ok {
		return &AuthError{Reason: "fe_sendauth: invalid authentication request from server: invalid list of authentication mechanisms"}
	}
	selected := ""
	for _, m := range mechs {
		switch {
		case m == mechSCRAMPlus && c.tls == nil:
			// Only a server behind a proxy that stripped TLS offers
			// this: the server would refuse the exchange anyway.
			return &AuthError{Reason: "server offered SCRAM-SHA-256-PLUS authentication over a non-SSL connection"}
		case m == mechSCRAMPlus:
			if cb != "disable" {
				selected = mechSCRAMPlus
			}
		case m == mechSCRAM && selected == "":
			selected = mechSCRAM
		}
	}
	if selected == "" {
		return &AuthError{Reason: "none of the server's SASL authentication mechanisms are supported"}
	}
	if cb == "require" && selected != mechSCRAMPlus {
		return &ChannelBindingError{Reason: "channel binding is required, but server did not offer an authentication method that supports channel binding"}
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
			return &ChannelBindingError{Reason: "could not get server certificate for channel binding"}
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
		return &AuthError{Reason: "fe_sendauth: invalid authentication request from server: AUTH_REQ_SASL_CONT without AUTH_REQ_SASL"}
	}
	out, done, err := c.scram.exchange(payload)
	if err != nil {
		return err
	}
	if final && !done {
		return &AuthError{Reason: "AuthenticationSASLFinal received from server, but SASL authentication was not completed"}
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

// scramState follows libpq's fe_scram_state_enum.
type scramState int

const (
	scramNonceSent scramState = iota
	scramProofSent
	scramFinished
)

// scramClient is the client side of one SCRAM-SHA-256 exchange (RFC 5802,
// RFC 7677), with libpq's parsing and error messages.
type scramClient struct {
	mechanism string
	gs2Header string // "p=tls-server-end-point,,", "y,," or "n,,"
	cbindData []byte // tls-server-end-point data, with SCRAM-SHA-256-PLUS
	password  []byte // after SASLprep
	expired   func() bool

	clientNonce             string
	clientFirstBare         string
	serverFirst             string
	clientFinalWithoutProof string
	saltedPassword          []byte
	state                   scramState
	verified                bool
}

// scramNonceLen is libpq's SCRAM_RAW_NONCE_LEN.
const scramNonceLen = 18

func newSCRAMClient(mech, gs2Header string, cbind []byte, password string, expired func() bool) (*scramClient, error) {
	raw := make([]byte, scramNonceLen)
	if _, err := rand.Read(raw); err != nil {
		return nil, &AuthError{Reason: "could not generate nonce"}
	}
	s := &scramClient{
		mechanism:   mech,
		gs2Header:   gs2Header,
		cbindData:   cbind,
		password:    []byte(password),
		expired:     expired,
		clientNonce: base64.StdEncoding.EncodeToString(raw),
	}
	// The user name is left empty, as libpq leaves it: the server takes
	// the one of the StartupMessage.
	s.clientFirstBare = "n=,r=" + s.clientNonce
	return s, nil
}

func (s *scramClient) clientFirst() string { return s.gs2Header + s.clientFirstBare }

// bound reports whether the exchange used channel binding and proved that
// the server knows the password.
func (s *scramClient) bound() bool {
	return s.state == scramFinished && s.verified && s.mechanism == mechSCRAMPlus
}

// exchange processes one server message and returns the answer, if any, and
// whether the exchange is complete.
func (s *scramClient) exchange(in []byte) (out []byte, done bool, err error) {
	if len(in) == 0 {
		return nil, false, scramError("malformed SCRAM message (empty message)")
	}
	if bytes.IndexByte(in, 0) >= 0 {
		return nil, false, scramError("malformed SCRAM message (length mismatch)")
	}
	switch s.state {
	case scramNonceSent:
		if err := s.readServerFirst(string(in)); err != nil {
			return nil, false, err
		}
		final, err := s.clientFinal()
		if err != nil {
			return nil, false, err
		}
		s.state = scramProofSent
		return final, false, nil
	case scramProofSent:
		s.state = scramFinished
		if err := s.readServerFinal(string(in)); err != nil {
			return nil, true, err
		}
		return nil, true, nil
	default:
		return nil, false, scramError("invalid SCRAM exchange state")
	}
}

func scramError(reason string) error { return &AuthError{Reason: reason} }

// readAttr reads "attr=value" and the comma after it from the front of *s,
// as libpq's read_attr_value.
func readAttr(s *string, attr byte) (string, error) {
	in := *s
	if in == "" || in[0] != attr {
		return "", scramError(fmt.Sprintf("malformed SCRAM message (attribute %q expected)", string(attr)))
	}
	if len(in) < 2 || in[1] != '=' {
		return "", scramError(fmt.Sprintf("malformed SCRAM message (expected character \"=\" for attribute %q)", string(attr)))
	}
	in = in[2:]
	if i := strings.IndexByte(in, ','); i >= 0 {
		*s = in[i+1:]
		return in[:i], nil
	}
	*s = ""
	return in, nil
}

// decodeBase64 decodes standard, padded base64 and nothing else: Go's
// decoder would skip line breaks, PostgreSQL's does not.
func decodeBase64(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	return b, err == nil
}

func (s *scramClient) readServerFirst(in string) error {
	s.serverFirst = in
	nonce, err := readAttr(&in, 'r')
	if err != nil {
		return err
	}
	// The server's nonce must extend ours, or this is a replay.
	if len(nonce) < len(s.clientNonce) || !hmac.Equal([]byte(nonce[:len(s.clientNonce)]), []byte(s.clientNonce)) {
		return scramError("invalid SCRAM response (nonce mismatch)")
	}
	enc, err := readAttr(&in, 's')
	if err != nil {
		return err
	}
	salt, ok := decodeBase64(enc)
	if !ok {
		return scramError("malformed SCRAM message (invalid salt)")
	}
	it, err := readAttr(&in, 'i')
	if err != nil {
		return err
	}
	iterations, ok := parseIterations(it)
	if !ok {
		return scramError("malformed SCRAM message (invalid iteration count)")
	}
	// Like libpq, ignore anything after the iteration count (libpq notes
	// it as garbage but goes on).
	s.clientFinalWithoutProof = "c=" + s.channelBinding() + ",r=" + nonce
	s.saltedPassword, err = s.salt(salt, iterations)
	return err
}

// parseIterations parses the iteration count as libpq's strtol does (leading
// space and a sign allowed, nothing after the digits), requiring it to be
// positive. Counts beyond the range of a C int are refused.
func parseIterations(s string) (int, bool) {
	n, rest, ok := cparse.Strtol(s)
	return int(n), ok && rest == "" && n >= 1 && n <= math.MaxInt32
}

// channelBinding is the c= attribute: the base64 of the GS2 header and, with
// SCRAM-SHA-256-PLUS, the channel binding data.
func (s *scramClient) channelBinding() string {
	return base64.StdEncoding.EncodeToString(append([]byte(s.gs2Header), s.cbindData...))
}

// salt computes SaltedPassword, PBKDF2 with HMAC-SHA-256 for one block. It is
// written out rather than taken from crypto/pbkdf2 so that the connection's
// deadline interrupts a server's excessive iteration count.
func (s *scramClient) salt(salt []byte, iterations int) ([]byte, error) {
	mac := hmac.New(sha256.New, s.password)
	mac.Write(salt)
	mac.Write([]byte{0, 0, 0, 1})
	u := mac.Sum(nil)
	out := bytes.Clone(u)
	for i := 1; i < iterations; i++ {
		if i%4096 == 0 && s.expired() {
			return nil, fmt.Errorf("pqssl: timeout expired while computing the SCRAM proof (%d iterations): %w", iterations, os.ErrDeadlineExceeded)
		}
		mac.Reset()
		mac.Write(u)
		u = mac.Sum(u[:0])
		for j := range out {
			out[j] ^= u[j]
		}
	}
	return out, nil
}

func hmacSHA256(key []byte, parts ...string) []byte {
	mac := hmac.New(sha256.New, key)
	for _, p := range parts {
		mac.Write([]byte(p))
	}
	return mac.Sum(nil)
}

func (s *scramClient) authMessage() string {
	return s.clientFirstBare + "," + s.serverFirst + "," + s.clientFinalWithoutProof
}

// clientFinal builds client-final-message, with the client proof.
func (s *scramClient) clientFinal() ([]byte, error) {
	clientKey := hmacSHA256(s.saltedPassword, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	sig := hmacSHA256(storedKey[:], s.authMessage())
	proof := make([]byte, len(clientKey))
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	return []byte(s.clientFinalWithoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

func (s *scramClient) readServerFinal(in string) error {
	if strings.HasPrefix(in, "e") {
		msg, err := readAttr(&in, 'e')
		if err != nil {
			return err
		}
		return scramError("error received from server in SCRAM exchange: " + msg)
	}
	enc, err := readAttr(&in, 'v')
	if err != nil {
		return err
	}
	sig, ok := decodeBase64(enc)
	if !ok || len(sig) != sha256.Size {
		return scramError("malformed SCRAM message (invalid server signature)")
	}
	serverKey := hmacSHA256(s.saltedPassword, "Server Key")
	if !hmac.Equal(sig, hmacSHA256(serverKey, s.authMessage())) {
		// Whoever answered does not know the password's verifier (or,
		// with channel binding, saw a different TLS certificate).
		return scramError("incorrect server signature")
	}
	s.verified = true
	return nil
}

// endPointHashes maps signature algorithms, and for RSASSA-PSS hash
// algorithms, to the hash tls-server-end-point uses: the signature's own,
// except SHA-256 for MD5 and SHA-1 (RFC 5929, section 4.1).
var endPointHashes = func() map[string]func() hash.Hash {
	m := map[string]func() hash.Hash{}
	add := func(h func() hash.Hash, oids ...string) {
		for _, o := range oids {
			m[o] = h
		}
	}
	add(sha256.New,
		"1.2.840.113549.1.1.4", // md5WithRSAEncryption
		"1.2.840.113549.1.1.5", // sha1WithRSAEncryption
		"1.3.14.3.2.29",        // sha1WithRSASignature (OIW)
		"1.2.840.10040.4.3",    // dsa-with-sha1
		"1.3.14.3.2.27",        // dsaWithSHA1 (OIW)
		"1.2.840.10045.4.1",    // ecdsa-with-SHA1
		"1.3.14.3.2.26",        // sha1, as an RSASSA-PSS hash
		"1.2.840.113549.2.5",   // md5, as an RSASSA-PSS hash
		"1.2.840.113549.1.1.11", "1.2.840.10045.4.3.2", "2.16.840.1.101.3.4.3.2", "2.16.840.1.101.3.4.2.1")
	add(sha256.New224, "1.2.840.113549.1.1.14", "1.2.840.10045.4.3.1", "2.16.840.1.101.3.4.3.1", "2.16.840.1.101.3.4.2.4")
	add(sha512.New384, "1.2.840.113549.1.1.12", "1.2.840.10045.4.3.3", "2.16.840.1.101.3.4.3.3", "2.16.840.1.101.3.4.2.2")
	add(sha512.New, "1.2.840.113549.1.1.13", "1.2.840.10045.4.3.4", "2.16.840.1.101.3.4.3.4", "2.16.840.1.101.3.4.2.3")
	add(sha512.New512_224, "1.2.840.113549.1.1.15", "2.16.840.1.101.3.4.2.5")
	add(sha512.New512_256, "1.2.840.113549.1.1.16", "2.16.840.1.101.3.4.2.6")
	add(func() hash.Hash { return sha3.New224() }, "2.16.840.1.101.3.4.3.5", "2.16.840.1.101.3.4.3.9", "2.16.840.1.101.3.4.3.13", "2.16.840.1.101.3.4.2.7")
	add(func() hash.Hash { return sha3.New256() }, "2.16.840.1.101.3.4.3.6", "2.16.840.1.101.3.4.3.10", "2.16.840.1.101.3.4.3.14", "2.16.840.1.101.3.4.2.8")
	add(func() hash.Hash { return sha3.New384() }, "2.16.840.1.101.3.4.3.7", "2.16.840.1.101.3.4.3.11", "2.16.840.1.101.3.4.3.15", "2.16.840.1.101.3.4.2.9")
	add(func() hash.Hash { return sha3.New512() }, "2.16.840.1.101.3.4.3.8", "2.16.840.1.101.3.4.3.12", "2.16.840.1.101.3.4.3.16", "2.16.840.1.101.3.4.2.10")
	return m
}()

// tlsServerEndPoint returns the tls-server-end-point channel binding data
// (RFC 5929) of the server certificate cert, computed as libpq and the
// PostgreSQL server compute it: the DER certificate hashed with the hash of
// its signature algorithm (for RSASSA-PSS, the hash of its parameters),
// SHA-256 for MD5 and SHA-1. A signature algorithm without a hash, such as
// Ed25519, allows no channel binding: libpq then fails the connection, even
// with channel_binding=prefer, and so does pqssl.
func tlsServerEndPoint(cert *x509.Certificate) ([]byte, error) {
	var c struct {
		TBS    asn1.RawValue
		SigAlg pkix.AlgorithmIdentifier
		Sig    asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.Raw, &c); err != nil {
		return nil, &ChannelBindingError{Reason: "could not determine server certificate signature algorithm"}
	}
	alg := c.SigAlg.Algorithm
	switch {
	case alg.Equal(oid.Ed25519), alg.Equal(oid.Ed448):
		return nil, &ChannelBindingError{Reason: "could not find digest for NID UNDEF: the server certificate's signature algorithm has no hash for tls-server-end-point channel binding"}
	case alg.Equal(oid.MD2WithRSA), alg.Equal(oid.MD4WithRSA):
		return nil, &ChannelBindingError{Reason: "could not find digest for the server certificate's signature algorithm " + alg.String()}
	case alg.Equal(oid.PublicKeyRSAPSS):
		var params struct {
			Hash pkix.AlgorithmIdentifier `asn1:"explicit,tag:0,optional"`
		}
		if len(c.SigAlg.Parameters.FullBytes) == 0 {
			alg = oid.SHA1
		} else if _, err := asn1.Unmarshal(c.SigAlg.Parameters.FullBytes, &params); err != nil {
			return nil, &ChannelBindingError{Reason: "could not determine server certificate signature algorithm"}
		} else if len(params.Hash.Algorithm) == 0 {
			alg = oid.SHA1 // the default of RSASSA-PSS-params
		} else {
			alg = params.Hash.Algorithm
		}
	}
	newHash, ok := endPointHashes[alg.String()]
	if !ok {
		return nil, &ChannelBindingError{Reason: "could not determine server certificate signature algorithm"}
	}
	h := newHash()
	h.Write(cert.Raw)
	return h.Sum(nil), nil
}

// saslPrep prepares a password for SCRAM the way PostgreSQL's pg_saslprep
// does (RFC 4013 SASLprep, with PostgreSQL's own reading of it), so that the
// client derives the key the server derived when the password was set:
//
//   - a password of ASCII characters only is used as it is;
//   - non-ASCII spaces become spaces and characters "commonly mapped to
//     nothing" are removed;
//   - the result is NFKC-normalised;
//   - when the input is not valid UTF-8, or the mapped password is empty,
//     holds a prohibited or (in Unicode 3.2) unassigned character, or breaks
//     the bidirectional rules, the password is used unchanged, as libpq does.
//
// PostgreSQL checks the prohibited and bidirectional rules on the mapped
// password before normalisation, not after it as RFC 4013 says; the server
// does the same when it stores a password, so pqssl follows PostgreSQL.
func saslPrep(pw string) string {
	ascii := true
	for i := 0; i < len(pw); i++ {
		if pw[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii || !utf8.ValidString(pw) {
		return pw
	}
	mapped := make([]rune, 0, len(pw))
	for _, r := range pw {
		switch {
		case saslprepSpaces.contains(r):
			mapped = append(mapped, ' ')
		case saslprepNothing.contains(r):
		default:
			mapped = append(mapped, r)
		}
	}
	if len(mapped) == 0 {
		return pw
	}
	randAL := false
	for _, r := range mapped {
		if saslprepProhibited.contains(r) || saslprepUnassigned.contains(r) {
			return pw
		}
		randAL = randAL || saslprepRandAL.contains(r)
	}
	if randAL {
		for _, r := range mapped {
			if saslprepL.contains(r) {
				return pw
			}
		}
		if !saslprepRandAL.contains(mapped[0]) || !saslprepRandAL.contains(mapped[len(mapped)-1]) {
			return pw
		}
	}
	return nfkc(string(mapped))
}

// nfkc returns the NFKC form of s, which must hold only characters assigned
// in Unicode 3.2 (SASLprep rejects the others first).
//
// The canonical composition is done here rather than by
// golang.org/x/text/unicode/norm's NFKC, which gets two cases wrong: it looks
// composition pairs up by the low 16 bits of each character, so that a
// supplementary-plane starter composes as if it were a BMP letter (U+1D041
// U+0300 becomes U+00C0), and it composes a mark with a starter across a
// character of combining class 0 that combines backward (a, U+0B56, U+0334,
// U+0301 becomes U+00E1, U+0B56, U+0334). The package still provides the
// compatibility decomposition and answers, for one pair at a time, whether
// and into what the pair composes.
func nfkc(s string) string {
	out := make([]rune, 0, len(s))
	starter := -1 // index in out of the last starter
	lastCCC := -1 // combining class of the last character after it, -1 if none
	for _, r := range norm.NFKD.String(s) {
		ccc := int(norm.NFD.PropertiesString(string(r)).CCC())
		// UAX #15: r is blocked from the starter when a character between
		// them has class 0 or a class at least r's.
		if starter >= 0 && (lastCCC == -1 || lastCCC < ccc) {
			if c, ok := composePair(out[starter], r); ok {
				out[starter] = c
				continue
			}
		}
		if ccc == 0 {
			starter, lastCCC = len(out), -1
		} else {
			lastCCC = ccc
		}
		out = append(out, r)
	}
	return string(out)
}

// composePair returns the primary composite of starter a and character b, if
// there is one. No pair with a supplementary-plane character composes in
// Unicode 3.2.
func composePair(a, b rune) (rune, bool) {
	if a >= 0x10000 || b >= 0x10000 {
		return 0, false
	}
	c := norm.NFC.String(string([]rune{a, b}))
	r, n := utf8.DecodeRuneInString(c)
	if n != len(c) {
		return 0, false
	}
	return r, true
}

// runeRanges is a sorted list of inclusive code point ranges.
type runeRanges []struct{ lo, hi rune }

func (t runeRanges) contains(r rune) bool {
	i := sort.Search(len(t), func(i int) bool { return t[i].hi >= r })
	return i < len(t) && t[i].lo <= r
}

// The tables of RFC 3454 that SASLprep uses, for Unicode 3.2.

// C.1.2: non-ASCII space characters.
var saslprepSpaces = runeRanges{
	{0x00A0, 0x00A0}, {0x1680, 0x1680}, {0x2000, 0x200B}, {0x202F, 0x202F}, {0x205F, 0x205F},
	{0x3000, 0x3000},
}

// B.1: commonly mapped to nothing.
var saslprepNothing = runeRanges{
	{0x00AD, 0x00AD}, {0x034F, 0x034F}, {0x1806, 0x1806}, {0x180B, 0x180D}, {0x200B, 0x200D},
	{0x2060, 0x2060}, {0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF},
}

// SASLprep's prohibited output: the union of C.1.2, C.2.1, C.2.2, C.3, C.4,
// C.5, C.6, C.7, C.8 and C.9.
var saslprepProhibited = runeRanges{
	{0x0000, 0x001F}, {0x007F, 0x00A0}, {0x0340, 0x0341}, {0x06DD, 0x06DD}, {0x070F, 0x070F},
	{0x1680, 0x1680}, {0x180E, 0x180E}, {0x2000, 0x200F}, {0x2028, 0x202F}, {0x205F, 0x2063},
	{0x206A, 0x206F}, {0x2FF0, 0x2FFB}, {0x3000, 0x3000}, {0xD800, 0xF8FF}, {0xFDD0, 0xFDEF},
	{0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFF}, {0x1D173, 0x1D17A}, {0x1FFFE, 0x1FFFF}, {0x2FFFE, 0x2FFFF},
	{0x3FFFE, 0x3FFFF}, {0x4FFFE, 0x4FFFF}, {0x5FFFE, 0x5FFFF}, {0x6FFFE, 0x6FFFF}, {0x7FFFE, 0x7FFFF},
	{0x8FFFE, 0x8FFFF}, {0x9FFFE, 0x9FFFF}, {0xAFFFE, 0xAFFFF}, {0xBFFFE, 0xBFFFF}, {0xCFFFE, 0xCFFFF},
	{0xDFFFE, 0xDFFFF}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xEFFFE, 0x10FFFF},
}

// A.1: code points unassigned in Unicode 3.2.
var saslprepUnassigned = runeRanges{
	{0x0221, 0x0221}, {0x0234, 0x024F}, {0x02AE, 0x02AF}, {0x02EF, 0x02FF}, {0x0350, 0x035F},
	{0x0370, 0x0373}, {0x0376, 0x0379}, {0x037B, 0x037D}, {0x037F, 0x0383}, {0x038B, 0x038B},
	{0x038D, 0x038D}, {0x03A2, 0x03A2}, {0x03CF, 0x03CF}, {0x03F7, 0x03FF}, {0x0487, 0x0487},
	{0x04CF, 0x04CF}, {0x04F6, 0x04F7}, {0x04FA, 0x04FF}, {0x0510, 0x0530}, {0x0557, 0x0558},
	{0x0560, 0x0560}, {0x0588, 0x0588}, {0x058B, 0x0590}, {0x05A2, 0x05A2}, {0x05BA, 0x05BA},
	{0x05C5, 0x05CF}, {0x05EB, 0x05EF}, {0x05F5, 0x060B}, {0x060D, 0x061A}, {0x061C, 0x061E},
	{0x0620, 0x0620}, {0x063B, 0x063F}, {0x0656, 0x065F}, {0x06EE, 0x06EF}, {0x06FF, 0x06FF},
	{0x070E, 0x070E}, {0x072D, 0x072F}, {0x074B, 0x077F}, {0x07B2, 0x0900}, {0x0904, 0x0904},
	{0x093A, 0x093B}, {0x094E, 0x094F}, {0x0955, 0x0957}, {0x0971, 0x0980}, {0x0984, 0x0984},
	{0x098D, 0x098E}, {0x0991, 0x0992}, {0x09A9, 0x09A9}, {0x09B1, 0x09B1}, {0x09B3, 0x09B5},
	{0x09BA, 0x09BB}, {0x09BD, 0x09BD}, {0x09C5, 0x09C6}, {0x09C9, 0x09CA}, {0x09CE, 0x09D6},
	{0x09D8, 0x09DB}, {0x09DE, 0x09DE}, {0x09E4, 0x09E5}, {0x09FB, 0x0A01}, {0x0A03, 0x0A04},
	{0x0A0B, 0x0A0E}, {0x0A11, 0x0A12}, {0x0A29, 0x0A29}, {0x0A31, 0x0A31}, {0x0A34, 0x0A34},
	{0x0A37, 0x0A37}, {0x0A3A, 0x0A3B}, {0x0A3D, 0x0A3D}, {0x0A43, 0x0A46}, {0x0A49, 0x0A4A},
	{0x0A4E, 0x0A58}, {0x0A5D, 0x0A5D}, {0x0A5F, 0x0A65}, {0x0A75, 0x0A80}, {0x0A84, 0x0A84},
	{0x0A8C, 0x0A8C}, {0x0A8E, 0x0A8E}, {0x0A92, 0x0A92}, {0x0AA9, 0x0AA9}, {0x0AB1, 0x0AB1},
	{0x0AB4, 0x0AB4}, {0x0ABA, 0x0ABB}, {0x0AC6, 0x0AC6}, {0x0ACA, 0x0ACA}, {0x0ACE, 0x0ACF},
	{0x0AD1, 0x0ADF}, {0x0AE1, 0x0AE5}, {0x0AF0, 0x0B00}, {0x0B04, 0x0B04}, {0x0B0D, 0x0B0E},
	{0x0B11, 0x0B12}, {0x0B29, 0x0B29}, {0x0B31, 0x0B31}, {0x0B34, 0x0B35}, {0x0B3A, 0x0B3B},
	{0x0B44, 0x0B46}, {0x0B49, 0x0B4A}, {0x0B4E, 0x0B55}, {0x0B58, 0x0B5B}, {0x0B5E, 0x0B5E},
	{0x0B62, 0x0B65}, {0x0B71, 0x0B81}, {0x0B84, 0x0B84}, {0x0B8B, 0x0B8D}, {0x0B91, 0x0B91},
	{0x0B96, 0x0B98}, {0x0B9B, 0x0B9B}, {0x0B9D, 0x0B9D}, {0x0BA0, 0x0BA2}, {0x0BA5, 0x0BA7},
	{0x0BAB, 0x0BAD}, {0x0BB6, 0x0BB6}, {0x0BBA, 0x0BBD}, {0x0BC3, 0x0BC5}, {0x0BC9, 0x0BC9},
	{0x0BCE, 0x0BD6}, {0x0BD8, 0x0BE6}, {0x0BF3, 0x0C00}, {0x0C04, 0x0C04}, {0x0C0D, 0x0C0D},
	{0x0C11, 0x0C11}, {0x0C29, 0x0C29}, {0x0C34, 0x0C34}, {0x0C3A, 0x0C3D}, {0x0C45, 0x0C45},
	{0x0C49, 0x0C49}, {0x0C4E, 0x0C54}, {0x0C57, 0x0C5F}, {0x0C62, 0x0C65}, {0x0C70, 0x0C81},
	{0x0C84, 0x0C84}, {0x0C8D, 0x0C8D}, {0x0C91, 0x0C91}, {0x0CA9, 0x0CA9}, {0x0CB4, 0x0CB4},
	{0x0CBA, 0x0CBD}, {0x0CC5, 0x0CC5}, {0x0CC9, 0x0CC9}, {0x0CCE, 0x0CD4}, {0x0CD7, 0x0CDD},
	{0x0CDF, 0x0CDF}, {0x0CE2, 0x0CE5}, {0x0CF0, 0x0D01}, {0x0D04, 0x0D04}, {0x0D0D, 0x0D0D},
	{0x0D11, 0x0D11}, {0x0D29, 0x0D29}, {0x0D3A, 0x0D3D}, {0x0D44, 0x0D45}, {0x0D49, 0x0D49},
	{0x0D4E, 0x0D56}, {0x0D58, 0x0D5F}, {0x0D62, 0x0D65}, {0x0D70, 0x0D81}, {0x0D84, 0x0D84},
	{0x0D97, 0x0D99}, {0x0DB2, 0x0DB2}, {0x0DBC, 0x0DBC}, {0x0DBE, 0x0DBF}, {0x0DC7, 0x0DC9},
	{0x0DCB, 0x0DCE}, {0x0DD5, 0x0DD5}, {0x0DD7, 0x0DD7}, {0x0DE0, 0x0DF1}, {0x0DF5, 0x0E00},
	{0x0E3B, 0x0E3E}, {0x0E5C, 0x0E80}, {0x0E83, 0x0E83}, {0x0E85, 0x0E86}, {0x0E89, 0x0E89},
	{0x0E8B, 0x0E8C}, {0x0E8E, 0x0E93}, {0x0E98, 0x0E98}, {0x0EA0, 0x0EA0}, {0x0EA4, 0x0EA4},
	{0x0EA6, 0x0EA6}, {0x0EA8, 0x0EA9}, {0x0EAC, 0x0EAC}, {0x0EBA, 0x0EBA}, {0x0EBE, 0x0EBF},
	{0x0EC5, 0x0EC5}, {0x0EC7, 0x0EC7}, {0x0ECE, 0x0ECF}, {0x0EDA, 0x0EDB}, {0x0EDE, 0x0EFF},
	{0x0F48, 0x0F48}, {0x0F6B, 0x0F70}, {0x0F8C, 0x0F8F}, {0x0F98, 0x0F98}, {0x0FBD, 0x0FBD},
	{0x0FCD, 0x0FCE}, {0x0FD0, 0x0FFF}, {0x1022, 0x1022}, {0x1028, 0x1028}, {0x102B, 0x102B},
	{0x1033, 0x1035}, {0x103A, 0x103F}, {0x105A, 0x109F}, {0x10C6, 0x10CF}, {0x10F9, 0x10FA},
	{0x10FC, 0x10FF}, {0x115A, 0x115E}, {0x11A3, 0x11A7}, {0x11FA, 0x11FF}, {0x1207, 0x1207},
	{0x1247, 0x1247}, {0x1249, 0x1249}, {0x124E, 0x124F}, {0x1257, 0x1257}, {0x1259, 0x1259},
	{0x125E, 0x125F}, {0x1287, 0x1287}, {0x1289, 0x1289}, {0x128E, 0x128F}, {0x12AF, 0x12AF},
	{0x12B1, 0x12B1}, {0x12B6, 0x12B7}, {0x12BF, 0x12BF}, {0x12C1, 0x12C1}, {0x12C6, 0x12C7},
	{0x12CF, 0x12CF}, {0x12D7, 0x12D7}, {0x12EF, 0x12EF}, {0x130F, 0x130F}, {0x1311, 0x1311},
	{0x1316, 0x1317}, {0x131F, 0x131F}, {0x1347, 0x1347}, {0x135B, 0x1360}, {0x137D, 0x139F},
	{0x13F5, 0x1400}, {0x1677, 0x167F}, {0x169D, 0x169F}, {0x16F1, 0x16FF}, {0x170D, 0x170D},
	{0x1715, 0x171F}, {0x1737, 0x173F}, {0x1754, 0x175F}, {0x176D, 0x176D}, {0x1771, 0x1771},
	{0x1774, 0x177F}, {0x17DD, 0x17DF}, {0x17EA, 0x17FF}, {0x180F, 0x180F}, {0x181A, 0x181F},
	{0x1878, 0x187F}, {0x18AA, 0x1DFF}, {0x1E9C, 0x1E9F}, {0x1EFA, 0x1EFF}, {0x1F16, 0x1F17},
	{0x1F1E, 0x1F1F}, {0x1F46, 0x1F47}, {0x1F4E, 0x1F4F}, {0x1F58, 0x1F58}, {0x1F5A, 0x1F5A},
	{0x1F5C, 0x1F5C}, {0x1F5E, 0x1F5E}, {0x1F7E, 0x1F7F}, {0x1FB5, 0x1FB5}, {0x1FC5, 0x1FC5},
	{0x1FD4, 0x1FD5}, {0x1FDC, 0x1FDC}, {0x1FF0, 0x1FF1}, {0x1FF5, 0x1FF5}, {0x1FFF, 0x1FFF},
	{0x2053, 0x2056}, {0x2058, 0x205E}, {0x2064, 0x2069}, {0x2072, 0x2073}, {0x208F, 0x209F},
	{0x20B2, 0x20CF}, {0x20EB, 0x20FF}, {0x213B, 0x213C}, {0x214C, 0x2152}, {0x2184, 0x218F},
	{0x23CF, 0x23FF}, {0x2427, 0x243F}, {0x244B, 0x245F}, {0x24FF, 0x24FF}, {0x2614, 0x2615},
	{0x2618, 0x2618}, {0x267E, 0x267F}, {0x268A, 0x2700}, {0x2705, 0x2705}, {0x270A, 0x270B},
	{0x2728, 0x2728}, {0x274C, 0x274C}, {0x274E, 0x274E}, {0x2753, 0x2755}, {0x2757, 0x2757},
	{0x275F, 0x2760}, {0x2795, 0x2797}, {0x27B0, 0x27B0}, {0x27BF, 0x27CF}, {0x27EC, 0x27EF},
	{0x2B00, 0x2E7F}, {0x2E9A, 0x2E9A}, {0x2EF4, 0x2EFF}, {0x2FD6, 0x2FEF}, {0x2FFC, 0x2FFF},
	{0x3040, 0x3040}, {0x3097, 0x3098}, {0x3100, 0x3104}, {0x312D, 0x3130}, {0x318F, 0x318F},
	{0x31B8, 0x31EF}, {0x321D, 0x321F}, {0x3244, 0x3250}, {0x327C, 0x327E}, {0x32CC, 0x32CF},
	{0x32FF, 0x32FF}, {0x3377, 0x337A}, {0x33DE, 0x33DF}, {0x33FF, 0x33FF}, {0x4DB6, 0x4DFF},
	{0x9FA6, 0x9FFF}, {0xA48D, 0xA48F}, {0xA4C7, 0xABFF}, {0xD7A4, 0xD7FF}, {0xFA2E, 0xFA2F},
	{0xFA6B, 0xFAFF}, {0xFB07, 0xFB12}, {0xFB18, 0xFB1C}, {0xFB37, 0xFB37}, {0xFB3D, 0xFB3D},
	{0xFB3F, 0xFB3F}, {0xFB42, 0xFB42}, {0xFB45, 0xFB45}, {0xFBB2, 0xFBD2}, {0xFD40, 0xFD4F},
	{0xFD90, 0xFD91}, {0xFDC8, 0xFDCF}, {0xFDFD, 0xFDFF}, {0xFE10, 0xFE1F}, {0xFE24, 0xFE2F},
	{0xFE47, 0xFE48}, {0xFE53, 0xFE53}, {0xFE67, 0xFE67}, {0xFE6C, 0xFE6F}, {0xFE75, 0xFE75},
	{0xFEFD, 0xFEFE}, {0xFF00, 0xFF00}, {0xFFBF, 0xFFC1}, {0xFFC8, 0xFFC9}, {0xFFD0, 0xFFD1},
	{0xFFD8, 0xFFD9}, {0xFFDD, 0xFFDF}, {0xFFE7, 0xFFE7}, {0xFFEF, 0xFFF8}, {0x10000, 0x102FF},
	{0x1031F, 0x1031F}, {0x10324, 0x1032F}, {0x1034B, 0x103FF}, {0x10426, 0x10427}, {0x1044E, 0x1CFFF},
	{0x1D0F6, 0x1D0FF}, {0x1D127, 0x1D129}, {0x1D1DE, 0x1D3FF}, {0x1D455, 0x1D455}, {0x1D49D, 0x1D49D},
	{0x1D4A0, 0x1D4A1}, {0x1D4A3, 0x1D4A4}, {0x1D4A7, 0x1D4A8}, {0x1D4AD, 0x1D4AD}, {0x1D4BA, 0x1D4BA},
	{0x1D4BC, 0x1D4BC}, {0x1D4C1, 0x1D4C1}, {0x1D4C4, 0x1D4C4}, {0x1D506, 0x1D506}, {0x1D50B, 0x1D50C},
	{0x1D515, 0x1D515}, {0x1D51D, 0x1D51D}, {0x1D53A, 0x1D53A}, {0x1D53F, 0x1D53F}, {0x1D545, 0x1D545},
	{0x1D547, 0x1D549}, {0x1D551, 0x1D551}, {0x1D6A4, 0x1D6A7}, {0x1D7CA, 0x1D7CD}, {0x1D800, 0x1FFFD},
	{0x2A6D7, 0x2F7FF}, {0x2FA1E, 0x2FFFD}, {0x30000, 0x3FFFD}, {0x40000, 0x4FFFD}, {0x50000, 0x5FFFD},
	{0x60000, 0x6FFFD}, {0x70000, 0x7FFFD}, {0x80000, 0x8FFFD}, {0x90000, 0x9FFFD}, {0xA0000, 0xAFFFD},
	{0xB0000, 0xBFFFD}, {0xC0000, 0xCFFFD}, {0xD0000, 0xDFFFD}, {0xE0000, 0xE0000}, {0xE0002, 0xE001F},
	{0xE0080, 0xEFFFD},
}

// D.1: characters with bidirectional property R or AL.
var saslprepRandAL = runeRanges{
	{0x05BE, 0x05BE}, {0x05C0, 0x05C0}, {0x05C3, 0x05C3}, {0x05D0, 0x05EA}, {0x05F0, 0x05F4},
	{0x061B, 0x061B}, {0x061F, 0x061F}, {0x0621, 0x063A}, {0x0640, 0x064A}, {0x066D, 0x066F},
	{0x0671, 0x06D5}, {0x06DD, 0x06DD}, {0x06E5, 0x06E6}, {0x06FA, 0x06FE}, {0x0700, 0x070D},
	{0x0710, 0x0710}, {0x0712, 0x072C}, {0x0780, 0x07A5}, {0x07B1, 0x07B1}, {0x200F, 0x200F},
	{0xFB1D, 0xFB1D}, {0xFB1F, 0xFB28}, {0xFB2A, 0xFB36}, {0xFB38, 0xFB3C}, {0xFB3E, 0xFB3E},
	{0xFB40, 0xFB41}, {0xFB43, 0xFB44}, {0xFB46, 0xFBB1}, {0xFBD3, 0xFD3D}, {0xFD50, 0xFD8F},
	{0xFD92, 0xFDC7}, {0xFDF0, 0xFDFC}, {0xFE70, 0xFE74}, {0xFE76, 0xFEFC},
}

// D.2: characters with bidirectional property L.
var saslprepL = runeRanges{
	{0x0041, 0x005A}, {0x0061, 0x007A}, {0x00AA, 0x00AA}, {0x00B5, 0x00B5}, {0x00BA, 0x00BA},
	{0x00C0, 0x00D6}, {0x00D8, 0x00F6}, {0x00F8, 0x0220}, {0x0222, 0x0233}, {0x0250, 0x02AD},
	{0x02B0, 0x02B8}, {0x02BB, 0x02C1}, {0x02D0, 0x02D1}, {0x02E0, 0x02E4}, {0x02EE, 0x02EE},
	{0x037A, 0x037A}, {0x0386, 0x0386}, {0x0388, 0x038A}, {0x038C, 0x038C}, {0x038E, 0x03A1},
	{0x03A3, 0x03CE}, {0x03D0, 0x03F5}, {0x0400, 0x0482}, {0x048A, 0x04CE}, {0x04D0, 0x04F5},
	{0x04F8, 0x04F9}, {0x0500, 0x050F}, {0x0531, 0x0556}, {0x0559, 0x055F}, {0x0561, 0x0587},
	{0x0589, 0x0589}, {0x0903, 0x0903}, {0x0905, 0x0939}, {0x093D, 0x0940}, {0x0949, 0x094C},
	{0x0950, 0x0950}, {0x0958, 0x0961}, {0x0964, 0x0970}, {0x0982, 0x0983}, {0x0985, 0x098C},
	{0x098F, 0x0990}, {0x0993, 0x09A8}, {0x09AA, 0x09B0}, {0x09B2, 0x09B2}, {0x09B6, 0x09B9},
	{0x09BE, 0x09C0}, {0x09C7, 0x09C8}, {0x09CB, 0x09CC}, {0x09D7, 0x09D7}, {0x09DC, 0x09DD},
	{0x09DF, 0x09E1}, {0x09E6, 0x09F1}, {0x09F4, 0x09FA}, {0x0A05, 0x0A0A}, {0x0A0F, 0x0A10},
	{0x0A13, 0x0A28}, {0x0A2A, 0x0A30}, {0x0A32, 0x0A33}, {0x0A35, 0x0A36}, {0x0A38, 0x0A39},
	{0x0A3E, 0x0A40}, {0x0A59, 0x0A5C}, {0x0A5E, 0x0A5E}, {0x0A66, 0x0A6F}, {0x0A72, 0x0A74},
	{0x0A83, 0x0A83}, {0x0A85, 0x0A8B}, {0x0A8D, 0x0A8D}, {0x0A8F, 0x0A91}, {0x0A93, 0x0AA8},
	{0x0AAA, 0x0AB0}, {0x0AB2, 0x0AB3}, {0x0AB5, 0x0AB9}, {0x0ABD, 0x0AC0}, {0x0AC9, 0x0AC9},
	{0x0ACB, 0x0ACC}, {0x0AD0, 0x0AD0}, {0x0AE0, 0x0AE0}, {0x0AE6, 0x0AEF}, {0x0B02, 0x0B03},
	{0x0B05, 0x0B0C}, {0x0B0F, 0x0B10}, {0x0B13, 0x0B28}, {0x0B2A, 0x0B30}, {0x0B32, 0x0B33},
	{0x0B36, 0x0B39}, {0x0B3D, 0x0B3E}, {0x0B40, 0x0B40}, {0x0B47, 0x0B48}, {0x0B4B, 0x0B4C},
	{0x0B57, 0x0B57}, {0x0B5C, 0x0B5D}, {0x0B5F, 0x0B61}, {0x0B66, 0x0B70}, {0x0B83, 0x0B83},
	{0x0B85, 0x0B8A}, {0x0B8E, 0x0B90}, {0x0B92, 0x0B95}, {0x0B99, 0x0B9A}, {0x0B9C, 0x0B9C},
	{0x0B9E, 0x0B9F}, {0x0BA3, 0x0BA4}, {0x0BA8, 0x0BAA}, {0x0BAE, 0x0BB5}, {0x0BB7, 0x0BB9},
	{0x0BBE, 0x0BBF}, {0x0BC1, 0x0BC2}, {0x0BC6, 0x0BC8}, {0x0BCA, 0x0BCC}, {0x0BD7, 0x0BD7},
	{0x0BE7, 0x0BF2}, {0x0C01, 0x0C03}, {0x0C05, 0x0C0C}, {0x0C0E, 0x0C10}, {0x0C12, 0x0C28},
	{0x0C2A, 0x0C33}, {0x0C35, 0x0C39}, {0x0C41, 0x0C44}, {0x0C60, 0x0C61}, {0x0C66, 0x0C6F},
	{0x0C82, 0x0C83}, {0x0C85, 0x0C8C}, {0x0C8E, 0x0C90}, {0x0C92, 0x0CA8}, {0x0CAA, 0x0CB3},
	{0x0CB5, 0x0CB9}, {0x0CBE, 0x0CBE}, {0x0CC0, 0x0CC4}, {0x0CC7, 0x0CC8}, {0x0CCA, 0x0CCB},
	{0x0CD5, 0x0CD6}, {0x0CDE, 0x0CDE}, {0x0CE0, 0x0CE1}, {0x0CE6, 0x0CEF}, {0x0D02, 0x0D03},
	{0x0D05, 0x0D0C}, {0x0D0E, 0x0D10}, {0x0D12, 0x0D28}, {0x0D2A, 0x0D39}, {0x0D3E, 0x0D40},
	{0x0D46, 0x0D48}, {0x0D4A, 0x0D4C}, {0x0D57, 0x0D57}, {0x0D60, 0x0D61}, {0x0D66, 0x0D6F},
	{0x0D82, 0x0D83}, {0x0D85, 0x0D96}, {0x0D9A, 0x0DB1}, {0x0DB3, 0x0DBB}, {0x0DBD, 0x0DBD},
	{0x0DC0, 0x0DC6}, {0x0DCF, 0x0DD1}, {0x0DD8, 0x0DDF}, {0x0DF2, 0x0DF4}, {0x0E01, 0x0E30},
	{0x0E32, 0x0E33}, {0x0E40, 0x0E46}, {0x0E4F, 0x0E5B}, {0x0E81, 0x0E82}, {0x0E84, 0x0E84},
	{0x0E87, 0x0E88}, {0x0E8A, 0x0E8A}, {0x0E8D, 0x0E8D}, {0x0E94, 0x0E97}, {0x0E99, 0x0E9F},
	{0x0EA1, 0x0EA3}, {0x0EA5, 0x0EA5}, {0x0EA7, 0x0EA7}, {0x0EAA, 0x0EAB}, {0x0EAD, 0x0EB0},
	{0x0EB2, 0x0EB3}, {0x0EBD, 0x0EBD}, {0x0EC0, 0x0EC4}, {0x0EC6, 0x0EC6}, {0x0ED0, 0x0ED9},
	{0x0EDC, 0x0EDD}, {0x0F00, 0x0F17}, {0x0F1A, 0x0F34}, {0x0F36, 0x0F36}, {0x0F38, 0x0F38},
	{0x0F3E, 0x0F47}, {0x0F49, 0x0F6A}, {0x0F7F, 0x0F7F}, {0x0F85, 0x0F85}, {0x0F88, 0x0F8B},
	{0x0FBE, 0x0FC5}, {0x0FC7, 0x0FCC}, {0x0FCF, 0x0FCF}, {0x1000, 0x1021}, {0x1023, 0x1027},
	{0x1029, 0x102A}, {0x102C, 0x102C}, {0x1031, 0x1031}, {0x1038, 0x1038}, {0x1040, 0x1057},
	{0x10A0, 0x10C5}, {0x10D0, 0x10F8}, {0x10FB, 0x10FB}, {0x1100, 0x1159}, {0x115F, 0x11A2},
	{0x11A8, 0x11F9}, {0x1200, 0x1206}, {0x1208, 0x1246}, {0x1248, 0x1248}, {0x124A, 0x124D},
	{0x1250, 0x1256}, {0x1258, 0x1258}, {0x125A, 0x125D}, {0x1260, 0x1286}, {0x1288, 0x1288},
	{0x128A, 0x128D}, {0x1290, 0x12AE}, {0x12B0, 0x12B0}, {0x12B2, 0x12B5}, {0x12B8, 0x12BE},
	{0x12C0, 0x12C0}, {0x12C2, 0x12C5}, {0x12C8, 0x12CE}, {0x12D0, 0x12D6}, {0x12D8, 0x12EE},
	{0x12F0, 0x130E}, {0x1310, 0x1310}, {0x1312, 0x1315}, {0x1318, 0x131E}, {0x1320, 0x1346},
	{0x1348, 0x135A}, {0x1361, 0x137C}, {0x13A0, 0x13F4}, {0x1401, 0x1676}, {0x1681, 0x169A},
	{0x16A0, 0x16F0}, {0x1700, 0x170C}, {0x170E, 0x1711}, {0x1720, 0x1731}, {0x1735, 0x1736},
	{0x1740, 0x1751}, {0x1760, 0x176C}, {0x176E, 0x1770}, {0x1780, 0x17B6}, {0x17BE, 0x17C5},
	{0x17C7, 0x17C8}, {0x17D4, 0x17DA}, {0x17DC, 0x17DC}, {0x17E0, 0x17E9}, {0x1810, 0x1819},
	{0x1820, 0x1877}, {0x1880, 0x18A8}, {0x1E00, 0x1E9B}, {0x1EA0, 0x1EF9}, {0x1F00, 0x1F15},
	{0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59},
	{0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC},
	{0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB},
	{0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x200E, 0x200E}, {0x2071, 0x2071},
	{0x207F, 0x207F}, {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115},
	{0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128}, {0x212A, 0x212D},
	{0x212F, 0x2131}, {0x2133, 0x2139}, {0x213D, 0x213F}, {0x2145, 0x2149}, {0x2160, 0x2183},
	{0x2336, 0x237A}, {0x2395, 0x2395}, {0x249C, 0x24E9}, {0x3005, 0x3007}, {0x3021, 0x3029},
	{0x3031, 0x3035}, {0x3038, 0x303C}, {0x3041, 0x3096}, {0x309D, 0x309F}, {0x30A1, 0x30FA},
	{0x30FC, 0x30FF}, {0x3105, 0x312C}, {0x3131, 0x318E}, {0x3190, 0x31B7}, {0x31F0, 0x321C},
	{0x3220, 0x3243}, {0x3260, 0x327B}, {0x327F, 0x32B0}, {0x32C0, 0x32CB}, {0x32D0, 0x32FE},
	{0x3300, 0x3376}, {0x337B, 0x33DD}, {0x33E0, 0x33FE}, {0x3400, 0x4DB5}, {0x4E00, 0x9FA5},
	{0xA000, 0xA48C}, {0xAC00, 0xD7A3}, {0xD800, 0xFA2D}, {0xFA30, 0xFA6A}, {0xFB00, 0xFB06},
	{0xFB13, 0xFB17}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0xFF66, 0xFFBE}, {0xFFC2, 0xFFC7},
	{0xFFCA, 0xFFCF}, {0xFFD2, 0xFFD7}, {0xFFDA, 0xFFDC}, {0x10300, 0x1031E}, {0x10320, 0x10323},
	{0x10330, 0x1034A}, {0x10400, 0x10425}, {0x10428, 0x1044D}, {0x1D000, 0x1D0F5}, {0x1D100, 0x1D126},
	{0x1D12A, 0x1D166}, {0x1D16A, 0x1D172}, {0x1D183, 0x1D184}, {0x1D18C, 0x1D1A9}, {0x1D1AE, 0x1D1DD},
	{0x1D400, 0x1D454}, {0x1D456, 0x1D49C}, {0x1D49E, 0x1D49F}, {0x1D4A2, 0x1D4A2}, {0x1D4A5, 0x1D4A6},
	{0x1D4A9, 0x1D4AC}, {0x1D4AE, 0x1D4B9}, {0x1D4BB, 0x1D4BB}, {0x1D4BD, 0x1D4C0}, {0x1D4C2, 0x1D4C3},
	{0x1D4C5, 0x1D505}, {0x1D507, 0x1D50A}, {0x1D50D, 0x1D514}, {0x1D516, 0x1D51C}, {0x1D51E, 0x1D539},
	{0x1D53B, 0x1D53E}, {0x1D540, 0x1D544}, {0x1D546, 0x1D546}, {0x1D54A, 0x1D550}, {0x1D552, 0x1D6A3},
	{0x1D6A8, 0x1D7C9}, {0x20000, 0x2A6D6}, {0x2F800, 0x2FA1D}, {0xF0000, 0xFFFFD}, {0x100000, 0x10FFFD},
}
