// This file holds the errors of password authentication.

package pgauth

import "errors"

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
	// Reason is libpq's description of the failure.
	Reason string
}

// Error returns the reason, prefixed with "pqssl: ".
func (e *AuthError) Error() string { return "pqssl: " + e.Reason }

// A ChannelBindingError reports a connection that could not authenticate the
// way its channel_binding parameter demands, or whose server certificate
// allows no channel binding. pqssl then closes the connection without
// sending anything more, as libpq does. The root package exports it as
// pqssl.ChannelBindingError.
type ChannelBindingError struct {
	// Reason is libpq's description of the failure, for instance
	// "channel binding required, but server authenticated client without
	// channel binding".
	Reason string
}

// Error returns the reason, prefixed with "pqssl: ".
func (e *ChannelBindingError) Error() string { return "pqssl: " + e.Reason }
