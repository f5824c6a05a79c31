package tlswire

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzObserver from fresh crypto/tls handshakes")

// FuzzObserver feeds arbitrary streams to Observers of both sides, plain
// and PostgreSQL ones, whole,
// in chunks of a size taken from the first byte, and byte by byte: none may
// panic, all must agree, and every offset they report must lie in the
// stream. The parse functions get the same bytes.
func FuzzObserver(f *testing.F) {
	f.Add(append([]byte{3}, cat(records(testCH, 100), testCCS, testAppl)...))
	f.Add(append([]byte{1}, cat(records(testHRR, 1<<14), testCCS, records(testSH13, 7), testAppl)...))
	f.Add(append([]byte{9}, cat(records(testSH12, 1<<14), records([]byte{14, 0, 0, 0}, 10), testCCS, testAppl)...))
	f.Add(append([]byte{5}, cat(records(testCH, 1<<14), testCCS, record(recordHandshake, 1, 0, 0, 200, 0xaa))...))
	f.Add(append([]byte{2}, testCH...))
	f.Add(append([]byte{4}, cat(testGSSRequest, testSSLRequest, records(testCH, 50), testCCS, testAppl)...))
	f.Add(append([]byte{6}, cat([]byte("NS"), records(testSH13, 1<<14), testCCS, testAppl)...))
	f.Add(append([]byte{0}, cat(testSSLRequest, testStartup)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseClientHello(data)
		ParseServerHello(data)
		if len(data) == 0 {
			return
		}
		chunk, stream := int(data[0])%17+1, data[1:]
		for _, side := range []Side{Client, Server} {
			for _, newObserver := range []func(Side) *Observer{NewObserver, NewPostgresObserver} {
				whole := feedTo(newObserver(side), stream, len(stream)+1)
				want := observe(whole)
				for _, o := range []*Observer{feedTo(newObserver(side), stream, chunk), feedTo(newObserver(side), stream, 1)} {
					if got := observe(o); !reflect.DeepEqual(want, got) {
						t.Fatalf("%v side: chunking changed the observation (-whole +chunked):\n%s", side, cmp.Diff(want, got))
					}
				}
				checkInvariants(t, whole, int64(len(stream)))
				if whole.Done() {
					whole.Write(stream)
					if got := observe(whole); !reflect.DeepEqual(want, got) {
						t.Fatalf("%v side: Write after Done changed the observation:\n%s", side, cmp.Diff(want, got))
					}
				}
			}
		}
	})
}

func checkInvariants(t *testing.T, o *Observer, n int64) {
	t.Helper()
	if o.Err() != nil && !o.Done() {
		t.Fatalf("error %v but not done", o.Err())
	}
	if o.HelloEnd() > n || o.EncryptedAt() > n || o.EncryptedRecordEnd() > n {
		t.Fatalf("offsets beyond the stream of %d bytes: hello end %d, encrypted at %d, record end %d",
			n, o.HelloEnd(), o.EncryptedAt(), o.EncryptedRecordEnd())
	}
	if end := o.EncryptedRecordEnd(); end > 0 && (!o.Encrypted() || o.EncryptedAt() >= end || !o.Done()) {
		t.Fatalf("encrypted %v at %d, record end %d, done %v", o.Encrypted(), o.EncryptedAt(), end, o.Done())
	}
	if o.TLSStart() > n || int64(len(o.Preamble())) > min(n, 16) || (o.TLSStart() >= 0 && o.HelloEnd() > 0 && o.HelloEnd() <= o.TLSStart()) {
		t.Fatalf("TLS starts at %d after a preamble of %d bytes, hello end %d", o.TLSStart(), len(o.Preamble()), o.HelloEnd())
	}
	if len(o.ClientHellos()) > 2 || len(o.ServerHellos()) > 2 {
		t.Fatalf("%d ClientHellos, %d ServerHellos", len(o.ClientHellos()), len(o.ServerHellos()))
	}
	if cap(o.msg) > handshakeHeaderLen+maxHandshakeLen {
		t.Fatalf("message buffer of %d bytes", cap(o.msg))
	}
}

// TestUpdateFuzzSeeds writes the committed seed corpus of FuzzObserver
// from real handshakes when run with -update-seeds: each seed is one side's
// stream up to the end of its first encrypted record.
func TestUpdateFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the seeds")
	}
	cert, _ := testCertificate(t)
	dir := filepath.Join("testdata", "fuzz", "FuzzObserver")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	configs := []struct {
		name           string
		client, server func(*tls.Config)
	}{
		{"tls13", nil, nil},
		{"hrr", nil, func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.CurveP256} }},
		{"tls12", func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }, nil},
	}
	for _, c := range configs {
		x := runExchange(t, clientConfig(c.client), serverConfig(cert, c.server))
		if x.clientErr != nil || x.serverErr != nil {
			t.Fatalf("%s: client %v, server %v", c.name, x.clientErr, x.serverErr)
		}
		for _, s := range []struct {
			side   string
			o      *Observer
			stream []byte
		}{{"client", x.conn.Client, x.clientBytes}, {"server", x.conn.Server, x.serverBytes}} {
			stream := s.stream[:s.o.EncryptedRecordEnd()]
			seed := fmt.Sprintf("go test fuzz v1\n[]byte(%+q)\n", append([]byte{byte(len(stream) % 17)}, stream...))
			if err := os.WriteFile(filepath.Join(dir, c.name+"-"+s.side), []byte(seed), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
