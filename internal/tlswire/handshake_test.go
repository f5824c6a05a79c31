package tlswire

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pqssl/pqssl/internal/testpki"
)

// testCertificate returns a throwaway ECDSA P-256 server certificate for
// "localhost".
func testCertificate(t testing.TB) (tls.Certificate, *testpki.Cert) {
	t.Helper()
	c := testpki.MustSelfSigned(t, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	cert, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert, c
}

// recordingConn keeps a copy of everything written through it.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *recordingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.out.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recordingConn) written() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}

// exchange is one TLS connection over loopback TCP, watched from the
// client's end through a Conn, with the raw bytes each side sent.
type exchange struct {
	conn                     *Conn
	clientBytes, serverBytes []byte
	clientState, serverState tls.ConnectionState
	clientErr, serverErr     error
}

// runExchange performs a handshake between cc and sc, then sends a message
// each way so that both sides have finished the handshake, and closes the
// connection.
func runExchange(t *testing.T, cc, sc *tls.Config) *exchange {
	t.Helper()
	cp, sp := tcpPipe(t)
	crec, srec := &recordingConn{Conn: cp}, &recordingConn{Conn: sp}
	deadline := time.Now().Add(10 * time.Second)
	cp.SetDeadline(deadline)
	sp.SetDeadline(deadline)
	x := &exchange{conn: NewConn(crec, Client)}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer sp.Close()
		s := tls.Server(srec, sc)
		if x.serverErr = s.Handshake(); x.serverErr != nil {
			return
		}
		x.serverState = s.ConnectionState()
		buf := make([]byte, 4)
		if _, x.serverErr = io.ReadFull(s, buf); x.serverErr != nil {
			return
		}
		_, x.serverErr = s.Write([]byte("pong"))
	}()
	c := tls.Client(x.conn, cc)
	x.clientErr = c.Handshake()
	if x.clientErr == nil {
		x.clientState = c.ConnectionState()
		if _, x.clientErr = c.Write([]byte("ping")); x.clientErr == nil {
			buf := make([]byte, 4)
			_, x.clientErr = io.ReadFull(c, buf)
		}
	}
	cp.Close()
	wg.Wait()
	x.clientBytes, x.serverBytes = crec.written(), srec.written()
	return x
}

// tcpPipe returns the two ends of a loopback TCP connection. net.Pipe
// would not do: it has no buffer, and both ends of a TLS handshake write at
// once after a HelloRetryRequest (the server its ChangeCipherSpec, the
// client its own and the second ClientHello).
func tcpPipe(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a := <-ch
	if a.err != nil {
		client.Close()
		t.Fatal(a.err)
	}
	t.Cleanup(func() { client.Close(); a.c.Close() })
	return client, a.c
}

func clientConfig(mod func(*tls.Config)) *tls.Config {
	c := &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}
	if mod != nil {
		mod(c)
	}
	return c
}

func serverConfig(cert tls.Certificate, mod func(*tls.Config)) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{cert}}
	if mod != nil {
		mod(c)
	}
	return c
}

// observation is what an Observer reports, in comparable form.
type observation struct {
	Done, Encrypted                     bool
	Err                                 string
	EncryptedAt, EncryptedEnd, HelloEnd int64
	ClientHellos                        []ClientHello
	ServerHellos                        []ServerHello
	HRR                                 bool
	Version                             uint16
	Group                               tls.CurveID
	Preamble                            []byte
	TLSStart                            int64
}

func observe(o *Observer) observation {
	ob := observation{
		Done: o.Done(), Encrypted: o.Encrypted(),
		EncryptedAt: o.EncryptedAt(), EncryptedEnd: o.EncryptedRecordEnd(), HelloEnd: o.HelloEnd(),
		ClientHellos: o.ClientHellos(), ServerHellos: o.ServerHellos(),
		HRR: o.HelloRetryRequest(), Version: o.Version(), Group: o.Group(),
		Preamble: o.Preamble(), TLSStart: o.TLSStart(),
	}
	if err := o.Err(); err != nil {
		ob.Err = err.Error()
	}
	return ob
}

