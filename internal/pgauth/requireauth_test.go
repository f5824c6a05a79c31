package pgauth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pqssl/pqssl/internal/pgtest"
)

// requirementTests are require_auth values with libpq 18's verdict: err is
// "" for a valid list, else libpq's message.
var requirementTests = []struct {
	value string
	err   string
	// the requests allowed without a finished exchange, and whether
	// AuthenticationOk needs one
	allowed  []uint32
	required bool
	feasible bool
}{
	{value: "password", allowed: []uint32{authCleartext}, required: true, feasible: true},
	{value: "md5", allowed: []uint32{authMD5}, required: true, feasible: true},
	{value: "scram-sha-256", allowed: []uint32{authSASL, authSASLContinue, authSASLFinal}, required: true, feasible: true},
	{value: "gss", allowed: []uint32{authGSS, authGSSCont}, required: true},
	{value: "sspi", allowed: []uint32{authSSPI, authGSSCont}, required: true},
	{value: "oauth", allowed: []uint32{authSASL, authSASLContinue, authSASLFinal}, required: true},
	{value: "gss,sspi", allowed: []uint32{authGSS, authGSSCont, authSSPI}, required: true},
	{value: "none", feasible: true},
	{value: "password,md5", allowed: []uint32{authCleartext, authMD5}, required: true, feasible: true},
	{value: "scram-sha-256,none", allowed: []uint32{authSASL, authSASLContinue, authSASLFinal}, feasible: true},
	{value: "gss,none", allowed: []uint32{authGSS, authGSSCont}, feasible: true},
	{value: "password,md5,scram-sha-256,none,gss,sspi,oauth", allowed: []uint32{authCleartext, authMD5, authGSS, authGSSCont, authSSPI, authSASL, authSASLContinue, authSASLFinal}, feasible: true},
	{value: "!password", allowed: []uint32{authMD5, authGSS, authGSSCont, authSSPI, authSASL, authSASLContinue, authSASLFinal}, feasible: true},
	{value: "!none", allowed: []uint32{authCleartext, authMD5, authGSS, authGSSCont, authSSPI, authSASL, authSASLContinue, authSASLFinal}, required: true, feasible: true},
	{value: "!scram-sha-256", allowed: []uint32{authCleartext, authMD5, authGSS, authGSSCont, authSSPI, authSASL, authSASLContinue, authSASLFinal}, feasible: true},
	{value: "!scram-sha-256,!oauth", allowed: []uint32{authCleartext, authMD5, authGSS, authGSSCont, authSSPI}, feasible: true},
	{value: "!gss,!sspi", allowed: []uint32{authCleartext, authMD5, authSASL, authSASLContinue, authSASLFinal}, feasible: true},
	{value: "!password,!md5,!scram-sha-256,!none", allowed: []uint32{authGSS, authGSSCont, authSSPI, authSASL, authSASLContinue, authSASLFinal}, required: true},

	{value: "Password", err: `invalid require_auth value: "Password"`},
	{value: " password", err: `invalid require_auth value: " password"`},
	{value: "password,,md5", err: `invalid require_auth value: ""`},
	{value: ",", err: `invalid require_auth value: ""`},
	{value: "!", err: `invalid require_auth value: ""`},
	{value: "!foo", err: `invalid require_auth value: "foo"`},
	{value: "!password,md5", err: `require_auth method "md5" cannot be mixed with negative methods`},
	{value: "!password,foo", err: `require_auth method "foo" cannot be mixed with negative methods`},
	{value: "password,!md5", err: `negative require_auth method "!md5" cannot be mixed with non-negative methods`},
	{value: "none,!none", err: `negative require_auth method "!none" cannot be mixed with non-negative methods`},
	{value: "!none,none", err: `require_auth method "none" cannot be mixed with negative methods`},
	{value: "password,password", err: `require_auth method "password" is specified more than once`},
	{value: "scram-sha-256,scram-sha-256", err: `require_auth method "scram-sha-256" is specified more than once`},
	{value: "none,none", err: `require_auth method "none" is specified more than once`},
	{value: "!none,!none", err: `require_auth method "!none" is specified more than once`},
	{value: "!password,!password", err: `require_auth method "!password" is specified more than once`},
	{value: "!oauth,!oauth", err: `require_auth method "!oauth" is specified more than once`},
	{value: "gss,gss", err: `require_auth method "gss" is specified more than once`},
}

func TestParseRequirement(t *testing.T) {
	all := []uint32{authOK, authCleartext, authMD5, authGSS, authGSSCont, authSSPI, authSASL, authSASLContinue, authSASLFinal, 2, 13, 99}
	for _, tt := range requirementTests {
		t.Run(tt.value, func(t *testing.T) {
			r, err := ParseRequirement(tt.value)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.String() != tt.value || !r.Set() || r.Feasible() != tt.feasible {
				t.Errorf("String %q, Set %v, Feasible %v; want %q, true, %v", r, r.Set(), r.Feasible(), tt.value, tt.feasible)
			}
			for _, code := range all {
				want := code != authOK && containsCode(tt.allowed, code) || code == authOK && !tt.required
				err := r.allows(code, false)
				if (err == nil) != want {
					t.Errorf("request %d: error %v, want allowed %v", code, err, want)
				}
				var ae *AuthError
				if err != nil && (!errors.As(err, &ae) || ae.Kind != AuthMethodNotAllowed ||
					!strings.HasPrefix(ae.Reason, `authentication method requirement "`+tt.value+`" failed: server `)) {
					t.Errorf("request %d: error %#v", code, err)
				}
			}
			if err := r.allows(authOK, true); err != nil {
				t.Errorf("AuthenticationOk after a finished exchange: %v", err)
			}
		})
	}
	var none Requirement
	if none.Set() || !none.Feasible() || none.allows(authGSS, false) != nil || none.allowsMechanism(mechSCRAM) != nil {
		t.Error("the zero Requirement requires something")
	}
}

func containsCode(codes []uint32, code uint32) bool {
	for _, c := range codes {
		if c == code {
			return true
		}
	}
	return false
}

// TestParseRequirementLibpq18 gives every value of requirementTests to
// libpq 18 with a port where nothing listens: a valid list gets as far as
// "Connection refused", an invalid one fails with the same message as
// pqssl's.
func TestParseRequirementLibpq18(t *testing.T) {
	bin := pgtest.Installation(t, 18)
	for _, tt := range requirementTests {
		t.Run(tt.value, func(t *testing.T) {
			res := pgtest.Psql{Bin: bin, ConnInfo: "host=127.0.0.1 port=1 connect_timeout=5 require_auth='" + tt.value + "'"}.Run(context.Background())
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if tt.err == "" {
				if !strings.Contains(res.Stderr, "Connection refused") {
					t.Errorf("libpq 18 refused a valid list: %s", res.Stderr)
				}
			} else if res.Stderr != "psql: error: "+tt.err {
				t.Errorf("libpq 18: %s\npqssl:   %s", res.Stderr, tt.err)
			}
		})
	}
}
