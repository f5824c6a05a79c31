// This file holds every error type and sentinel pqssl returns.
//
// Prefix policy: an error that can reach the caller on its own reads
// "pqssl: " followed by libpq's text for the same failure, where libpq has
// one. Values that only ever appear wrapped inside another error
// (ErrIncorrectPassword, ErrPasswordRequired, ErrRootCertMissing,
// *UnsupportedKeyError) carry no prefix, and a HostError, which lists one
// host among several, drops the prefix of the error it wraps, so that the
// prefix appears exactly once in any message.

package pqssl

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"syscall"

	"github.com/pqssl/pqssl/internal/pgauth"
)

// errPrefix begins the text of every error pqssl returns on its own.
const errPrefix = "pqssl: "

// sysErrText gives the system's text for a file error ("permission
// denied"), as libpq shows it with strerror: without the operation and path
// of an *fs.PathError, which the surrounding message already names.
func sysErrText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return fmt.Sprint(err)
}

// ---------------------------------------------------------------------------
// Connection strings

// A ParameterError reports an invalid connection parameter (from the
// connection string, a service file or an environment variable).
type ParameterError struct {
	Name   string // keyword ("sslmode") or environment variable ("PGSSLMODE")
	Source string // "connection string", "service file PATH", "environment"
	Err    error  // what is wrong; never contains the value of password or sslpassword
}

// Error returns the message, naming the parameter and where it came from.
// Errors in the syntax of the connection string or of a service file have
// no Name; their text is libpq's, which already says where the problem is.
func (e *ParameterError) Error() string {
	msg := "invalid value"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	switch {
	case e.Name == "":
		return "pqssl: " + msg
	case e.Source == sourceEnv:
		return "pqssl: invalid value for environment variable " + e.Name + ": " + msg
	case strings.HasPrefix(e.Source, "service file "):
		return fmt.Sprintf("pqssl: invalid value for connection parameter %q in %s: %s", e.Name, e.Source, msg)
	default:
		return fmt.Sprintf("pqssl: invalid value for connection parameter %q: %s", e.Name, msg)
	}
}

// Unwrap returns the underlying error.
func (e *ParameterError) Unwrap() error { return e.Err }

// ---------------------------------------------------------------------------
// Hosts and sessions

// A HostError reports why one host of a multi-host connection string could
// not be used.
type HostError struct {
	Host     string // host name as given ("" when only hostaddr was given)
	Hostaddr string // numeric address, if given
	Port     uint16
	Err      error
}

// Error returns libpq's line for the host, without the "pqssl: " prefix of
// the error it wraps: the message that lists the hosts carries it.
func (e *HostError) Error() string {
	addr := ""
	if e.Hostaddr != "" {
		addr = " (" + e.Hostaddr + ")"
	}
	return fmt.Sprintf("connection to server at %q%s, port %d failed: %s", e.Host, addr, e.Port, strings.TrimPrefix(fmt.Sprint(e.Err), errPrefix))
}

func (e *HostError) Unwrap() error { return e.Err }

// A SessionAttrsError reports a server that does not have the properties
// target_session_attrs asks for; the next host is tried after it.
type SessionAttrsError struct {
	Want   string // the target_session_attrs value
	Reason string // what the server is instead, e.g. "session is read-only"
}

func (e *SessionAttrsError) Error() string {
	return fmt.Sprintf("pqssl: server does not satisfy target_session_attrs=%s: %s", e.Want, e.Reason)
}

// ---------------------------------------------------------------------------
// SSL negotiation

