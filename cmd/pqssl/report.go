// This file holds the doctor's report, which is also its JSON document,
// and the diagnosis that fills it from the configuration and the trace.

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/pqssl/pqssl"
)

// Verdicts of a Report.
const (
	VerdictOK   = "ok"   // the connection succeeds (or, offline, can be tried)
	VerdictFail = "fail" // it fails; Error says why
)

// Report is the doctor's report, and its JSON document. Field names are
// stable; fields may be added.
type Report struct {
	// Verdict is "ok" or "fail"; Error is pqssl's error, in libpq's
	// words, when it fails. Offline reports whether no connection was
	// tried.
	Verdict string `json:"verdict"`
	Error   string `json:"error,omitempty"`
	Offline bool   `json:"offline"`
	// Hints are concrete suggestions, given only where the cause is
	// certain.
	Hints []string `json:"hints,omitempty"`
	// Parameters are the resolved parameters that matter for the
	// connection, with where each came from. Secrets read "set".
	Parameters []Parameter `json:"parameters"`
	// Files describes the files the connection uses.
	Files []File `json:"files"`
	// Attempts are the connection attempts, in order: one per host and
	// encryption attempt.
	Attempts []Attempt `json:"attempts"`
}

// Parameter is one resolved connection parameter.
type Parameter struct {
	Keyword string `json:"keyword"`
	Value   string `json:"value"`
	// Source is "connection string", "service file PATH", "environment"
	// or "default"; Variable the environment variable when it is
	// "environment".
	Source   string `json:"source"`
	Variable string `json:"variable,omitempty"`
}

// File is one file (or directory) the connection uses.
type File struct {
	// Parameter is the parameter naming it (sslrootcert, sslcrl,
	// sslcrldir, sslcert, sslkey); Path the path.
	Parameter string `json:"parameter"`
	Path      string `json:"path"`
	// Exists reports whether the path exists; Mode is its permission
	// bits in octal.
	Exists bool   `json:"exists"`
	Mode   string `json:"mode,omitempty"`
	// Certificates, CRLs and Key describe the content, for the files
	// that hold them; Entries counts a directory's entries.
	Certificates []Certificate `json:"certificates,omitempty"`
	CRLs         []CRL         `json:"crls,omitempty"`
	Key          *Key          `json:"key,omitempty"`
	Entries      *int          `json:"entries,omitempty"`
	// Problem is pqssl's error for this file, from loading it as a
	// connection does.
	Problem string `json:"problem,omitempty"`
}

// Certificate describes one certificate.
type Certificate struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	SelfSigned         bool      `json:"self_signed"`
	CA                 bool      `json:"ca"`
	Serial             string    `json:"serial"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	DNSNames           []string  `json:"dns_names,omitempty"`
	IPAddresses        []string  `json:"ip_addresses,omitempty"`
	KeyAlgorithm       string    `json:"key_algorithm"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
}

// CRL describes one certificate revocation list.
type CRL struct {
	Issuer     string    `json:"issuer"`
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update,omitempty"`
	Entries    int       `json:"entries"`
}

// Key describes a private key file without its content: its encoding
// ("PEM RSA PRIVATE KEY", "PEM ENCRYPTED PRIVATE KEY", "DER") and whether
// it is encrypted. Whether the password decrypts it and whether it matches
// the certificate is the file's Problem.
type Key struct {
	Format    string `json:"format"`
	Encrypted bool   `json:"encrypted"`
}

// Attempt is one connection attempt to one host.
type Attempt struct {
	Host     string `json:"host"`
	Hostaddr string `json:"hostaddr,omitempty"`
	Port     int    `json:"port"`
	Address  string `json:"address,omitempty"`
	// Encryption is "tls", "tls-or-plaintext" or "plaintext".
	Encryption string `json:"encryption"`
	// SSLResponse is the server's answer to the SSLRequest ("S", "N",
	// "E", or another byte in hexadecimal); empty when none was sent or
	// none came. Direct reports sslnegotiation=direct.
	SSLResponse string `json:"ssl_response,omitempty"`
	Direct      bool   `json:"direct,omitempty"`
	// TLS is the completed handshake, nil without one.
	TLS *TLS `json:"tls,omitempty"`
	// ClientCertificate is the client certificate exchange.
	ClientCertificate ClientCertificate `json:"client_certificate"`
	// Verification is pqssl's trust decision, nil when none ran.
	Verification *Verification `json:"verification,omitempty"`
	// Authentication is the method the session authenticated with ("" for
	// none or when it did not get so far); ChannelBinding a verified
	// SCRAM-SHA-256-PLUS exchange.
	Authentication string `json:"authentication,omitempty"`
	ChannelBinding bool   `json:"channel_binding"`
	// ServerError is the server's ErrorResponse, if it sent one.
	ServerError *ServerError `json:"server_error,omitempty"`
	// Error is the attempt's error; empty for a session.
	Error string `json:"error,omitempty"`
}

