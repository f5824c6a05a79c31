// This file holds require_auth: the parsing of its method list and the
// check of each authentication request against it, both as libpq 18 does.

package pgauth

import (
	"errors"
	"strings"
)

// Authentication request codes that only require_auth needs to name.
const (
	authGSS     = 7
	authGSSCont = 8
	authSSPI    = 9
)

// SASL mechanisms require_auth can name, as a bit set.
const (
	saslSCRAM = 1 << iota // scram-sha-256: SCRAM-SHA-256 and SCRAM-SHA-256-PLUS
	saslOAuth             // oauth: OAUTHBEARER, which pqssl does not perform
)

const saslBits = 1<<authSASL | 1<<authSASLContinue | 1<<authSASLFinal

// A Requirement is a parsed require_auth list: which authentication
// requests the server may make, and whether it must authenticate the client
// at all. The zero value is no requirement.
type Requirement struct {
	raw      string // the list as given, for messages
	methods  uint32 // allowed request codes, as 1<<code
	sasl     int    // allowed SASL mechanisms
	required bool   // the server must complete an authentication exchange
}

// ParseRequirement parses a require_auth value with libpq's rules: a comma
// list of password, md5, gss, sspi, scram-sha-256, oauth and none, either all
// plain (the methods allowed) or all negated with '!' (the methods
// forbidden), without spaces and without repeats. "" means no requirement.
// The error texts are libpq's.
func ParseRequirement(s string) (Requirement, error) {
	if s == "" {
		return Requirement{}, nil
	}
	r := Requirement{raw: s, required: true}
	negated, sawNone := false, false
	for i, part := range strings.Split(s, ",") {
		method := part
		if strings.HasPrefix(method, "!") {
			if i == 0 {
				// Start from everything and take away.
				r.methods, r.sasl, r.required = ^uint32(0), saslSCRAM|saslOAuth, false
			} else if !negated {
				return Requirement{}, errors.New(`negative require_auth method "` + method + `" cannot be mixed with non-negative methods`)
			}
			negated = true
			method = method[1:]
		} else if negated {
			return Requirement{}, errors.New(`require_auth method "` + method + `" cannot be mixed with negative methods`)
		}

		var bits uint32
		var mech int
		switch method {
		case "password":
			bits = 1 << authCleartext
		case "md5":
			bits = 1 << authMD5
		case "gss":
			bits = 1<<authGSS | 1<<authGSSCont
		case "sspi":
			bits = 1<<authSSPI | 1<<authGSSCont
		case "scram-sha-256":
			mech = saslSCRAM
		case "oauth":
			mech = saslOAuth
		case "none":
			if sawNone {
				return Requirement{}, duplicateMethod(part)
			}
			sawNone = true
			r.required = negated
			continue
		default:
			return Requirement{}, errors.New(`invalid require_auth value: "` + method + `"`)
		}

		switch {
		case mech != 0 && negated:
			if r.sasl&mech == 0 {
				return Requirement{}, duplicateMethod(part)
			}
			r.sasl &^= mech
		case mech != 0:
			if r.sasl&mech != 0 {
				return Requirement{}, duplicateMethod(part)
			}
			r.sasl |= mech
		case negated:
			if r.methods&bits == 0 {
				return Requirement{}, duplicateMethod(part)
			}
			r.methods &^= bits
		default:
			if r.methods&bits == bits {
				return Requirement{}, duplicateMethod(part)
			}
			r.methods |= bits
		}
	}
	// SASL requests are allowed exactly when some mechanism is.
	switch {
	case !negated && r.sasl != 0:
		r.methods |= saslBits
	case negated && r.sasl == 0:
		r.methods &^= saslBits
	}
	return r, nil
}

func duplicateMethod(part string) error {
	return errors.New(`require_auth method "` + part + `" is specified more than once`)
}

// String returns the require_auth list as given.
func (r Requirement) String() string { return r.raw }

// Set reports whether r requires anything.
func (r Requirement) Set() bool { return r.raw != "" }

// Feasible reports whether a server could satisfy r with a method pqssl
// performs: no authentication (when r allows it), password, md5 or
// SCRAM-SHA-256. A requirement that only GSSAPI, SSPI or OAuth can meet is
// refused by the root package when the connection string is parsed.
func (r Requirement) Feasible() bool {
	if !r.Set() || !r.required {
		return true
	}
	return r.methods&(1<<authCleartext|1<<authMD5) != 0 || r.sasl&saslSCRAM != 0 && r.methods&saslBits != 0
}

// allows reports whether the server may send an authentication request
// with this code; when it may not, the error says why in libpq's words.
// finished reports whether the client has completed an authentication
// exchange, which AuthenticationOk needs unless r allows none.
func (r Requirement) allows(code uint32, finished bool) error {
	if !r.Set() {
		return nil
	}
	var reason string
	switch code {
	case authOK:
		if !r.required || finished {
			return nil
		}
		reason = "server did not complete authentication"
	case authCleartext, authMD5, authGSS, authGSSCont, authSSPI, authSASL, authSASLContinue, authSASLFinal:
		if r.methods&(1<<code) != 0 {
			return nil
		}
		reason = "server requested " + methodDescription(code)
	default:
		reason = "server requested " + methodDescription(code)
	}
	return r.failed(reason)
}

// allowsMechanism reports whether the SASL mechanism chosen may be used.
func (r Requirement) allowsMechanism(mech string) error {
	if !r.Set() || mech != mechSCRAM && mech != mechSCRAMPlus || r.sasl&saslSCRAM != 0 {
		return nil
	}
	return r.failed("server requested " + mech + " authentication")
}

func (r Requirement) failed(reason string) error {
	return &AuthError{Kind: AuthMethodNotAllowed, Reason: `authentication method requirement "` + r.raw + `" failed: ` + reason}
}

// methodDescription describes a request the way libpq's error messages do.
func methodDescription(code uint32) string {
	switch code {
	case authCleartext:
		return "a cleartext password"
	case authMD5:
		return "a hashed password"
	case authGSS, authGSSCont:
		return "GSSAPI authentication"
	case authSSPI:
		return "SSPI authentication"
	case authSASL, authSASLContinue, authSASLFinal:
		return "SASL authentication"
	}
	return "an unknown authentication type"
}
