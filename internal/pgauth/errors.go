// This file holds the errors of password authentication.

package pgauth

import (
	"errors"
	"strconv"
)

// ErrNoPassword reports that the server asked for a password and there was
// none: no password parameter, no PGPASSWORD and no matching entry in the
// password file. The text is libpq's. The root package exports it as
// pqssl.ErrNoPassword.
var ErrNoPassword = errors.New("pqssl: fe_sendauth: no password supplied")

// An AuthError reports an authentication exchange that pqssl abandoned
// because of what the server sent: a message that is not an authentication
// request, a malformed SASL message, a mechanism pqssl does not know, or a
// SCRAM server signature that does not prove knowledge of the password
// (Reason "incorrect server signature"). Errors the server itself reports,
// such as a wrong password, arrive as *pq.Error instead. The root package
// exports it as pqssl.AuthError.
type AuthError struct {
	// Kind says what went wrong, for programs.
	Kind AuthErrorKind
	// Reason is libpq's description of the failure.
	Reason string
}

// An AuthErrorKind classifies an AuthError.
type AuthErrorKind int

const (
	// AuthMalformedMessage: a server message that does not parse, such as
	// a SCRAM attribute missing, a bad salt or iteration count, or an
	// invalid list of mechanisms.
	AuthMalformedMessage AuthErrorKind = iota + 1
	// AuthProtocolViolation: a well-formed message at the wrong time, such
	// as a second SASL request, SASLContinue before SASL, a message that is
	// not an authentication request, or SCRAM-SHA-256-PLUS offered without
	// TLS.
	AuthProtocolViolation
	// AuthUnsupportedMechanism: none of the server's SASL mechanisms is one
	// pqssl performs.
	AuthUnsupportedMechanism
	// AuthServerNotVerified: the server's SCRAM messages do not prove that
	// it knows the password (nonce mismatch, incorrect server signature), or
	// the server ended the exchange with a SCRAM error.
	AuthServerNotVerified
	// AuthLocalFailure: pqssl could not take its part, for instance
	// generating a nonce or sending its answer.
	AuthLocalFailure
	// AuthMethodNotAllowed: the server asked for an authentication method
	// that require_auth does not allow, or reported success without the
	// exchange require_auth demands. Nothing derived from the password
	// was sent in answer.
	AuthMethodNotAllowed
	// AuthProtocolVersion: the server speaks an older protocol version
	// than min_protocol_version asks for.
	AuthProtocolVersion
)

var authErrorKindNames = [...]string{
	AuthMalformedMessage:     "malformed message",
	AuthProtocolViolation:    "protocol violation",
	AuthUnsupportedMechanism: "unsupported mechanism",
	AuthServerNotVerified:    "server not verified",
	AuthLocalFailure:         "local failure",
	AuthMethodNotAllowed:     "method not allowed",
	AuthProtocolVersion:      "protocol version",
}

// String names the kind.
func (k AuthErrorKind) String() string {
	if k > 0 && int(k) < len(authErrorKindNames) {
		return authErrorKindNames[k]
	}
	return "AuthErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// Error returns the reason, prefixed with "pqssl: ".
func (e *AuthError) Error() string { return "pqssl: " + e.Reason }

// A ChannelBindingError reports a connection that could not authenticate the
// way its channel_binding parameter demands, or whose server certificate
// allows no channel binding. pqssl then closes the connection without
// sending anything more, as libpq does. The root package exports it as
// pqssl.ChannelBindingError.
type ChannelBindingError struct {
	// Kind says what went wrong, for programs.
	Kind ChannelBindingErrorKind
	// Reason is libpq's description of the failure, for instance
	// "channel binding required, but server authenticated client without
	// channel binding".
	Reason string
}

// Error returns the reason, prefixed with "pqssl: ".
func (e *ChannelBindingError) Error() string { return "pqssl: " + e.Reason }

// A ChannelBindingErrorKind classifies a ChannelBindingError.
type ChannelBindingErrorKind int

const (
	// ChannelBindingNotUsed: channel_binding=require, and the session
	// would authenticate without channel binding (no TLS, no
	// SCRAM-SHA-256-PLUS offered, or the server skipped it).
	ChannelBindingNotUsed ChannelBindingErrorKind = iota + 1
	// ChannelBindingUnsupportedCertificate: the server certificate gives no
	// tls-server-end-point hash (unknown signature algorithm) or is
	// missing.
	ChannelBindingUnsupportedCertificate
)

// String names the kind.
func (k ChannelBindingErrorKind) String() string {
	switch k {
	case ChannelBindingNotUsed:
		return "channel binding not used"
	case ChannelBindingUnsupportedCertificate:
		return "unsupported server certificate"
	}
	return "ChannelBindingErrorKind(" + strconv.Itoa(int(k)) + ")"
}
