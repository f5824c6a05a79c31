package pgauth

import (
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestSCRAMClientRFC7677(t *testing.T) {
	// The example exchange of RFC 7677, section 3.
	s, err := newSCRAMClient(mechSCRAM, "n,,", nil, "pencil", func() bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	s.clientNonce = "rOprNGfwEbeRWgbNEkqO"
	s.clientFirstBare = "n=user,r=rOprNGfwEbeRWgbNEkqO"
	final, done, err := s.exchange([]byte("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
	if err != nil || done {
		t.Fatalf("server-first: done %v, err %v", done, err)
	}
	want := "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	if string(final) != want {
		t.Errorf("client-final = %q\nwant           %q", final, want)
	}
	if _, done, err = s.exchange([]byte("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")); err != nil || !done {
		t.Fatalf("server-final: done %v, err %v", done, err)
	}
	if s.bound() {
		t.Error("bound() with SCRAM-SHA-256")
	}
}

func TestSCRAMClientErrors(t *testing.T) {
	const nonce = "rOprNGfwEbeRWgbNEkqO"
	const goodFirst = "r=" + nonce + "srv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	tests := []struct {
		name  string
		first string // server-first-message
		final string // server-final-message, when first is accepted
		want  string // AuthError.Reason
	}{
		{"empty", "", "", "malformed SCRAM message (empty message)"},
		{"NUL", "r=" + nonce + "\x00,s=QQ==,i=1", "", "malformed SCRAM message (length mismatch)"},
		{"no nonce", "s=QQ==,i=1", "", `malformed SCRAM message (attribute "r" expected)`},
		{"no equals", "r" + nonce, "", `malformed SCRAM message (expected character "=" for attribute "r")`},
		{"nonce mismatch", "r=xOprNGfwEbeRWgbNEkqOsrv,s=QQ==,i=1", "", "invalid SCRAM response (nonce mismatch)"},
		{"short nonce", "r=rOpr,s=QQ==,i=1", "", "invalid SCRAM response (nonce mismatch)"},
		{"bad salt", "r=" + nonce + ",s=!!,i=1", "", "malformed SCRAM message (invalid salt)"},
		{"salt with line break", "r=" + nonce + ",s=QQ\n==,i=1", "", "malformed SCRAM message (invalid salt)"},
		{"no iterations", "r=" + nonce + ",s=QQ==", "", `malformed SCRAM message (attribute "i" expected)`},
		{"zero iterations", "r=" + nonce + ",s=QQ==,i=0", "", "malformed SCRAM message (invalid iteration count)"},
		{"negative iterations", "r=" + nonce + ",s=QQ==,i=-5", "", "malformed SCRAM message (invalid iteration count)"},
		{"iterations with trailing text", "r=" + nonce + ",s=QQ==,i=12x", "", "malformed SCRAM message (invalid iteration count)"},
		{"iterations beyond int", "r=" + nonce + ",s=QQ==,i=2147483648", "", "malformed SCRAM message (invalid iteration count)"},
		{"server error", goodFirst, "e=other-error", "error received from server in SCRAM exchange: other-error"},
		{"no signature", goodFirst, "x=abc", `malformed SCRAM message (attribute "v" expected)`},
		{"short signature", goodFirst, "v=QQ==", "malformed SCRAM message (invalid server signature)"},
		{"wrong signature", goodFirst, "v=" + base64.StdEncoding.EncodeToString(make([]byte, 32)), "incorrect server signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newSCRAMClient(mechSCRAM, "n,,", nil, "pencil", func() bool { return false })
			if err != nil {
				t.Fatal(err)
			}
			s.clientNonce = nonce
			s.clientFirstBare = "n=,r=" + nonce
			_, _, err = s.exchange([]byte(tt.first))
			if err == nil {
				_, _, err = s.exchange([]byte(tt.final))
			}
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Reason != tt.want {
				t.Fatalf("error %v, want AuthError %q", err, tt.want)
			}
			wantKind := AuthMalformedMessage
			if !strings.HasPrefix(tt.want, "malformed") {
				wantKind = AuthServerNotVerified
			}
			if ae.Kind != wantKind {
				t.Errorf("Kind = %v, want %v", ae.Kind, wantKind)
			}
			if s.bound() {
				t.Error("bound() after a failed exchange")
			}
		})
	}

	// libpq accepts leading space and a plus sign in the iteration count,
	// and ignores text after the last attribute.
	s, _ := newSCRAMClient(mechSCRAM, "n,,", nil, "pencil", func() bool { return false })
	s.clientNonce, s.clientFirstBare = nonce, "n=,r="+nonce
	if _, _, err := s.exchange([]byte("r=" + nonce + ",s=QQ==,i= +3,extra=1")); err != nil {
		t.Errorf("lenient server-first refused: %v", err)
	}
	if _, _, err := s.exchange(nil); err == nil {
		t.Error("empty server-final accepted")
	}
}

func TestSCRAMSaltHonoursDeadline(t *testing.T) {
	s, _ := newSCRAMClient(mechSCRAM, "n,,", nil, "pw", func() bool { return true })
	start := time.Now()
	_, err := s.salt([]byte("salt"), 1<<30)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v to notice the deadline", d)
	}
}