// feed writes stream to a new Observer of side in chunks of the sizes
// given, cycling through them.
func feed(side Side, stream []byte, sizes ...int) *Observer {
	return feedTo(NewObserver(side), stream, sizes...)
}

// feedTo writes stream to o as feed does and returns o.
func feedTo(o *Observer, stream []byte, sizes ...int) *Observer {
	for i := 0; len(stream) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(stream))
		o.Write(stream[:n])
		stream = stream[n:]
	}
	return o
}

var chunkings = [][]int{{1}, {2, 3}, {5}, {7, 1, 13}, {4096}, {1 << 20}}

func TestObserverHandshakes(t *testing.T) {
	cert, _ := testCertificate(t)
	cache := tls.NewLRUClientSessionCache(4)
	type want struct {
		version         uint16
		hrr             bool
		group           tls.CurveID
		firstKeyShares  []tls.CurveID
		retryKeyShares  []tls.CurveID // nil: no second ClientHello
		firstGroupsHead []tls.CurveID
		alpn            []string
	}
	tests := []struct {
		name   string
		client func(*tls.Config)
		server func(*tls.Config)
		want   want
		repeat int // handshakes to run; the want is checked on the last
	}{
		{
			name: "TLS 1.3 without retry",
			want: want{version: tls.VersionTLS13, group: tls.X25519MLKEM768,
				firstKeyShares: []tls.CurveID{tls.X25519MLKEM768, tls.X25519}, firstGroupsHead: []tls.CurveID{tls.X25519MLKEM768}},
		},
		{
			name:   "TLS 1.3 HelloRetryRequest to P-256",
			server: func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.CurveP256} },
			want: want{version: tls.VersionTLS13, hrr: true, group: tls.CurveP256,
				firstKeyShares: []tls.CurveID{tls.X25519MLKEM768, tls.X25519}, retryKeyShares: []tls.CurveID{tls.CurveP256},
				firstGroupsHead: []tls.CurveID{tls.X25519MLKEM768}},
		},
		{
			name:   "TLS 1.3 X25519 client",
			client: func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256} },
			want: want{version: tls.VersionTLS13, group: tls.X25519,
				firstKeyShares: []tls.CurveID{tls.X25519}, firstGroupsHead: []tls.CurveID{tls.X25519, tls.CurveP256}},
		},
		{
			name: "TLS 1.3 with ALPN, SNI and a client certificate",
			client: func(c *tls.Config) {
				c.NextProtos = []string{"postgresql"}
				c.Certificates = []tls.Certificate{cert}
			},
			server: func(c *tls.Config) {
				c.NextProtos = []string{"postgresql"}
				c.ClientAuth = tls.RequireAnyClientCert
			},
			want: want{version: tls.VersionTLS13, group: tls.X25519MLKEM768, alpn: []string{"postgresql"},
				firstKeyShares: []tls.CurveID{tls.X25519MLKEM768, tls.X25519}, firstGroupsHead: []tls.CurveID{tls.X25519MLKEM768}},
		},
		{
			name:   "TLS 1.3 resumption",
			client: func(c *tls.Config) { c.ClientSessionCache = cache },
			repeat: 2,
			want: want{version: tls.VersionTLS13, group: tls.X25519MLKEM768,
				firstKeyShares: []tls.CurveID{tls.X25519MLKEM768, tls.X25519}, firstGroupsHead: []tls.CurveID{tls.X25519MLKEM768}},
		},
		{
			name:   "TLS 1.2",
			client: func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 },
			want:   want{version: tls.VersionTLS12, group: tls.X25519},
		},
		{
			name: "TLS 1.2 chosen by the server, P-384",
			server: func(c *tls.Config) {
				c.MaxVersion = tls.VersionTLS12
				c.CurvePreferences = []tls.CurveID{tls.CurveP384}
			},
			want: want{version: tls.VersionTLS12, group: tls.CurveP384,
				firstKeyShares: []tls.CurveID{tls.X25519MLKEM768, tls.X25519}, firstGroupsHead: []tls.CurveID{tls.X25519MLKEM768}},
		},
		{
			// The abbreviated handshake: the client's ChangeCipherSpec
			// follows its ClientHello directly, as in TLS 1.3.
			name:   "TLS 1.2 resumption chosen by the server",
			client: func(c *tls.Config) { c.ClientSessionCache = tls.NewLRUClientSessionCache(1) },
			server: func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 },
			repeat: 2,
			want: want{version: tls.VersionTLS12,
				firstKeyShares: []tls.CurveID{tls.X25519MLKEM768, tls.X25519}, firstGroupsHead: []tls.CurveID{tls.X25519MLKEM768}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, sc := clientConfig(tt.client), serverConfig(cert, tt.server)
			var x *exchange
			for range max(tt.repeat, 1) {
				x = runExchange(t, cc, sc)
				if x.clientErr != nil || x.serverErr != nil {
					t.Fatalf("handshake: client %v, server %v", x.clientErr, x.serverErr)
				}
			}
			if tt.repeat > 1 && !x.clientState.DidResume {
				t.Fatal("the last handshake did not resume")
			}
			cl, sv := x.conn.Client, x.conn.Server
			for _, o := range []*Observer{cl, sv} {
				if o.Err() != nil || !o.Done() || !o.Encrypted() {
					t.Fatalf("%v observer: err %v, done %v, encrypted %v", o.Side(), o.Err(), o.Done(), o.Encrypted())
				}
			}
			w := tt.want
			if got := sv.Version(); got != w.version || got != x.clientState.Version {
				t.Errorf("Version = %x, want %x (state %x)", got, w.version, x.clientState.Version)
			}
			if got := sv.HelloRetryRequest(); got != w.hrr {
				t.Errorf("HelloRetryRequest = %v, want %v", got, w.hrr)
			}
			if got := sv.Group(); got != w.group {
				t.Errorf("Group = %v, want %v", GroupName(got), GroupName(w.group))
			}
			shs := sv.ServerHellos()
			if wantN := 1 + btoi(w.hrr); len(shs) != wantN {
				t.Fatalf("%d ServerHellos, want %d", len(shs), wantN)
			}
			final := shs[len(shs)-1]
			if final.HelloRetryRequest || final.CipherSuite != x.clientState.CipherSuite {
				t.Errorf("final ServerHello %+v, state cipher suite %x", final, x.clientState.CipherSuite)
			}
			if w.hrr && (!shs[0].HelloRetryRequest || shs[0].Group != w.group) {
				t.Errorf("HelloRetryRequest %+v, want group %v", shs[0], GroupName(w.group))
			}

			chs := cl.ClientHellos()
			if wantN := 1 + btoi(w.retryKeyShares != nil); len(chs) != wantN {
				t.Fatalf("%d ClientHellos, want %d", len(chs), wantN)
			}
			first := chs[0]
			if !slices.Equal(first.KeyShares, w.firstKeyShares) {
				t.Errorf("key shares %s, want %s", GroupList(first.KeyShares), GroupList(w.firstKeyShares))
			}
			if len(first.SupportedGroups) < len(w.firstGroupsHead) || !slices.Equal(first.SupportedGroups[:len(w.firstGroupsHead)], w.firstGroupsHead) {
				t.Errorf("supported groups %s, want a list starting %s", GroupList(first.SupportedGroups), GroupList(w.firstGroupsHead))
			}
			if w.retryKeyShares != nil && !slices.Equal(chs[1].KeyShares, w.retryKeyShares) {
				t.Errorf("retry key shares %s, want %s", GroupList(chs[1].KeyShares), GroupList(w.retryKeyShares))
			}
			if first.ServerName != "localhost" || !slices.Equal(first.ALPN, w.alpn) {
				t.Errorf("ServerName %q, ALPN %q; want localhost, %q", first.ServerName, first.ALPN, w.alpn)
			}
			if !slices.Contains(first.CipherSuites, x.clientState.CipherSuite) {
				t.Errorf("cipher suites %x do not hold the negotiated %x", first.CipherSuites, x.clientState.CipherSuite)
			}
			checkHRRState(t, x.clientState, x.serverState, sv)

			// The end of the client's first encrypted record ends the
			// handshake; it must frame a real record.
			checkEncryptedRecord(t, x.clientBytes, cl)
			checkEncryptedRecord(t, x.serverBytes, sv)
			if w.version == tls.VersionTLS13 && cc.Certificates == nil {
				// Finished: header, verify_data of the hash's size, inner
				// content type, AEAD tag.
				hashLen := int64(32)
				if x.clientState.CipherSuite == tls.TLS_AES_256_GCM_SHA384 {
					hashLen = 48
				}
				if got, want := cl.EncryptedRecordEnd()-cl.EncryptedAt(), recordHeaderLen+handshakeHeaderLen+hashLen+1+16; got != want {
					t.Errorf("client's first encrypted record is %d bytes, want %d (its Finished)", got, want)
				}
			}

			// However the streams are cut, the observers see the same.
			for _, sizes := range chunkings {
				for _, s := range []struct {
					side   Side
					stream []byte
					want   *Observer
				}{{Client, x.clientBytes, cl}, {Server, x.serverBytes, sv}} {
					got := observe(feed(s.side, s.stream, sizes...))
					if d := cmpDiff(observe(s.want), got); d != "" {
						t.Errorf("%v side in chunks of %v (-conn +chunked):\n%s", s.side, sizes, d)
					}
				}
			}
		})
	}
}

