package pgauth

import (
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/pqssl/pqssl/internal/fakepg"
)

// TestAuthConnPassesCancelRequests shows that a connection that starts with
// anything but a StartupMessage (lib/pq's CancelRequest) is not
// intercepted.
func TestAuthConnPassesCancelRequests(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	c := Wrap(client, Params{ChannelBinding: "require"})

	var cancelReq [16]byte
	binary.BigEndian.PutUint32(cancelReq[0:4], 16)
	binary.BigEndian.PutUint32(cancelReq[4:8], fakepg.CancelRequestCode)
	go func() {
		var b [16]byte
		io.ReadFull(server, b[:])
		// A server answering a cancel request only closes; anything it
		// sent would reach the client untouched.
		server.Write([]byte("N"))
		server.Close()
	}()
	if _, err := c.Write(cancelReq[:]); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "N" {
		t.Errorf("read %q, %v; want the server's bytes untouched", b, err)
	}
}

func TestStartupParam(t *testing.T) {
	body := []byte("user\x00alice\x00database\x00db\x00\x00")
	if u, ok := startupParam(body, "user"); !ok || u != "alice" {
		t.Errorf("user = %q, %v", u, ok)
	}
	if d, ok := startupParam(body, "database"); !ok || d != "db" {
		t.Errorf("database = %q, %v", d, ok)
	}
	if _, ok := startupParam(body, "options"); ok {
		t.Error("found a missing key")
	}
	if _, ok := startupParam([]byte("user\x00ali"), "user"); ok {
		t.Error("accepted a truncated body")
	}
}