// Errors of the SSLRequest exchange, with libpq's texts.
var (
	// ErrSSLNotSupported reports that the server answered the SSLRequest
	// with 'N' under an sslmode that requires TLS.
	ErrSSLNotSupported = errors.New("pqssl: server does not support SSL, but SSL was required")

	// ErrSSLErrorResponse reports that the server answered the SSLRequest
	// with an ErrorResponse. Its text is not shown: nothing a server sends
	// before the TLS handshake can be trusted.
	ErrSSLErrorResponse = errors.New("pqssl: server sent an error response during SSL exchange")

	// ErrUnencryptedData reports bytes that arrived after the server's 'S'
	// and before the TLS handshake (CVE-2021-23222). They are never read as
	// protocol data.
	ErrUnencryptedData = errors.New("pqssl: received unencrypted data after SSL response")

	// ErrClientCertNotRequested reports, under sslcertmode=require, a
	// server that authenticated the session without asking for a client
	// certificate.
	ErrClientCertNotRequested = errors.New("pqssl: server did not request an SSL certificate")

	// ErrClientCertNotSent reports, under sslcertmode=require, a server
	// that asked for a client certificate, got none and authenticated the
	// session anyway.
	ErrClientCertNotSent = errors.New("pqssl: server accepted connection without a valid SSL certificate")

	// ErrALPNNotSelected reports, under sslnegotiation=direct, a server that
	// did not select the ALPN protocol "postgresql".
	ErrALPNNotSelected = errors.New(`pqssl: server did not select ALPN protocol "postgresql" with sslnegotiation=direct`)
)

// ErrCancelUnanswered is returned by a query whose context ended, when the
// server then did not answer the cancellation within a second. libpq would
// go on waiting; pqssl closes the connection instead, so that a stalled
// server or network cannot hold the caller past its deadline. The query may
// still run on the server until the CancelRequest reaches it.
var ErrCancelUnanswered = errors.New("pqssl: query cancelled by its context; the server did not answer the cancellation in time, connection closed")

// An InvalidSSLResponseError reports a byte other than 'S', 'N' or 'E' in
// answer to the SSLRequest.
type InvalidSSLResponseError struct {
	Response byte
}

func (e *InvalidSSLResponseError) Error() string {
	return fmt.Sprintf("pqssl: received invalid response to SSL negotiation: %c", e.Response)
}

// ---------------------------------------------------------------------------
// Server certificate verification

// RootCertError reports that the root certificate file (sslrootcert) could
// not be loaded. Its message is libpq's:
// could not read root certificate file "PATH": REASON, where REASON is
// OpenSSL's text for the problem ("no certificate or crl found",
// "bad base64 decode", "bad end line", "wrong tag", ...).
type RootCertError struct {
	// Path is the file name; empty when the certificates were given inline
	// (sslinline).
	Path string
	// Kind says what is wrong with the file, for programs.
	Kind RootCertErrorKind
	// Reason describes the problem.
	Reason string
	// Err is the underlying error, if any; for a file that does not exist
	// errors.Is(err, fs.ErrNotExist) holds.
	Err error
}

// A RootCertErrorKind classifies a RootCertError.
type RootCertErrorKind int

const (
	// RootCertUnreadable: the file cannot be opened or read.
	RootCertUnreadable RootCertErrorKind = iota + 1
	// RootCertEmpty: the file holds no certificate and no CRL.
	RootCertEmpty
	// RootCertMalformed: a PEM block, or the certificate or CRL in it,
	// does not parse.
	RootCertMalformed
)