// checkEncryptedRecord checks that the Observer's first encrypted record is
// a record of stream, that nothing before it is application data, and that
// it is not a ChangeCipherSpec.
func checkEncryptedRecord(t *testing.T, stream []byte, o *Observer) {
	t.Helper()
	end := o.EncryptedRecordEnd()
	var start int64 = -1
	for off := int64(0); off < int64(len(stream)); {
		if off+recordHeaderLen > int64(len(stream)) {
			t.Fatalf("%v: truncated record at %d", o.Side(), off)
		}
		h := stream[off:]
		next := off + recordHeaderLen + (int64(h[3])<<8 | int64(h[4]))
		if next == end {
			start = off
			if h[0] == recordChangeCipherSpec {
				t.Errorf("%v: the first encrypted record is a ChangeCipherSpec", o.Side())
			}
			break
		}
		if h[0] == recordApplicationData {
			t.Errorf("%v: application data record at %d before the first encrypted record ending at %d", o.Side(), off, end)
		}
		off = next
	}
	if start < 0 {
		t.Fatalf("%v: EncryptedRecordEnd %d is not the end of a record", o.Side(), end)
	}
	if at := o.EncryptedAt(); at > start || at < o.HelloEnd() {
		t.Errorf("%v: EncryptedAt %d, HelloEnd %d, first encrypted record at %d", o.Side(), at, o.HelloEnd(), start)
	}
}

