// This file holds the Connector: driver registration, the hosts of a
// connection string and the encryption attempts made against each.

package pqssl

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"github.com/lib/pq"
)

func init() {
	sql.Register("pqssl", &Driver{})
}

// Driver is the "pqssl" database/sql driver. It implements driver.Driver and
// driver.DriverContext; most programs use it through sql.Open("pqssl", dsn).
type Driver struct{}

// Open opens a new connection to the server described by the connection
// string name.
func (d *Driver) Open(name string) (driver.Conn, error) {
	c, err := NewConnector(name)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector parses the connection string name once and returns a
// Connector for it, so that sql.Open reports configuration errors on first
// use without parsing the string again for every connection.
func (d *Driver) OpenConnector(name string) (driver.Connector, error) {
	return NewConnector(name)
}

// An Option configures a Connector.
type Option func(*Connector)

// WithSSLPasswordFunc sets the function that supplies the passphrase of an
// encrypted client key when the connection string has no sslpassword, in the
// spirit of libpq's PQsetSSLKeyPassHook_OpenSSL. It is called with the key
// file's path at most once per change of the key file, since the decrypted
// key is kept until the file changes. pqssl never prompts on a terminal.
func WithSSLPasswordFunc(f func(ctx context.Context, keyFile string) (string, error)) Option {
	return func(c *Connector) { c.passwordFunc = f }
}

// A Connector opens connections with a fixed configuration. It implements
// driver.Connector, for use with sql.OpenDB. A Connector is safe for
// concurrent use; it keeps a decrypted client key until the key file changes.
type Connector struct {
	cfg          *config
	passwordFunc func(ctx context.Context, keyFile string) (string, error)
	clientCerts  *clientCertSource
	roots        *trustStoreSource
	groups       groupCache // key-exchange groups of verified servers
	dialFunc     DialFunc   // nil: net.Dialer
	trace        func(*Attempt)
}

// NewConnector parses the libpq connection string dsn, with the service file,
// environment variables and defaults it refers to, and returns a Connector.
// Configuration errors are reported here rather than at the first query.
func NewConnector(dsn string, opts ...Option) (*Connector, error) {
	cfg, err := parseConfig(dsn, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	return newConnector(cfg, opts...)
}

func newConnector(cfg *config, opts ...Option) (*Connector, error) {
	c := &Connector{cfg: cfg}
	for _, o := range opts {
		o(c)
	}
	if cfg.sslcertmode != "disable" {
		c.clientCerts = newClientCertSource(cfg.sslcert, cfg.sslkey, cfg.sslinline, cfg.sslpassword, c.passwordFunc)
	}
	crlFile, crlDir := crlLocations(cfg)
	c.roots = newTrustStoreSource(cfg.sslrootcert, crlFile, crlDir, cfg.sslinline)
	return c, nil
}

// Driver returns the pqssl Driver.
func (c *Connector) Driver() driver.Driver { return &Driver{} }

// Connect opens a connection, trying each host of the connection string in
// turn with the encryption attempts its sslmode calls for, as libpq does. The
// connection returned is lib/pq's own, unwrapped.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	hosts := c.cfg.hosts
	if c.cfg.loadBalanceHosts == "random" && len(hosts) > 1 {
		hosts = append([]hostSpec(nil), hosts...)
		rand.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
	}
	passes := []string{c.cfg.targetSessionAttrs}
	if c.cfg.targetSessionAttrs == "prefer-standby" {
		// As libpq: look for a standby first, then take any server.
		passes = []string{"standby", "any"}
	}
	var errs []error
	for _, tsa := range passes {
		for _, h := range hosts {
			cn, err := c.connectHost(ctx, h)
			if err == nil {
				if err = checkSessionAttrs(ctx, cn, tsa); err == nil {
					return cn, nil
				}
				cn.Close()
			}
			errs = append(errs, &HostError{Host: h.host, Hostaddr: h.hostaddr, Port: h.port, Err: err})
			if ctx.Err() != nil || !tryNextHost(err) {
				return nil, hostErrors(errs)
			}
		}
	}
	return nil, hostErrors(errs)
}

// tryNextHost reports whether libpq goes on to the next host after err. It
// does after failing to reach a host, after connect_timeout and when a
// session lacks the target_session_attrs; it does not after a failed
// TLS negotiation or an error from the server, such as failed
// authentication.
func tryNextHost(err error) bool {
	var ae *attemptError
	if errors.As(err, &ae) && (ae.phase == phaseDial || ae.timeout) {
		return true
	}
	var te *SessionAttrsError
	if errors.As(err, &te) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// hostErrors reports the failures of a connection attempt.
func hostErrors(errs []error) error {
	if len(errs) == 1 {
		// A single host reports its error unwrapped, as lib/pq does, so that
		// callers asserting *pq.Error keep working.
		return errs[0].(*HostError).Err
	}
	return fmt.Errorf("pqssl: could not connect to any of the hosts:\n%w", errors.Join(errs...))
}

// connectHost runs the encryption attempts of section 2 of libpq's rules
// against one host.
func (c *Connector) connectHost(ctx context.Context, h hostSpec) (driver.Conn, error) {
	if h.isSocket() {
		// Unix-domain sockets never use TLS, whatever the sslmode.
		return c.attempt(ctx, h, encPlain)
	}
	switch c.cfg.sslmode {
	case "disable":
		return c.attempt(ctx, h, encPlain)
	case "allow":
		cn, err := c.attempt(ctx, h, encPlain)
		if err != nil && isServerError(err) {
			// The server refused the plaintext session; libpq retries
			// once with TLS.
			return retry(err)(c.attempt(ctx, h, encTLS))
		}
		return cn, err
	case "prefer":
		cn, err := c.attempt(ctx, h, encTLSOrPlain)
		if err != nil && retryPlain(err) {
			return retry(err)(c.attempt(ctx, h, encPlain))
		}
		return cn, err
	default: // require, verify-ca, verify-full
		return c.attempt(ctx, h, encTLS)
	}
}

// retry returns a function that reports the outcome of a second attempt,
// keeping the first attempt's error in front of the second's when both
// failed, as libpq reports both.
func retry(first error) func(driver.Conn, error) (driver.Conn, error) {
	return func(cn driver.Conn, err error) (driver.Conn, error) {
		if err != nil {
			return nil, &retryError{first: first, second: err}
		}
		return cn, nil
	}
}

// retryError is the failure of a connection attempt and of its retry with
// the other encryption. errors.As finds either.
type retryError struct{ first, second error }

func (e *retryError) Error() string   { return e.first.Error() + "\n" + e.second.Error() }
func (e *retryError) Unwrap() []error { return []error{e.second, e.first} }

// isServerError reports whether err is an ErrorResponse the server sent
// during startup or authentication.
func isServerError(err error) bool {
	return pq.As(err) != nil
}

// retryPlain reports whether a failed TLS attempt under sslmode=prefer is
// followed by a plaintext attempt: libpq retries after a failed handshake or
// a server error on the TLS session, never after a protocol violation or a
// timeout.
func retryPlain(err error) bool {
	var ae *attemptError
	if errors.As(err, &ae) {
		return ae.phase == phaseHandshake && !ae.timeout
	}
	return isServerError(err)
}

// attempt makes one connection attempt with the given encryption.
func (c *Connector) attempt(ctx context.Context, h hostSpec, enc encryption) (driver.Conn, error) {
	pc, err := pq.NewConnectorConfig(c.pqConfig(h))
	if err != nil {
		return nil, err
	}
	d := &dialer{c: c, host: h, enc: enc, session: &sessionSocket{}}
	if c.trace != nil {
		d.trace = &attemptTrace{a: Attempt{Host: HostConfig{Host: h.host, Hostaddr: h.hostaddr, Port: h.port},
			Encryption: encryptionNames[enc]}}
	}
	pc.Dialer(pqDialer(d.DialContext))
	// lib/pq bounds startup and authentication by connect_timeout only;
	// the caller's context must bound them too.
	stop := context.AfterFunc(ctx, d.session.expire)
	cn, err := pc.Connect(ctx)
	if err != nil {
		err = d.session.startupErr(ctx, err)
	}
	if !stop() {
		if err == nil {
			// The context ended as the session started: its socket is
			// now unusable.
			cn.Close()
		}
		cn, err = nil, ctxErr(ctx, ctx.Err())
	}
	if d.trace != nil {
		d.trace.mu.Lock()
		a := d.trace.a
		d.trace.mu.Unlock()
		a.Err = err
		c.trace(&a)
	}
	return cn, err
}

// pqConfig is the configuration handed to lib/pq for one host: everything but
// TLS, which the dialer has done by the time lib/pq sees the connection.
func (c *Connector) pqConfig(h hostSpec) pq.Config {
	cfg := c.cfg
	pc := pq.Config{
		Host:     h.host,
		Port:     h.port,
		Database: cfg.dbname,
		User:     cfg.user,
		Password: cfg.password,
		// pqssl answers password requests itself (see authConn), from
		// the password file as libpq reads it; a path that cannot exist
		// keeps lib/pq from reading ~/.pgpass by its own rules.
		Passfile:                    filepath.Join(os.DevNull, "pgpass"),
		Options:                     cfg.options,
		ApplicationName:             cfg.applicationName,
		SSLMode:                     pq.SSLModeDisable,
		ConnectTimeout:              cfg.connectTimeout,
		BinaryParameters:            cfg.binaryParameters,
		DisablePreparedBinaryResult: cfg.disablePreparedBinaryResult,
		KrbSrvname:                  cfg.krbsrvname,
		KrbSpn:                      cfg.krbspn,
		ClientEncoding:              "UTF8",
		Datestyle:                   "ISO, MDY",
		TargetSessionAttrs:          pq.TargetSessionAttrsAny,
		MinProtocolVersion:          pq.ProtocolVersion(cfg.minProtocolVersion),
		MaxProtocolVersion:          pq.ProtocolVersion(cfg.maxProtocolVersion),
		Runtime:                     make(map[string]string, len(cfg.runtime)),
	}
	if pc.Host == "" {
		pc.Host = h.hostaddr
	}
	if h.hostaddr != "" {
		pc.Hostaddr, _ = netip.ParseAddr(h.hostaddr) // validated by parseConfig
	}
	if pc.MinProtocolVersion == "" {
		pc.MinProtocolVersion = pq.ProtocolVersion30
	}
	if pc.MaxProtocolVersion == "" {
		pc.MaxProtocolVersion = pq.ProtocolVersion30
	}
	for k, v := range cfg.runtime {
		pc.Runtime[k] = v
	}
	return pc
}

// hostPort formats h's dial address for messages.
func (h hostSpec) String() string {
	name := h.host
	if h.hostaddr != "" {
		name = h.hostaddr
	}
	return name + ":" + strconv.Itoa(int(h.port))
}
