package pgauth

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// scriptedConn is a server whose every byte comes from a script; what the
// client writes is recorded.
type scriptedConn struct {
	server  *bytes.Reader
	written bytes.Buffer
}

func (c *scriptedConn) Read(b []byte) (int, error)         { return c.server.Read(b) }
func (c *scriptedConn) Write(b []byte) (int, error)        { return c.written.Write(b) }
func (c *scriptedConn) Close() error                       { return nil }
func (c *scriptedConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *scriptedConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *scriptedConn) SetDeadline(t time.Time) error      { return nil }
func (c *scriptedConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *scriptedConn) SetWriteDeadline(t time.Time) error { return nil }

func serverMessage(typ byte, body []byte) []byte {
	m := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(m[1:], uint32(4+len(body)))
	return append(m, body...)
}

// startupMessage is lib/pq's StartupMessage for user alice.
func startupMessage() []byte {
	m := binary.BigEndian.AppendUint32(nil, 0)
	m = binary.BigEndian.AppendUint32(m, 3<<16)
	m = append(m, "user\x00alice\x00\x00"...)
	binary.BigEndian.PutUint32(m, uint32(len(m)))
	return m
}

// FuzzAuthConn plays a hostile server's authentication messages, from the
// fuzzer's bytes, against the authentication proxy in four settings. It
// must never panic or hang; under channel_binding=require or
// require_auth=scram-sha-256 it must never send the password or its MD5
// hash; and it must pass AuthenticationOk on only after the checks those
// settings demand: a verified SCRAM-SHA-256-PLUS exchange (which a
// plaintext connection cannot have), a SCRAM exchange.
func FuzzAuthConn(f *testing.F) {
	salt := []byte("salt")
	for _, seed := range [][]byte{
		serverMessage('R', binary.BigEndian.AppendUint32(nil, authOK)),
		serverMessage('R', binary.BigEndian.AppendUint32(nil, authCleartext)),
		serverMessage('R', append(binary.BigEndian.AppendUint32(nil, authMD5), salt...)),
		serverMessage('R', append(binary.BigEndian.AppendUint32(nil, authMD5), 1)),
		serverMessage('R', append(binary.BigEndian.AppendUint32(nil, authSASL), "SCRAM-SHA-256\x00\x00"...)),
		serverMessage('R', append(binary.BigEndian.AppendUint32(nil, authSASL), "\x00"...)),
		serverMessage('R', append(binary.BigEndian.AppendUint32(nil, authSASL), "OAUTHBEARER\x00\x00"...)),
		append(serverMessage('R', append(binary.BigEndian.AppendUint32(nil, authSASL), "SCRAM-SHA-256\x00\x00"...)),
			serverMessage('R', append(binary.BigEndian.AppendUint32(nil, authSASLContinue), "r=x,s=QQ==,i=0"...))...),
		append(serverMessage('R', append(binary.BigEndian.AppendUint32(nil, authSASL), "SCRAM-SHA-256\x00\x00"...)),
			serverMessage('R', binary.BigEndian.AppendUint32(nil, authOK))...),
		serverMessage('R', append(binary.BigEndian.AppendUint32(nil, authSASLFinal), "v=AAAA"...)),
		serverMessage('E', []byte("SFATAL\x00C28P01\x00Mno\x00\x00")),
		serverMessage('v', []byte{0, 3, 0, 0, 0, 0, 0, 0}),
		[]byte("R\xff\xff\xff\xff"),
		[]byte("Z"),
	} {
		for mode := byte(0); mode < 4; mode++ {
			f.Add(mode, seed)
		}
	}
	const password = "fuzz-secret-password"
	inner := md5.Sum([]byte(password + "alice"))
	md5Inner := hex.EncodeToString(inner[:])
	f.Fuzz(func(t *testing.T, mode byte, script []byte) {
		p := Params{User: "alice", Password: password, Passfile: "/nonexistent"}
		switch mode % 4 {
		case 1:
			p.ChannelBinding = "require"
		case 2:
			r, err := ParseRequirement("scram-sha-256")
			if err != nil {
				t.Fatal(err)
			}
			p.RequireAuth = r
		case 3:
			p.ChannelBinding = "disable"
		}
		var outcome *Outcome
		p.OnOK = func(o Outcome) { outcome = &o }
		server := &scriptedConn{server: bytes.NewReader(script)}
		c := Wrap(server, p)
		// Bound SCRAM's key derivation, which a hostile iteration count
		// would make long.
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		startup := startupMessage()
		if _, err := c.Write(startup); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			io.Copy(io.Discard, c)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the proxy did not finish with a finite server stream")
		}
		sent := server.written.String()[len(startup):]
		strict := p.ChannelBinding == "require" || p.RequireAuth.Set()
		if strict && (strings.Contains(sent, password) || strings.Contains(sent, md5Inner)) {
			t.Errorf("mode %d: the password or its MD5 hash was sent: %q", mode%4, sent)
		}
		if outcome == nil {
			return
		}
		switch {
		case p.ChannelBinding == "require" && !outcome.Bound:
			t.Errorf("AuthenticationOk passed on under channel_binding=require without channel binding: %+v", *outcome)
		case p.RequireAuth.Set() && !strings.HasPrefix(outcome.Mechanism, "SCRAM-SHA-256"):
			t.Errorf("AuthenticationOk passed on under require_auth=scram-sha-256 after %q", outcome.Mechanism)
		}
	})
}

// TestScriptedConnSendsPassword is FuzzAuthConn's control: without the
// strict settings a cleartext request is answered with the password, which
// the harness sees.
func TestScriptedConnSendsPassword(t *testing.T) {
	server := &scriptedConn{server: bytes.NewReader(serverMessage('R', binary.BigEndian.AppendUint32(nil, authCleartext)))}
	c := Wrap(server, Params{User: "alice", Password: "control-secret", Passfile: "/nonexistent"})
	startup := startupMessage()
	c.Write(startup)
	io.Copy(io.Discard, c)
	if !strings.Contains(server.written.String(), "control-secret") {
		t.Errorf("the password was not sent: %q", server.written.String())
	}
}
