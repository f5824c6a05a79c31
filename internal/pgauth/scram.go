// This file holds the SCRAM-SHA-256 client exchange (RFC 5802, RFC 7677).

package pgauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/pqssl/pqssl/internal/cparse"
)

// scramState follows libpq's fe_scram_state_enum.
type scramState int

const (
	scramNonceSent scramState = iota
	scramProofSent
	scramFinished
)

// scramClient is the client side of one SCRAM-SHA-256 exchange (RFC 5802,
// RFC 7677), with libpq's parsing and error messages.
type scramClient struct {
	mechanism string
	gs2Header string // "p=tls-server-end-point,,", "y,," or "n,,"
	cbindData []byte // tls-server-end-point data, with SCRAM-SHA-256-PLUS
	password  []byte // after SASLprep
	expired   func() bool

	clientNonce             string
	clientFirstBare         string
	serverFirst             string
	clientFinalWithoutProof string
	saltedPassword          []byte
	state                   scramState
	verified                bool
}

// scramNonceLen is libpq's SCRAM_RAW_NONCE_LEN.
const scramNonceLen = 18

func newSCRAMClient(mech, gs2Header string, cbind []byte, password string, expired func() bool) (*scramClient, error) {
	raw := make([]byte, scramNonceLen)
	if _, err := rand.Read(raw); err != nil {
		return nil, &AuthError{Kind: AuthLocalFailure, Reason: "could not generate nonce"}
	}
	s := &scramClient{
		mechanism:   mech,
		gs2Header:   gs2Header,
		cbindData:   cbind,
		password:    []byte(password),
		expired:     expired,
		clientNonce: base64.StdEncoding.EncodeToString(raw),
	}
	// The user name is left empty, as libpq leaves it: the server takes
	// the one of the StartupMessage.
	s.clientFirstBare = "n=,r=" + s.clientNonce
	return s, nil
}

func (s *scramClient) clientFirst() string { return s.gs2Header + s.clientFirstBare }

// bound reports whether the exchange used channel binding and proved that
// the server knows the password.
func (s *scramClient) bound() bool {
	return s.finished() && s.mechanism == mechSCRAMPlus
}

// exchange processes one server message and returns the answer, if any, and
// whether the exchange is complete.
func (s *scramClient) finished() bool { return s.state == scramFinished && s.verified }

func (s *scramClient) exchange(in []byte) (out []byte, done bool, err error) {
	if len(in) == 0 {
		return nil, false, scramError(AuthMalformedMessage, "malformed SCRAM message (empty message)")
	}
	if bytes.IndexByte(in, 0) >= 0 {
		return nil, false, scramError(AuthMalformedMessage, "malformed SCRAM message (length mismatch)")
	}
	switch s.state {
	case scramNonceSent:
		if err := s.readServerFirst(string(in)); err != nil {
			return nil, false, err
		}
		final, err := s.clientFinal()
		if err != nil {
			return nil, false, err
		}
		s.state = scramProofSent
		return final, false, nil
	case scramProofSent:
		s.state = scramFinished
		if err := s.readServerFinal(string(in)); err != nil {
			return nil, true, err
		}
		return nil, true, nil
	default:
		return nil, false, scramError(AuthProtocolViolation, "invalid SCRAM exchange state")
	}
}

func scramError(kind AuthErrorKind, reason string) error {
	return &AuthError{Kind: kind, Reason: reason}
}

// readAttr reads "attr=value" and the comma after it from the front of *s,
// as libpq's read_attr_value.
func readAttr(s *string, attr byte) (string, error) {
	in := *s
	if in == "" || in[0] != attr {
		return "", scramError(AuthMalformedMessage, fmt.Sprintf("malformed SCRAM message (attribute %q expected)", string(attr)))
	}
	if len(in) < 2 || in[1] != '=' {
		return "", scramError(AuthMalformedMessage, fmt.Sprintf("malformed SCRAM message (expected character \"=\" for attribute %q)", string(attr)))
	}
	in = in[2:]
	if i := strings.IndexByte(in, ','); i >= 0 {
		*s = in[i+1:]
		return in[:i], nil
	}
	*s = ""
	return in, nil
}

// decodeBase64 decodes standard, padded base64 and nothing else: Go's
// decoder would skip line breaks, PostgreSQL's does not.
func decodeBase64(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	return b, err == nil
}