// TLS describes a completed handshake.
type TLS struct {
	Version            string        `json:"version"`
	CipherSuite        string        `json:"cipher_suite"`
	Group              string        `json:"group,omitempty"`
	HelloRetryRequest  bool          `json:"hello_retry_request"`
	ALPN               string        `json:"alpn,omitempty"`
	ServerCertificates []Certificate `json:"server_certificates"`
}

// ClientCertificate is what became of the client certificate.
type ClientCertificate struct {
	Requested     bool     `json:"requested"`
	AcceptableCAs []string `json:"acceptable_cas,omitempty"`
	Sent          bool     `json:"sent"`
}

// Verification is pqssl's decision about the server's certificates.
type Verification struct {
	SSLMode string `json:"sslmode"`
	Trusted bool   `json:"trusted"`
	// Chain is the chain pqssl built, leaf first, ending at the trusted
	// certificate (as far as it got when rejected).
	Chain []Certificate `json:"chain"`
	// Checks are the checks in the order they ran, each "passed",
	// "failed", "not run" (after a failure) or "not configured"
	// (revocation without sslcrl or sslcrldir).
	Checks []Check `json:"checks"`
	// HostMatch is the name that matched the host under verify-full.
	HostMatch *HostMatch `json:"host_match,omitempty"`
	// Failure says why the server was not trusted.
	Failure *VerifyFailure `json:"failure,omitempty"`
}

// Check is one verification step.
type Check struct {
	Name   string `json:"name"`
	Result string `json:"result"`
}

// HostMatch is the certificate name that matched the host.
type HostMatch struct {
	Host string `json:"host"`
	Name string `json:"name"`
	// Kind is "dNSName", "iPAddress" or "commonName" (libpq's fallback
	// when the certificate has no subjectAltName of the host's kind).
	Kind     string `json:"kind"`
	Wildcard bool   `json:"wildcard"`
}

// VerifyFailure is a rejected chain or host name.
type VerifyFailure struct {
	// Check is "chain" or "host name".
	Check string `json:"check"`
	// Reason is OpenSSL's text for a chain failure, Depth the position
	// in the chain of the certificate it concerns (0: the server's) and
	// Certificate that certificate; CRLIssuer the revocation list that
	// decided, for revocation failures.
	Reason      string       `json:"reason"`
	Depth       *int         `json:"depth,omitempty"`
	Certificate *Certificate `json:"certificate,omitempty"`
	CRLIssuer   string       `json:"crl_issuer,omitempty"`
	// Host and Names are the host checked and the certificate names
	// examined, for host name failures.
	Host  string   `json:"host,omitempty"`
	Names []string `json:"names,omitempty"`
}

// ServerError is a server's ErrorResponse.
type ServerError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Diagnose resolves dsn, describes its files and, unless offline, connects
// with pqssl's trace, and reports all of it.
func Diagnose(ctx context.Context, dsn string, offline bool) *Report {
	r := &Report{Offline: offline, Parameters: []Parameter{}, Files: []File{}, Attempts: []Attempt{}}
	cfg, err := pqssl.ParseConfig(dsn)
	if err != nil {
		r.fail(err)
		return r
	}
	r.Parameters = parameters(cfg)
	var traces []*pqssl.Attempt
	c, err := pqssl.NewConnector(dsn, pqssl.WithTrace(func(a *pqssl.Attempt) { traces = append(traces, a) }))
	if err != nil {
		r.fail(err)
		return r
	}
	fileErr := c.CheckFiles(ctx)
	r.Files = describeFiles(cfg, fileErr)
	if offline {
		r.conclude(cfg, fileErr)
		return r
	}
	cn, err := c.Connect(ctx)
	if err == nil {
		cn.Close()
	}
	for _, a := range traces {
		r.Attempts = append(r.Attempts, describeAttempt(a))
	}
	r.conclude(cfg, err)
	return r
}

// conclude gives the verdict on err, with the hints.
func (r *Report) conclude(cfg *pqssl.Config, err error) {
	if err != nil {
		r.fail(err)
	} else {
		r.Verdict = VerdictOK
	}
	r.Hints = hints(cfg, r, err)
}

func (r *Report) fail(err error) {
	r.Verdict, r.Error = VerdictFail, err.Error()
}

// shownParameters are the parameters the report lists, in this order.
var shownParameters = []string{
	"service", "host", "hostaddr", "port", "user", "dbname", "password", "passfile",
	"sslmode", "sslnegotiation", "sslrootcert", "sslcrl", "sslcrldir", "sslcert", "sslkey",
	"sslpassword", "sslcertmode", "sslsni", "ssl_min_protocol_version", "ssl_max_protocol_version",
	"channel_binding", "require_auth", "connect_timeout", "target_session_attrs", "load_balance_hosts",
}