// String names the kind.
func (k RootCertErrorKind) String() string {
	switch k {
	case RootCertUnreadable:
		return "unreadable"
	case RootCertEmpty:
		return "no certificate or crl"
	case RootCertMalformed:
		return "malformed"
	}
	return "RootCertErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// Error returns libpq's message for the failure.
func (e *RootCertError) Error() string { return errPrefix + e.text() }

func (e *RootCertError) text() string {
	if e.Path == "" {
		return "could not read root certificate from sslrootcert (inline): " + e.Reason
	}
	return fmt.Sprintf("could not read root certificate file %q: %s", e.Path, e.Reason)
}

// Unwrap returns Err.
func (e *RootCertError) Unwrap() error { return e.Err }

// ErrRootCertMissing is wrapped by the error of a verify-ca or verify-full
// connection whose root certificate file does not exist.
var ErrRootCertMissing = errors.New("root certificate file does not exist")

// CertificateVerifyError reports that the server's certificate chain failed
// verification against the root certificates (sslrootcert) and, when a CRL
// location was loaded (sslcrl, sslcrldir), the certificate revocation
// lists.
//
// Its message is "certificate verify failed: " followed by OpenSSL's
// description of the reason; for revocation failures, the subject and
// serial number of the certificate concerned follow in parentheses. libpq
// 15 prints only "SSL error: certificate verify failed"; later libpq
// versions append the reason in this same form for some failures.
type CertificateVerifyError struct {
	Reason VerifyReason
	// Cert is the certificate the failure concerns, nil when there is none
	// (e.g. the server sent no certificate). For revocation failures it is
	// the certificate being checked: the revoked one for CertRevoked, the
	// one no usable CRL covers for UnableToGetCRL.
	Cert *x509.Certificate
	// Depth is Cert's position in the chain being built: 0 for the leaf,
	// 1 for its issuer, and so on.
	Depth int
	// CRL is the revocation list the failure concerns (the one listing
	// Cert, or the one found expired, badly signed...), nil for other
	// failures.
	CRL *x509.RevocationList
	// Err is the underlying error, if any (e.g. from a signature check).
	Err error
}

// Error returns "certificate verify failed: " and the reason, followed for
// revocation failures by the certificate's subject and serial number.
func (e *CertificateVerifyError) Error() string { return errPrefix + e.text() }

func (e *CertificateVerifyError) text() string {
	msg := "certificate verify failed: " + e.Reason.String()
	if e.Cert != nil && e.Reason.isRevocation() {
		msg += fmt.Sprintf(" (subject %q, serial %#x)", e.Cert.Subject.String(), e.Cert.SerialNumber)
	}
	return msg
}

// Unwrap returns Err.
func (e *CertificateVerifyError) Unwrap() error { return e.Err }

// VerifyReason says why a certificate chain was rejected. The values are
// OpenSSL's X509_V_ERR_* codes, so they can be compared with the output of
// "openssl verify"; String returns OpenSSL's text for them.
type VerifyReason int

// Reasons for rejecting a certificate chain, named after OpenSSL's codes.
const (
	Unspecified                   VerifyReason = 1  // an internal inconsistency
	UnableToGetIssuerCert         VerifyReason = 2  // a trusted certificate's issuer is missing from the root file
	UnableToGetCRL                VerifyReason = 3  // no CRL covers a certificate
	CertSignatureFailure          VerifyReason = 7  // a signature does not verify
	CRLSignatureFailure           VerifyReason = 8  // a CRL's signature does not verify
	CertNotYetValid               VerifyReason = 9  // a certificate's notBefore is in the future
	CertHasExpired                VerifyReason = 10 // a certificate's notAfter has passed
	CRLNotYetValid                VerifyReason = 11 // a CRL's thisUpdate is in the future
	CRLHasExpired                 VerifyReason = 12 // a CRL's nextUpdate has passed
	DepthZeroSelfSignedCert       VerifyReason = 18 // a self-signed leaf that is not in the root file
	SelfSignedCertInChain         VerifyReason = 19 // the chain ends in a self-signed certificate not in the root file
	UnableToGetIssuerCertLocally  VerifyReason = 20 // no issuer found for the top of the chain
	UnableToVerifyLeafSignature   VerifyReason = 21 // a lone leaf trusted without being self-signed
	CertChainTooLong              VerifyReason = 22 // more than 100 certificates above the leaf
	CertRevoked                   VerifyReason = 23 // a certificate is listed in its issuer's CRL
	NoIssuerPublicKey             VerifyReason = 24 // an issuer's public key cannot be used
	PathLengthExceeded            VerifyReason = 25 // a CA's pathLenConstraint is exceeded
	InvalidPurpose                VerifyReason = 26 // extended key usage, key usage or Netscape type forbid TLS server use
	CertRejected                  VerifyReason = 28 // a TRUSTED CERTIFICATE entry rejects or does not list serverAuth
	KeyUsageNoCertSign            VerifyReason = 32 // an issuer's keyUsage lacks keyCertSign
	UnableToGetCRLIssuer          VerifyReason = 33 // a CRL's issuer cannot be found
	UnhandledCriticalExtension    VerifyReason = 34 // a critical extension OpenSSL does not support
	KeyUsageNoCRLSign             VerifyReason = 35 // a CRL issuer's keyUsage lacks cRLSign
	UnhandledCriticalCRLExtension VerifyReason = 36 // a CRL has a critical extension OpenSSL does not support
	ProxyCertificatesNotAllowed   VerifyReason = 40 // an RFC 3820 proxy certificate
	DifferentCRLScope             VerifyReason = 44 // a CRL's scope does not cover the certificate
	PermittedSubtreeViolation     VerifyReason = 47 // a name outside a CA's permitted subtrees
	ExcludedSubtreeViolation      VerifyReason = 48 // a name inside a CA's excluded subtrees
	SubtreeMinMax                 VerifyReason = 49 // a name constraint uses minimum or maximum
	UnsupportedConstraintType     VerifyReason = 51 // a name constraint of a type OpenSSL cannot check
	UnsupportedConstraintSyntax   VerifyReason = 52 // a malformed name constraint
	UnsupportedNameSyntax         VerifyReason = 53 // a name that cannot be checked against constraints
	EEKeyTooSmall                 VerifyReason = 66 // the leaf key is too weak for the security level
	CAKeyTooSmall                 VerifyReason = 67 // an issuer key is too weak for the security level
	CAMDTooWeak                   VerifyReason = 68 // a signature digest is too weak for the security level
	InvalidCA                     VerifyReason = 79 // an issuer is not a CA
)

var reasonText = map[VerifyReason]string{
	Unspecified:                   "unspecified certificate verification error",
	UnableToGetIssuerCert:         "unable to get issuer certificate",
	UnableToGetCRL:                "unable to get certificate CRL",
	CertSignatureFailure:          "certificate signature failure",
	CRLSignatureFailure:           "CRL signature failure",
	CertNotYetValid:               "certificate is not yet valid",
	CertHasExpired:                "certificate has expired",
	CRLNotYetValid:                "CRL is not yet valid",
	CRLHasExpired:                 "CRL has expired",
	DepthZeroSelfSignedCert:       "self-signed certificate",
	SelfSignedCertInChain:         "self-signed certificate in certificate chain",
	UnableToGetIssuerCertLocally:  "unable to get local issuer certificate",
	UnableToVerifyLeafSignature:   "unable to verify the first certificate",
	CertChainTooLong:              "certificate chain too long",
	CertRevoked:                   "certificate revoked",
	NoIssuerPublicKey:             "issuer certificate doesn't have a public key",
	PathLengthExceeded:            "path length constraint exceeded",
	InvalidPurpose:                "unsuitable certificate purpose",
	CertRejected:                  "certificate rejected",
	KeyUsageNoCertSign:            "key usage does not include certificate signing",
	UnableToGetCRLIssuer:          "unable to get CRL issuer certificate",
	UnhandledCriticalExtension:    "unhandled critical extension",
	KeyUsageNoCRLSign:             "key usage does not include CRL signing",
	UnhandledCriticalCRLExtension: "unhandled critical CRL extension",
	ProxyCertificatesNotAllowed:   "proxy certificates not allowed, please set the appropriate flag",
	DifferentCRLScope:             "different CRL scope",
	PermittedSubtreeViolation:     "permitted subtree violation",
	ExcludedSubtreeViolation:      "excluded subtree violation",
	SubtreeMinMax:                 "name constraints minimum and maximum not supported",
	UnsupportedConstraintType:     "unsupported name constraint type",
	UnsupportedConstraintSyntax:   "unsupported or invalid name constraint syntax",
	UnsupportedNameSyntax:         "unsupported or invalid name syntax",
	EEKeyTooSmall:                 "EE certificate key too weak",
	CAKeyTooSmall:                 "CA certificate key too weak",
	CAMDTooWeak:                   "CA signature digest algorithm too weak",
	InvalidCA:                     "invalid CA certificate",
}

// String returns OpenSSL's description of the reason (what
// X509_verify_cert_error_string gives in OpenSSL 3.0).
func (r VerifyReason) String() string {
	if s, ok := reasonText[r]; ok {
		return s
	}
	return "certificate verification error " + strconv.Itoa(int(r))
}

// isRevocation reports whether r is a failure of revocation checking.
func (r VerifyReason) isRevocation() bool {
	switch r {
	case UnableToGetCRL, CRLSignatureFailure, CRLNotYetValid, CRLHasExpired, CertRevoked,
		UnableToGetCRLIssuer, KeyUsageNoCRLSign, UnhandledCriticalCRLExtension, DifferentCRLScope:
		return true
	}
	return false
}

// HostnameError reports that the server certificate does not match the host
// name, as checked by sslmode=verify-full. Its message is libpq's.
type HostnameError struct {
	// Certificate is the server certificate whose names were checked, as in
	// x509.HostnameError.
	Certificate *x509.Certificate
	// Host is the host name that was checked (the host parameter, never
	// hostaddr). It is empty when no host name was available.
	Host string
	// Names are the names of the certificate that were examined, in the
	// order libpq examines them: the dNSName and iPAddress entries of the
	// subjectAltName extension, then the first Common Name when it was
	// consulted. iPAddress entries appear in printable form.
	Names []string
	// Err, when not nil, is the reason the check stopped early: a name
	// with an embedded NUL, or an iPAddress entry of an impossible length.
	Err error
}

// Error returns libpq's message for the failure.
func (e *HostnameError) Error() string { return errPrefix + e.text() }

func (e *HostnameError) text() string {
	switch {
	case e.Err != nil:
		return e.Err.Error()
	case e.Host == "":
		return "host name must be specified for a verified SSL connection"
	case len(e.Names) == 0:
		return "could not get server's host name from server certificate"
	case len(e.Names) == 1:
		return fmt.Sprintf("server certificate for %q does not match host name %q", e.Names[0], e.Host)
	}
	other := "names"
	if len(e.Names) == 2 {
		other = "name"
	}
	return fmt.Sprintf("server certificate for %q (and %d other %s) does not match host name %q",
		e.Names[0], len(e.Names)-1, other, e.Host)
}

// Unwrap returns Err.
func (e *HostnameError) Unwrap() error { return e.Err }

// ---------------------------------------------------------------------------
// Client certificates and keys

// CertFileError reports a client certificate file that exists but cannot
// be used. Its text is libpq's message for the same failure.
type CertFileError struct {
	// Path is the certificate file, or "sslcert" for one given inline.
	Path string
	// Op is "open" when the file could not be examined, "read" when it
	// could not be read or holds no usable certificate.
	Op  string
	Err error
}

func (e *CertFileError) Error() string { return errPrefix + e.text() }

func (e *CertFileError) text() string {
	return fmt.Sprintf("could not %s certificate file %q: %v", e.Op, e.Path, sysErrText(e.Err))
}

func (e *CertFileError) Unwrap() error { return e.Err }

// KeyFileReason classifies a KeyFileError.
type KeyFileReason int

const (
	// KeyUnloadable: the key could not be read, decrypted or parsed.
	KeyUnloadable KeyFileReason = iota
	// KeyMissing: the certificate exists but the key file does not.
	KeyMissing
	// KeyNotRegular: the key file is not a regular file.
	KeyNotRegular
	// KeyPermissions: the key file is accessible to group or others.
	KeyPermissions
	// KeyMismatch: the key does not belong to the certificate.
	KeyMismatch
	// KeyStatFailed: the key file could not be examined (other than not
	// existing), e.g. for lack of permission on its directory.
	KeyStatFailed
)

// KeyFileError reports a client private key that cannot be used. Its text
// is libpq's message for the same failure. It never contains the password
// or any key material.
type KeyFileError struct {
	// Path is the key file, or "sslkey" for a key given inline.
	Path   string
	Reason KeyFileReason
	// Err is the underlying error, if any: ErrIncorrectPassword,
	// ErrPasswordRequired, an *UnsupportedKeyError, an *fs.PathError, or
	// the error of the password function.
	Err error
}

func (e *KeyFileError) Error() string { return errPrefix + e.text() }

func (e *KeyFileError) text() string {
	switch e.Reason {
	case KeyMissing:
		return fmt.Sprintf("certificate present, but not private key file %q", e.Path)
	case KeyNotRegular:
		return fmt.Sprintf("private key file %q is not a regular file", e.Path)
	case KeyPermissions:
		return fmt.Sprintf("private key file %q has group or world access; file must have permissions u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r (0640) or less if owned by root", e.Path)
	case KeyMismatch:
		return fmt.Sprintf("certificate does not match private key file %q: %v", e.Path, e.Err)
	case KeyStatFailed:
		return fmt.Sprintf("could not stat private key file %q: %v", e.Path, sysErrText(e.Err))
	}
	if e.Err == nil {
		return fmt.Sprintf("could not load private key file %q", e.Path)
	}
	return fmt.Sprintf("could not load private key file %q: %v", e.Path, e.Err)
}

func (e *KeyFileError) Unwrap() error { return e.Err }

// UnsupportedKeyError reports a private key in a form pqssl cannot use: an
// encryption scheme, cipher or key-derivation function it does not
// implement, or a key type that cannot sign TLS handshakes.
type UnsupportedKeyError struct {
	// What names the unsupported algorithm, e.g. "cipher RC2-CBC" or "key
	// type DSA".
	What string
}

func (e *UnsupportedKeyError) Error() string { return "unsupported " + e.What }

// ErrIncorrectPassword reports that an encrypted private key could not be
// decrypted with the password given: the password is wrong (or the file is
// corrupt). Its text is OpenSSL's, so that the full message reads like
// libpq's: could not load private key file "PATH": bad decrypt.
var ErrIncorrectPassword = errors.New("bad decrypt")

// ErrPasswordRequired reports an encrypted private key for which neither
// sslpassword nor a password function (WithSSLPasswordFunc) supplied a
// password. libpq would prompt on the terminal here; pqssl never prompts.
var ErrPasswordRequired = errors.New("private key is encrypted, but no password was given (set sslpassword or use WithSSLPasswordFunc)")

// ---------------------------------------------------------------------------
// Password authentication

// ErrNoPassword reports that the server asked for a password and there was
// none: no password parameter, no PGPASSWORD and no matching entry in the
// password file. The text is libpq's.
var ErrNoPassword = pgauth.ErrNoPassword

// An AuthError reports an authentication exchange that pqssl abandoned
// because of what the server sent: a message that is not an authentication
// request, a malformed SASL message, a mechanism pqssl does not know, or a
// SCRAM server signature that does not prove knowledge of the password
// (Reason "incorrect server signature"). Errors the server itself reports,
// such as a wrong password, arrive as *pq.Error instead.
//
// Its field Reason (a string) is libpq's description of the failure; Error
// returns it prefixed with "pqssl: ".
type AuthError = pgauth.AuthError

// An AuthErrorKind classifies an AuthError.
type AuthErrorKind = pgauth.AuthErrorKind

// The kinds of AuthError.
const (
	AuthMalformedMessage     = pgauth.AuthMalformedMessage     // a server message that does not parse
	AuthProtocolViolation    = pgauth.AuthProtocolViolation    // a message at the wrong time
	AuthUnsupportedMechanism = pgauth.AuthUnsupportedMechanism // no SASL mechanism pqssl performs
	AuthServerNotVerified    = pgauth.AuthServerNotVerified    // the server did not prove it knows the password
	AuthLocalFailure         = pgauth.AuthLocalFailure         // pqssl could not take its part
	AuthMethodNotAllowed     = pgauth.AuthMethodNotAllowed     // require_auth does not allow what the server did
	AuthProtocolVersion      = pgauth.AuthProtocolVersion      // the server's protocol is older than min_protocol_version
)

// A ChannelBindingError reports a connection that could not authenticate the
// way its channel_binding parameter demands, or whose server certificate
// allows no channel binding. pqssl then closes the connection without
// sending anything more, as libpq does.
//
// Its field Reason (a string) is libpq's description of the failure, for
// instance "channel binding required, but server authenticated client
// without channel binding"; Error returns it prefixed with "pqssl: ".
type ChannelBindingError = pgauth.ChannelBindingError

// A ChannelBindingErrorKind classifies a ChannelBindingError.
type ChannelBindingErrorKind = pgauth.ChannelBindingErrorKind

// The kinds of ChannelBindingError.
const (
	ChannelBindingNotUsed                = pgauth.ChannelBindingNotUsed                // required, but the session would not use it
	ChannelBindingUnsupportedCertificate = pgauth.ChannelBindingUnsupportedCertificate // no tls-server-end-point hash for the certificate
)