func (s *scramClient) readServerFirst(in string) error {
	s.serverFirst = in
	nonce, err := readAttr(&in, 'r')
	if err != nil {
		return err
	}
	// The server's nonce must extend ours, or this is a replay.
	if len(nonce) < len(s.clientNonce) || !hmac.Equal([]byte(nonce[:len(s.clientNonce)]), []byte(s.clientNonce)) {
		return scramError(AuthServerNotVerified, "invalid SCRAM response (nonce mismatch)")
	}
	enc, err := readAttr(&in, 's')
	if err != nil {
		return err
	}
	salt, ok := decodeBase64(enc)
	if !ok {
		return scramError(AuthMalformedMessage, "malformed SCRAM message (invalid salt)")
	}
	it, err := readAttr(&in, 'i')
	if err != nil {
		return err
	}
	iterations, ok := parseIterations(it)
	if !ok {
		return scramError(AuthMalformedMessage, "malformed SCRAM message (invalid iteration count)")
	}
	// Like libpq, ignore anything after the iteration count (libpq notes
	// it as garbage but goes on).
	s.clientFinalWithoutProof = "c=" + s.channelBinding() + ",r=" + nonce
	s.saltedPassword, err = s.salt(salt, iterations)
	return err
}

// parseIterations parses the iteration count as libpq's strtol does (leading
// space and a sign allowed, nothing after the digits), requiring it to be
// positive. Counts beyond the range of a C int are refused.
func parseIterations(s string) (int, bool) {
	n, rest, ok := cparse.Strtol(s)
	return int(n), ok && rest == "" && n >= 1 && n <= math.MaxInt32
}

// channelBinding is the c= attribute: the base64 of the GS2 header and, with
// SCRAM-SHA-256-PLUS, the channel binding data.
func (s *scramClient) channelBinding() string {
	return base64.StdEncoding.EncodeToString(append([]byte(s.gs2Header), s.cbindData...))
}

// salt computes SaltedPassword, PBKDF2 with HMAC-SHA-256 for one block. It is
// written out rather than taken from crypto/pbkdf2 so that the connection's
// deadline interrupts a server's excessive iteration count.
func (s *scramClient) salt(salt []byte, iterations int) ([]byte, error) {
	mac := hmac.New(sha256.New, s.password)
	mac.Write(salt)
	mac.Write([]byte{0, 0, 0, 1})
	u := mac.Sum(nil)
	out := bytes.Clone(u)
	for i := 1; i < iterations; i++ {
		if i%4096 == 0 && s.expired() {
			return nil, fmt.Errorf("pqssl: timeout expired while computing the SCRAM proof (%d iterations): %w", iterations, os.ErrDeadlineExceeded)
		}
		mac.Reset()
		mac.Write(u)
		u = mac.Sum(u[:0])
		for j := range out {
			out[j] ^= u[j]
		}
	}
	return out, nil
}

func hmacSHA256(key []byte, parts ...string) []byte {
	mac := hmac.New(sha256.New, key)
	for _, p := range parts {
		mac.Write([]byte(p))
	}
	return mac.Sum(nil)
}

func (s *scramClient) authMessage() string {
	return s.clientFirstBare + "," + s.serverFirst + "," + s.clientFinalWithoutProof
}

// clientFinal builds client-final-message, with the client proof.
func (s *scramClient) clientFinal() ([]byte, error) {
	clientKey := hmacSHA256(s.saltedPassword, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	sig := hmacSHA256(storedKey[:], s.authMessage())
	proof := make([]byte, len(clientKey))
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	return []byte(s.clientFinalWithoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

func (s *scramClient) readServerFinal(in string) error {
	if strings.HasPrefix(in, "e") {
		msg, err := readAttr(&in, 'e')
		if err != nil {
			return err
		}
		return scramError(AuthServerNotVerified, "error received from server in SCRAM exchange: "+msg)
	}
	enc, err := readAttr(&in, 'v')
	if err != nil {
		return err
	}
	sig, ok := decodeBase64(enc)
	if !ok || len(sig) != sha256.Size {
		return scramError(AuthMalformedMessage, "malformed SCRAM message (invalid server signature)")
	}
	serverKey := hmacSHA256(s.saltedPassword, "Server Key")
	if !hmac.Equal(sig, hmacSHA256(serverKey, s.authMessage())) {
		// Whoever answered does not know the password's verifier (or,
		// with channel binding, saw a different TLS certificate).
		return scramError(AuthServerNotVerified, "incorrect server signature")
	}
	s.verified = true
	return nil
}
