// This file holds the diagnostics: the connection trace (what pqssl saw and
// decided in each connection attempt) and the check of the files a
// connection would use, for logs and for the doctor command.

package pqssl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync"
)

// WithTrace makes the Connector call f after each connection attempt, one
// per host and encryption attempt (sslmode=prefer may make two per host),
// with a report of what pqssl saw and decided. f runs on the goroutine that
// connects; it must not keep the Attempt's slices beyond its call if it
// modifies them. No Attempt holds a password, sslpassword or key material.
func WithTrace(f func(*Attempt)) Option {
	return func(c *Connector) { c.trace = f }
}

// An Attempt reports one connection attempt to one host.
type Attempt struct {
	// Host is the host the attempt went to, and Address the address
	// dialed ("" when dialing did not start).
	Host    HostConfig
	Address string
	// Encryption is what the attempt tried: "tls", "tls-or-plaintext"
	// (sslmode=prefer: TLS, or plaintext when the server answers 'N') or
	// "plaintext".
	Encryption string
	// SSLResponse is the server's one-byte answer to the SSLRequest ('S',
	// 'N', 'E' or another byte); 0 when no SSLRequest was sent or no
	// answer came. Direct reports sslnegotiation=direct (no SSLRequest).
	SSLResponse byte
	Direct      bool

	// TLS is the state of the completed handshake; nil without one. Its
	// VerifiedChains is empty: Verification holds pqssl's own result.
	TLS *tls.ConnectionState
	// Verification is pqssl's verification of the server, nil when none
	// ran (no root file under sslmode=require or weaker, or no handshake).
	Verification *Verification

	// ClientCertRequested reports that the server asked for a client
	// certificate, with the distinguished names of the CAs it accepts
	// (DER); ClientCertSent that pqssl sent one.
	ClientCertRequested bool
	AcceptableCAs       [][]byte
	ClientCertSent      bool

	// Authentication is the method the session authenticated with:
	// "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "md5", "password", or "" when
	// the server asked for none (trust, certificate) or the attempt failed
	// before. ChannelBinding reports a verified SCRAM-SHA-256-PLUS exchange.
	Authentication string
	ChannelBinding bool

	// Err is the attempt's error; nil for a session.
	Err error
}

// A Verification is pqssl's decision about a server's certificates, made
// with libpq's rules.
type Verification struct {
	// SSLMode is the mode that decided which checks ran.
	SSLMode string
	// Chain is the chain pqssl built, leaf first, ending at the trusted
	// certificate; as far as it got when the chain was rejected.
	Chain []*x509.Certificate
	// Checks are the checks in the order they ran, the host name last
	// under verify-full.
	Checks []VerifyCheck
	// HostMatch says which certificate name matched the host under
	// verify-full; nil otherwise.
	HostMatch *HostMatch
	// Err is why the server was not trusted: a *CertificateVerifyError or
	// a *HostnameError. nil when it was.
	Err error
}

// A VerifyCheck is one step of a verification and its result.
type VerifyCheck struct {
	Name   string // one of the Check* names
	Result string // CheckPassed, CheckFailed, CheckNotRun or CheckNotConfigured
}

// The checks of a Verification, in the order OpenSSL (and so libpq) runs
// them, each over every certificate of the chain.
const (
	CheckLeafKey               = "leaf key strength"
	CheckChain                 = "chain to a trusted certificate"
	CheckExtensions            = "purpose, key usage, basic constraints, path length, critical extensions"
	CheckSecurityLevel         = "security level (key sizes, signature digests)"
	CheckRevocation            = "revocation"
	CheckSignaturesAndValidity = "signatures and validity periods"
	CheckNameConstraints       = "name constraints"
	CheckHostName              = "host name"
)

// Results of a VerifyCheck.
const (
	CheckPassed        = "passed"
	CheckFailed        = "failed"
	CheckNotRun        = "not run"        // an earlier check failed
	CheckNotConfigured = "not configured" // revocation without sslcrl or sslcrldir
)

// A HostMatch is the certificate name that matched the host name under
// verify-full.
type HostMatch struct {
	// Host is the host name checked, Name the certificate's name that
	// matched it.
	Host, Name string
	// Kind is where Name came from: "dNSName" or "iPAddress" (a
	// subjectAltName entry), or "commonName", which libpq consults only
	// when the certificate has no subjectAltName entry of the host's kind.
	Kind string
	// Wildcard reports that Name is a "*." pattern.
	Wildcard bool
}

// attemptTrace collects an Attempt while the attempt runs. The dialer also
// serves lib/pq's CancelRequest connections, which must not overwrite it:
// only the first dial is recorded.
type attemptTrace struct {
	mu sync.Mutex
	a  Attempt
}

// record runs f on the Attempt unless t is nil.
func (t *attemptTrace) record(f func(a *Attempt)) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.a)
}

// encryptionNames are the Attempt.Encryption values.
var encryptionNames = map[encryption]string{encTLS: "tls", encTLSOrPlain: "tls-or-plaintext", encPlain: "plaintext"}

// CheckFiles loads the files a TLS connection of c would use, as a
// connection loads them but without connecting: the root file (or the
// system store) with its revocation lists under the Connector's sslmode,
// and the client certificate and key, decrypted with sslpassword or the
// WithSSLPasswordFunc function and checked against each other. It returns
// nil when all of them can be used, else their errors joined (typed as a
// connection's: *RootCertError, ErrRootCertMissing, *CertFileError,
// *KeyFileError, ...). With sslmode=disable it checks nothing.
func (c *Connector) CheckFiles(ctx context.Context) error {
	if c.cfg.sslmode == "disable" {
		return nil
	}
	var errs []error
	if _, err := c.roots.load(c.cfg.sslmode); err != nil {
		errs = append(errs, err)
	}
	if c.clientCerts != nil {
		if _, err := c.clientCerts.certificate(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