func cmpDiff(want, got observation) string { return cmp.Diff(want, got) }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestObserverAfterHandshakeIsInert(t *testing.T) {
	o := NewObserver(Server)
	sh := buildServerHello(helloSpec{suites: []uint16{0x1301}, exts: []ext{
		{extSupportedVersions, []byte{3, 4}}, {extKeyShare, []byte{0, 29, 0, 1, 9}}}})
	stream := records(sh, 1<<14)
	stream = append(stream, recordChangeCipherSpec, 3, 3, 0, 1, 1)
	stream = append(stream, recordApplicationData, 3, 3, 0, 3, 1, 2, 3)
	o.Write(stream)
	if !o.Done() || o.Err() != nil {
		t.Fatalf("done %v, err %v", o.Done(), o.Err())
	}
	if got, want := o.EncryptedRecordEnd(), int64(len(stream)); got != want {
		t.Errorf("EncryptedRecordEnd = %d, want %d", got, want)
	}
	before := observe(o)
	// Garbage after the end changes nothing and costs nothing.
	for range 100 {
		o.Write([]byte("not TLS at all"))
	}
	if d := cmpDiff(before, observe(o)); d != "" {
		t.Errorf("observation changed after Done:\n%s", d)
	}
	if n := testing.AllocsPerRun(100, func() { o.Write(stream) }); n != 0 {
		t.Errorf("Write after Done allocates %v times", n)
	}
}
