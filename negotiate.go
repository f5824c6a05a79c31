// This file holds the dialer pqssl hands to lib/pq: the TCP connection,
// the SSLRequest or direct TLS, the handshake and its verification.

package pqssl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// encryption is what one connection attempt does about TLS.
type encryption int

const (
	encPlain      encryption = iota // no SSLRequest
	encTLS                          // SSLRequest; TLS or fail
	encTLSOrPlain                   // SSLRequest; plaintext on the same socket if the server answers 'N'
)

// sslRequestCode is the protocol's SSLRequest code (1234 << 16 | 5679).
const sslRequestCode = 80877103

// phase is how far a connection attempt got, which decides libpq's
// fallbacks.
type phase int

const (
	phaseDial      phase = iota // TCP or socket connect
	phaseNegotiate              // SSLRequest and its answer
	phaseHandshake              // TLS handshake, including verification
)

// attemptError is an error of the dialer, recording the phase it happened in.
type attemptError struct {
	phase   phase
	timeout bool
	err     error
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

// dialer is handed to lib/pq for one connection attempt. lib/pq also uses it
// to open the connection that carries a CancelRequest, which therefore gets
// the same encryption as the session it cancels.
type dialer struct {
	c     *Connector
	host  hostSpec
	enc   encryption
	trace *attemptTrace // nil unless WithTrace, and after the first dial
	// session is the attempt's session socket, which the attempt's context
	// bounds until lib/pq's Connect returns.
	session *sessionSocket
}

// pqDialer gives a DialContext the other methods of lib/pq's Dialer.
type pqDialer DialFunc

func (f pqDialer) Dial(network, address string) (net.Conn, error) {
	return f(context.Background(), network, address)
}

func (f pqDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return f(ctx, network, address)
}

func (f pqDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

// DialContext connects and, unless the attempt is plaintext, negotiates TLS.
// The context (which lib/pq bounds by connect_timeout) limits the SSLRequest
// exchange and the handshake as well as the connect.
func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	session := d.session.dial()
	if d.trace != nil && !session {
		cp := *d
		cp.trace = nil
		d = &cp
	}
	d.trace.record(func(a *Attempt) {
		a.Address, a.Direct = address, d.enc != encPlain && d.c.cfg.sslnegotiation == "direct"
	})
	dial := func() (net.Conn, error) {
		conn, err := d.dialTCP(ctx, network, address)
		if err != nil || !session {
			return conn, err
		}
		return d.session.wrap(conn), nil
	}
	conn, err := dial()
	if err != nil {
		return nil, err
	}
	// pqssl answers the server's password requests itself (authConn), so
	// that channel_binding and the password file work as in libpq.
	if d.enc == encPlain || network == "unix" {
		if session {
			d.session.set(conn, false)
		}
		return d.wrapAuth(conn, nil), nil
	}
	tc, certs, err := d.negotiate(ctx, conn)
	var gerr *groupRetryError
	if errors.As(err, &gerr) {
		// A handshake offering a learned group failed: redo it once on a
		// new connection with crypto/tls's default groups.
		conn.Close()
		if conn, err = dial(); err != nil {
			return nil, err
		}
		tc, certs, err = d.negotiate(ctx, conn)
		if errors.As(err, &gerr) {
			err = gerr.err
		}
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	if session {
		d.session.set(conn, true)
	}
	return d.wrapAuth(tc, certs), nil
}

// groupRetryError is a handshake that failed while offering a learned
// key-exchange group, which DialContext redoes with the default groups.
type groupRetryError struct{ err error }

func (e *groupRetryError) Error() string { return e.err.Error() }
func (e *groupRetryError) Unwrap() error { return e.err }

// clientCertExchange records what became of the client certificate during
// a handshake, for sslcertmode=require, which libpq checks when the server
// reports successful authentication.
type clientCertExchange struct {
	mu        sync.Mutex
	requested bool // the server asked for a certificate
	sent      bool // and got one
}

// check applies sslcertmode=require to a session the server has just
// authenticated; x is nil for a plaintext session.
func (x *clientCertExchange) check(sslcertmode string) error {
	if sslcertmode != "require" {
		return nil
	}
	if x == nil {
		return ErrClientCertNotRequested
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case !x.requested:
		return ErrClientCertNotRequested
	case !x.sent:
		return ErrClientCertNotSent
	}
	return nil
}

// negotiate runs the SSLRequest exchange (or, with sslnegotiation=direct,
// starts TLS at once) and the handshake on conn.
func (d *dialer) negotiate(ctx context.Context, conn net.Conn) (net.Conn, *clientCertExchange, error) {
	// A deadline and a cancellation watcher cover the reads below, which a
	// silent server would otherwise block forever.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	cfg := d.c.cfg
	if cfg.sslnegotiation != "direct" {
		var req [8]byte
		binary.BigEndian.PutUint32(req[0:4], 8)
		binary.BigEndian.PutUint32(req[4:8], sslRequestCode)
		if _, err := conn.Write(req[:]); err != nil {
			return nil, nil, wrapAttempt(phaseNegotiate, ctxErr(ctx, err))
		}
		// Exactly one byte: anything the server sends after it belongs to
		// the TLS handshake, never to the PostgreSQL protocol.
		var resp [1]byte
		if _, err := io.ReadFull(conn, resp[:]); err != nil {
			return nil, nil, wrapAttempt(phaseNegotiate, ctxErr(ctx, err))
		}
		d.trace.record(func(a *Attempt) { a.SSLResponse = resp[0] })
		switch resp[0] {
		case 'S':
		case 'N':
			if d.enc == encTLSOrPlain {
				if !stop() {
					return nil, nil, wrapAttempt(phaseNegotiate, ctxErr(ctx, ctx.Err()))
				}
				conn.SetDeadline(time.Time{})
				return conn, nil, nil
			}
			return nil, nil, &attemptError{phase: phaseNegotiate, err: ErrSSLNotSupported}
		case 'E':
			return nil, nil, &attemptError{phase: phaseNegotiate, err: ErrSSLErrorResponse}
		default:
			return nil, nil, &attemptError{phase: phaseNegotiate, err: &InvalidSSLResponseError{Response: resp[0]}}
		}
	}

	tc, certs, err := d.handshake(ctx, conn)
	if err != nil {
		return nil, nil, err
	}
	if !stop() {
		return nil, nil, wrapAttempt(phaseHandshake, ctxErr(ctx, ctx.Err()))
	}
	conn.SetDeadline(time.Time{})
	return tc, certs, nil
}

// handshake runs the TLS handshake with libpq's verification rules.
func (d *dialer) handshake(ctx context.Context, conn net.Conn) (*tls.Conn, *clientCertExchange, error) {
	cfg := d.c.cfg
	// libpq loads the client certificate and key before the handshake,
	// whether or not the server will ask for them, so a broken key fails
	// every TLS connection.
	var clientCert *tls.Certificate
	if d.c.clientCerts != nil {
		var err error
		clientCert, err = d.c.clientCerts.certificate(ctx)
		if err != nil {
			return nil, nil, &attemptError{phase: phaseHandshake, err: err}
		}
	}
	// Like libpq, failures to load files count as failures of the TLS
	// attempt, after which sslmode=prefer tries plaintext.
	roots, err := d.c.roots.load(cfg.sslmode)
	if err != nil {
		return nil, nil, &attemptError{phase: phaseHandshake, err: err}
	}

	certs := &clientCertExchange{}
	tcfg := &tls.Config{
		// Verification is VerifyConnection's, with libpq's rules.
		InsecureSkipVerify: true,
		MinVersion:         cfg.sslMinVersion,
		MaxVersion:         cfg.sslMaxVersion,
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			certs.mu.Lock()
			certs.requested, certs.sent = true, clientCert != nil
			certs.mu.Unlock()
			d.trace.record(func(a *Attempt) {
				a.ClientCertRequested, a.AcceptableCAs, a.ClientCertSent = true, cri.AcceptableCAs, clientCert != nil
			})
			// libpq sends its certificate whenever asked, whatever CA
			// names the server lists.
			if clientCert == nil {
				return &tls.Certificate{}, nil
			}
			return clientCert, nil
		},
		VerifyConnection: func(cs tls.ConnectionState) error {
			v := verifyServer(cs.PeerCertificates, roots, cfg.sslmode, d.host.host)
			if v == nil {
				return nil
			}
			d.trace.record(func(a *Attempt) { a.Verification = v })
			return v.Err
		},
	}
	if cfg.sslsni && !isLiteralAddress(d.host.host) {
		tcfg.ServerName = d.host.host
	}
	if cfg.sslnegotiation == "direct" {
		tcfg.NextProtos = []string{"postgresql"}
	}
	addr := d.host.String()
	tcfg.CurvePreferences = d.c.groups.curves(addr)
	if cfg.sslkeylogfile != "" {
		w, err := openKeyLog(cfg.sslkeylogfile)
		if err != nil {
			return nil, nil, &attemptError{phase: phaseHandshake, err: err}
		}
		defer w.Close()
		tcfg.KeyLogWriter = w
	}

	tc := tls.Client(conn, tcfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) && cfg.sslnegotiation != "direct" {
			// The server's first bytes after 'S' were not TLS: bytes it
			// sent in the clear right after its answer.
			return nil, nil, &attemptError{phase: phaseNegotiate, err: ErrUnencryptedData}
		}
		var alert *net.OpError
		if tcfg.CurvePreferences != nil && errors.As(err, &alert) && alert.Op == "remote error" {
			// The server refused the handshake (crypto/tls reports the
			// server's alert as a "remote error"): it may no longer
			// accept the learned groups.
			d.c.groups.forget(addr)
			return nil, nil, &groupRetryError{err: wrapAttempt(phaseHandshake, err)}
		}
		return nil, nil, wrapAttempt(phaseHandshake, ctxErr(ctx, err))
	}
	if roots != nil {
		// Only a verified server's choice is remembered: an impostor must
		// not steer later connections.
		d.c.groups.learn(addr, negotiatedGroup(tc.ConnectionState()))
	}
	d.trace.record(func(a *Attempt) {
		cs := tc.ConnectionState()
		a.TLS = &cs
	})
	if cfg.sslnegotiation == "direct" && tc.ConnectionState().NegotiatedProtocol != "postgresql" {
		return nil, nil, &attemptError{phase: phaseHandshake, err: ErrALPNNotSelected}
	}
	return tc, certs, nil
}