func parameters(cfg *pqssl.Config) []Parameter {
	byKeyword := map[string]pqssl.Param{}
	for _, p := range cfg.Params {
		byKeyword[p.Keyword] = p
	}
	var out []Parameter
	for _, kw := range shownParameters {
		p, ok := byKeyword[kw]
		if !ok || p.Value == "" && p.Source == pqssl.SourceDefault {
			continue
		}
		out = append(out, Parameter{Keyword: p.Keyword, Value: p.Value, Source: p.Source, Variable: p.Variable})
	}
	return out
}

func describeAttempt(a *pqssl.Attempt) Attempt {
	out := Attempt{Host: a.Host.Host, Hostaddr: a.Host.Hostaddr, Port: int(a.Host.Port), Address: a.Address,
		Encryption: a.Encryption, Direct: a.Direct, Authentication: a.Authentication, ChannelBinding: a.ChannelBinding,
		ClientCertificate: ClientCertificate{Requested: a.ClientCertRequested, Sent: a.ClientCertSent}}
	switch b := a.SSLResponse; {
	case b == 0:
	case b == 'S' || b == 'N' || b == 'E':
		out.SSLResponse = string(rune(b))
	default:
		out.SSLResponse = fmt.Sprintf("0x%02x", b)
	}
	for _, der := range a.AcceptableCAs {
		out.ClientCertificate.AcceptableCAs = append(out.ClientCertificate.AcceptableCAs, distinguishedName(der))
	}
	if a.TLS != nil {
		t := &TLS{Version: tls.VersionName(a.TLS.Version), CipherSuite: tls.CipherSuiteName(a.TLS.CipherSuite),
			ALPN: a.TLS.NegotiatedProtocol, ServerCertificates: []Certificate{}}
		t.Group, t.HelloRetryRequest = keyExchange(a.TLS)
		for _, c := range a.TLS.PeerCertificates {
			t.ServerCertificates = append(t.ServerCertificates, describeCert(c))
		}
		out.TLS = t
	}
	if v := a.Verification; v != nil {
		vr := &Verification{SSLMode: v.SSLMode, Trusted: v.Err == nil, Chain: []Certificate{}, Checks: []Check{}}
		for _, c := range v.Checks {
			vr.Checks = append(vr.Checks, Check{Name: c.Name, Result: c.Result})
		}
		for _, c := range v.Chain {
			vr.Chain = append(vr.Chain, describeCert(c))
		}
		if m := v.HostMatch; m != nil {
			vr.HostMatch = &HostMatch{Host: m.Host, Name: m.Name, Kind: m.Kind, Wildcard: m.Wildcard}
		}
		vr.Failure = describeFailure(v.Err)
		out.Verification = vr
	}
	var pe *pq.Error
	if errors.As(a.Err, &pe) {
		out.ServerError = &ServerError{Code: string(pe.Code), Message: pe.Message}
	}
	if a.Err != nil {
		out.Error = a.Err.Error()
	}
	return out
}

func describeFailure(err error) *VerifyFailure {
	if err == nil {
		return nil
	}
	var ve *pqssl.CertificateVerifyError
	var he *pqssl.HostnameError
	switch {
	case errors.As(err, &ve):
		f := &VerifyFailure{Check: "chain", Reason: ve.Reason.String(), Depth: &ve.Depth}
		if ve.Cert != nil {
			c := describeCert(ve.Cert)
			f.Certificate = &c
		}
		if ve.CRL != nil {
			f.CRLIssuer = ve.CRL.Issuer.String()
		}
		return f
	case errors.As(err, &he):
		return &VerifyFailure{Check: "host name", Reason: strings.TrimPrefix(he.Error(), "pqssl: "), Host: he.Host, Names: he.Names}
	}
	return &VerifyFailure{Check: "chain", Reason: strings.TrimPrefix(err.Error(), "pqssl: ")}
}

func describeCert(c *x509.Certificate) Certificate {
	out := Certificate{Subject: c.Subject.String(), Issuer: c.Issuer.String(),
		// CheckSignatureFrom would also demand that c be a CA.
		SelfSigned: string(c.RawSubject) == string(c.RawIssuer) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil,
		CA:         c.BasicConstraintsValid && c.IsCA, Serial: fmt.Sprintf("%#x", c.SerialNumber),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), DNSNames: c.DNSNames,
		KeyAlgorithm: keyAlgorithm(c), SignatureAlgorithm: c.SignatureAlgorithm.String()}
	for _, ip := range c.IPAddresses {
		out.IPAddresses = append(out.IPAddresses, ip.String())
	}
	return out
}

func keyAlgorithm(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}

// distinguishedName formats a DER distinguished name, or says it is not one.
func distinguishedName(der []byte) string {
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdn); err != nil || len(rest) != 0 {
		return fmt.Sprintf("(unparsable name, %d bytes)", len(der))
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdn)
	return n.String()
}