// verifyServer applies libpq's checks to the server's certificates: the chain
// whenever a root file was loaded (in every sslmode), the host name under
// verify-full. It returns nil when no root file was loaded, and otherwise the
// decision, whose Err is nil when the server is trusted.
func verifyServer(peer []*x509.Certificate, roots *trustStore, sslmode, host string) *Verification {
	if roots == nil {
		return nil
	}
	v := &Verification{SSLMode: sslmode}
	if len(peer) == 0 {
		v.Err = errors.New("pqssl: server did not send a certificate")
		return v
	}
	v.Chain, v.Checks, v.Err = roots.verifyChainChecks(peer, time.Now())
	if sslmode == "verify-full" {
		result := CheckNotRun
		if v.Err == nil {
			v.HostMatch, v.Err = hostnameMatch(peer[0], host)
			result = CheckPassed
			if v.Err != nil {
				result = CheckFailed
			}
		}
		v.Checks = append(v.Checks, VerifyCheck{CheckHostName, result})
	}
	return v
}

// isLiteralAddress is libpq's test for a host that gets no SNI: only digits
// and dots, or a colon anywhere.
func isLiteralAddress(host string) bool {
	if strings.Contains(host, ":") {
		return true
	}
	return strings.Trim(host, "0123456789.") == ""
}

// openKeyLog opens sslkeylogfile for appending, creating it with mode 0600.
func openKeyLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pqssl: could not open SSL key log file %q: %w", path, err)
	}
	return f, nil
}

// ctxErr prefers the context's verdict over the I/O error it provoked, so a
// timeout reads as libpq's "timeout expired".
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("pqssl: timeout expired: %w", ctx.Err())
		}
		return ctx.Err()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("pqssl: timeout expired: %w", err)
	}
	return err
}

func wrapAttempt(p phase, err error) *attemptError {
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
	return &attemptError{phase: p, timeout: timeout, err: err}
}
