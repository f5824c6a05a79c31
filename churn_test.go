package pqssl

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/relay"
	"github.com/pqssl/pqssl/internal/testpki"
)

// The churn test runs a loaded connection pool against a real server while
// the server and the network misbehave, the way production does: reloads,
// restarts, killed backends, a full server, certificate rotations and a
// network that cuts or stalls connections. What it checks is what a
// caller relies on whatever happens: every query returns by its deadline
// (but for the one case lib/pq cannot bound, see stallMidQuery), every
// session is TLS, a server whose certificate is no longer trusted is
// refused, the pool recovers once the fault is over, and nothing leaks.

const (
	// churnDeadline bounds each query of the load.
	churnDeadline = 3 * time.Second
	// churnMargin is how much later than its deadline a query may return
	// before it counts as a hang: the deadline only starts a cancellation,
	// which two loaded cores may take a while to carry out.
	churnMargin = 2 * time.Second
	// churnRecovery bounds the time the pool takes to serve queries again
	// after a fault has ended. A fast restart is the slowest: the server
	// first waits for its backends to exit.
	churnRecovery = 15 * time.Second
	// churnCalm is how long the load runs undisturbed before each fault,
	// so that every fault meets a pool in its steady state.
	churnCalm = 300 * time.Millisecond

	// Goroutines and descriptors may stay slightly above the baseline
	// without a leak: database/sql's connection cleaner of the harness's
	// own pool exits only at its next tick, and a connection of the
	// harness may be opening while the count is taken.
	churnGoroutineSlack = 5
	churnFDSlack        = 2

	churnUser      = "churn"
	churnMaxConns  = 32 // the server's max_connections; 3 of them are reserved for superusers
	churnDirectMax = 12 // pool size and workers of the direct pool
	churnRelayMax  = 4  // and of the pool whose connections cross the relay

	churnRelayLifetime = 500 * time.Millisecond // of the relay pool's connections
)

// churnQuery is the load's query: it proves on every round trip that the
// session is TLS.
const churnQuery = "select ssl from pg_stat_ssl where pid = pg_backend_pid()"

// churnSlowQuery keeps the server busy for a moment, so that faults also
// meet queries in progress.
const churnSlowQuery = "select s.ssl from pg_stat_ssl s, pg_sleep(0.02) where s.pid = pg_backend_pid()"

// Kinds of error the load meets. Each fault causes some of them; the
// summary shows which.
const (
	errVerify   = "CertificateVerifyError"
	errDeadline = "context deadline"
	errNet      = "refused/reset/EOF"
	errTooMany  = "too many clients (53300)"
	errAdmin    = "admin shutdown (57P01)"
	errStarting = "server starting up (57P03)"
	errCancel   = "cancellation unanswered"
	errOther    = "other"
)

func classifyChurnError(err error) string {
	var ve *CertificateVerifyError
	if errors.As(err, &ve) {
		return errVerify
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch pe.Code {
		case "53300":
			return errTooMany
		case "57P01":
			return errAdmin
		case "57P03":
			return errStarting
		case "57014": // query_canceled: the cancellation the deadline sent
			return errDeadline
		}
	}
	if errors.Is(err, ErrCancelUnanswered) {
		return errCancel
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.As(err, &ne) && ne.Timeout() {
		return errDeadline
	}
	for _, target := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, io.EOF, io.ErrUnexpectedEOF, driver.ErrBadConn, net.ErrClosed} {
		if errors.Is(err, target) {
			return errNet
		}
	}
	return errOther
}

// churnConnector counts the sessions a Connector opens for a pool, and
// fails the test for one opened while the server presented a certificate
// the client does not trust: that session cannot have been verified.
type churnConnector struct {
	e         *churnEnv
	c         *Connector
	ok, fails atomic.Int64
}

func (cc *churnConnector) Connect(ctx context.Context) (driver.Conn, error) {
	start := time.Now()
	cn, err := cc.c.Connect(ctx)
	if err != nil {
		cc.fails.Add(1)
		return nil, err
	}
	cc.ok.Add(1)
	if cc.e.untrustedSince(start) {
		cc.e.t.Errorf("a session was opened at %v, after the server switched to an untrusted certificate", start.Format(time.StampMilli))
	}
	return cn, nil
}

func (cc *churnConnector) Driver() driver.Driver { return cc.c.Driver() }

// churnEnv is the state shared by the load, the faults and the checks.
type churnEnv struct {
	t       *testing.T
	cluster *pgtest.Cluster
	ca      *testpki.Cert
	relay   *relay.Relay

	direct, viaRelay *churnConnector
	raw              *Connector // connections the faults open themselves
	directDB         *sql.DB
	relayDB          *sql.DB

	dials       [3]atomic.Int64             // direct, relay, raw
	relayMode   atomic.Pointer[relay.Fault] // the fault the relay injects, nil for none
	relayTarget atomic.Pointer[string]      // where the relay pool dials

	mu         sync.Mutex
	ok         map[string]int // pool: queries that succeeded
	errs       map[string]int // kind: count
	samples    map[string][]string
	faults     map[string]int
	plaintext  int
	windows    []untrustedWindow
	untrustedT time.Time // when the untrusted certificate was seen in place; zero when none is

	pools   []string       // per worker: the pool it queries
	slots   []atomic.Int64 // per worker: start of the query in flight (UnixNano), 0 when idle
	flagged []atomic.Int64 // per worker: the start of the query already reported as hung
	stop    chan struct{}
	workers sync.WaitGroup

	peakG, peakFD int
}

// untrustedWindow is the time during which the server may present a
// certificate of an untrusted CA: from the start of the switch to the end of
// the switch back. A CertificateVerifyError is expected only then.
type untrustedWindow struct{ from, to time.Time }

// untrustedSince reports whether start is after the untrusted certificate
// was in place, with no switch back started since.
func (e *churnEnv) untrustedSince(start time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return !e.untrustedT.IsZero() && start.After(e.untrustedT)
}

func (e *churnEnv) countFault(kind string) {
	e.mu.Lock()
	e.faults[kind]++
	e.mu.Unlock()
}

// record accounts for one query of the load and checks it.
func (e *churnEnv) record(pool string, start, end time.Time, ssl bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if took := end.Sub(start); took > churnDeadline+churnMargin {
		e.t.Errorf("hang: a query on the %s pool took %v with a deadline of %v (error: %v)", pool, took.Round(time.Millisecond), churnDeadline, err)
	}
	if err == nil {
		e.ok[pool]++
		if !ssl {
			e.plaintext++
			e.t.Errorf("a query on the %s pool ran in a session without TLS", pool)
		}
		return
	}
	kind := classifyChurnError(err)
	e.errs[kind]++
	if strings.Count(err.Error(), "timeout expired") > 1 {
		e.t.Errorf("an error on the %s pool says its cause twice: %v", pool, err)
	}
	if len(e.samples[kind]) < 3 && !slices.Contains(e.samples[kind], err.Error()) {
		e.samples[kind] = append(e.samples[kind], err.Error())
	}
	if kind == errVerify && !e.inUntrustedWindow(start, end) {
		e.t.Errorf("certificate verification failed on the %s pool at %v, while the server's certificate was trusted: %v",
			pool, start.Format(time.StampMilli), err)
	}
}

// inUntrustedWindow reports whether [start, end] overlaps a window; e.mu is
// held.
func (e *churnEnv) inUntrustedWindow(start, end time.Time) bool {
	for _, w := range e.windows {
		if !end.Before(w.from) && (w.to.IsZero() || !start.After(w.to)) {
			return true
		}
	}
	return false
}

// worker runs queries on db until stop is closed.
func (e *churnEnv) worker(i int, pool string, db *sql.DB) {
	defer e.workers.Done()
	for n := 0; ; n++ {
		select {
		case <-e.stop:
			return
		default:
		}
		q := churnQuery
		if n%4 == 3 {
			q = churnSlowQuery
		}
		start := time.Now()
		e.slots[i].Store(start.UnixNano())
		ctx, cancel := context.WithTimeout(context.Background(), churnDeadline)
		var ssl bool
		err := db.QueryRowContext(ctx, q).Scan(&ssl)
		cancel()
		end := time.Now()
		e.slots[i].Store(0)
		e.record(pool, start, end, ssl, err)
		if err != nil {
			// A refusing server answers at once; do not spin on it.
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// sample records peaks of goroutines and descriptors and reports queries
// that outlive their deadline without returning, which record alone would
// only see if they ever returned.
func (e *churnEnv) sample(done <-chan struct{}) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		g, fd := runtime.NumGoroutine(), countFDs()
		e.mu.Lock()
		e.peakG, e.peakFD = max(e.peakG, g), max(e.peakFD, fd)
		e.mu.Unlock()
		now := time.Now()
		for i := range e.slots {
			s := e.slots[i].Load()
			if s == 0 {
				continue
			}
			start := time.Unix(0, s)
			if now.Sub(start) > churnDeadline+churnMargin && e.flagged[i].Swap(s) != s {
				e.t.Errorf("hang: worker %d's query on the %s pool has been running for %v with a deadline of %v",
					i, e.pools[i], now.Sub(start).Round(time.Millisecond), churnDeadline)
			}
		}
	}
}

// countFDs counts the process's open file descriptors, the one reading the
// directory included; -1 where /proc/self/fd cannot be read.
func countFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// quiesceHarness closes the harness's idle connections, so that counts of
// descriptors taken before and after the test do not depend on how many
// it happens to keep.
func quiesceHarness(c *pgtest.Cluster) {
	c.DB().SetMaxIdleConns(0)
	c.DB().SetMaxIdleConns(2)
}

// recovered polls db until a query succeeds, failing the test when none
// does within churnRecovery.
func (e *churnEnv) recovered(fault, pool string, db *sql.DB) {
	start := time.Now()
	var last error
	for time.Since(start) < churnRecovery {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var ssl bool
		last = db.QueryRowContext(ctx, churnQuery).Scan(&ssl)
		cancel()
		if last == nil {
			if !ssl {
				e.t.Errorf("%s: the %s pool recovered without TLS", fault, pool)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Errorf("%s: the %s pool served no query within %v of the fault's end; last error: %v", fault, pool, churnRecovery, last)
}

// newServerCert issues a server certificate for the loopback addresses.
func newServerCert(t *testing.T, ca *testpki.Cert) *testpki.Cert {
	return ca.MustIssue(t, testpki.Spec{
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	})
}

// connectRaw opens a session outside the pools.
func (e *churnEnv) connectRaw(c *Connector) (driver.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Connect(ctx)
}

// terminate kills every session of the load's role: the pools find their
// connections dead on next use.
func (e *churnEnv) terminate(t *testing.T) {
	rows, err := e.cluster.Query("select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity where usename = $1) x", churnUser)
	if err != nil {
		t.Fatalf("terminate: %v", err)
	}
	if n, _ := strconv.Atoi(rows[0][0]); n == 0 {
		t.Errorf("terminate: the load had no session on the server to terminate")
	}
}

// saturate opens sessions until the server refuses one for lack of slots,
// lets the load run against the full server, then closes them.
func (e *churnEnv) saturate(t *testing.T) {
	var held []driver.Conn
	defer func() {
		for _, cn := range held {
			cn.Close()
		}
	}()
	var last error
	for len(held) < 2*churnMaxConns {
		cn, err := e.connectRaw(e.raw)
		if err != nil {
			last = err
			if classifyChurnError(err) == errTooMany {
				break
			}
			continue
		}
		held = append(held, cn)
	}
	if classifyChurnError(last) != errTooMany {
		t.Errorf("max_connections: after %d extra sessions the server has not refused one as too many (last error: %v)", len(held), last)
	}
	// The pools reopen their expiring connections in the slots those just
	// left, so that a full server alone would never refuse them: taking
	// every slot that comes free makes them meet the refusal too.
	for end := time.Now().Add(time.Second); time.Now().Before(end) && len(held) < 2*churnMaxConns; {
		cn, err := e.connectRaw(e.raw)
		if err != nil {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		held = append(held, cn)
	}
}

// rotate installs a new certificate of the trusted CA, which new sessions
// must accept.
func (e *churnEnv) rotate(t *testing.T) {
	leaf := newServerCert(t, e.ca)
	if err := e.cluster.SetServerCert(testpki.ChainPEM(leaf), leaf.KeyPEM); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	cn, err := e.connectRaw(e.raw)
	if err != nil {
		t.Errorf("rotate: a new session with the new certificate: %v", err)
		return
	}
	cn.Close()
}

// untrusted installs a certificate of a CA the clients do not trust: new
// sessions must fail verification, direct or through the relay, and none may
// fall back to anything else, while the load runs against it. Then a
// trusted certificate goes back.
func (e *churnEnv) untrusted(t *testing.T) {
	other := testpki.MustRoot(t, testpki.Spec{CommonName: "churn untrusted CA"})
	bad := newServerCert(t, other)
	e.mu.Lock()
	e.windows = append(e.windows, untrustedWindow{from: time.Now()})
	e.mu.Unlock()
	if err := e.cluster.SetServerCert(testpki.ChainPEM(bad), bad.KeyPEM); err != nil {
		t.Fatalf("untrusted: %v", err)
	}
	e.mu.Lock()
	e.untrustedT = time.Now()
	e.mu.Unlock()

	for i, c := range []*Connector{e.raw, e.raw, e.viaRelay.c} {
		cn, err := e.connectRaw(c)
		var ve *CertificateVerifyError
		switch {
		case err == nil:
			cn.Close()
			t.Errorf("untrusted: attempt %d connected to a server whose certificate comes from an untrusted CA", i+1)
		case !errors.As(err, &ve):
			t.Errorf("untrusted: attempt %d failed with %v (%T), want a *CertificateVerifyError", i+1, err, err)
		}
	}
	time.Sleep(500 * time.Millisecond)

	e.mu.Lock()
	e.untrustedT = time.Time{}
	e.mu.Unlock()
	good := newServerCert(t, e.ca)
	if err := e.cluster.SetServerCert(testpki.ChainPEM(good), good.KeyPEM); err != nil {
		t.Fatalf("untrusted: switching back: %v", err)
	}
	e.mu.Lock()
	e.windows[len(e.windows)-1].to = time.Now()
	e.mu.Unlock()
}

// churnFaultWindow is how long the relay injects a fault into every
// connection it accepts: long enough for the relay pool, whose connections
// live half a second, to open several.
const churnFaultWindow = time.Second

// firedCount counts the ended connections of r in which f took effect.
func firedCount(r *relay.Relay, f relay.Fault) int {
	n := 0
	for _, s := range r.Stats() {
		if s.FaultFired && s.Fault == f {
			n++
		}
	}
	return n
}

// relayFault makes every connection the relay accepts for a while suffer f,
// and checks that f did take effect in one that has ended: a stalled one
// ends when its client gives up, at the deadline of the query that opened
// it.
func (e *churnEnv) relayFault(f relay.Fault) func(t *testing.T) {
	return func(t *testing.T) {
		before := firedCount(e.relay, f)
		e.relayMode.Store(&f)
		time.Sleep(churnFaultWindow)
		e.relayMode.Store(nil)
		for end := time.Now().Add(churnDeadline + churnMargin); firedCount(e.relay, f) == before; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(end) {
				t.Errorf("%v: no connection through the relay met the fault and ended", f)
				return
			}
		}
	}
}

// stallMidQuery sends the relay pool for a while through a relay of its own
// that stalls every connection once it is in use: the server's answer to a
// query stops after its first byte. lib/pq answers the query's deadline with
// a CancelRequest, which the server cannot act on since it has already
// answered; the query must still end at its deadline, and the pool recover.
func (e *churnEnv) stallMidQuery(t *testing.T) {
	f := relay.Fault{Action: relay.Stall, Phase: relay.PhaseFlight, Flight: 6, Dir: relay.ToClient, After: 1}
	r, err := relay.Start(e.cluster.Addr(), relay.Options{Fault: func(int) relay.Fault { return f }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	addr := r.Addr()
	e.relayTarget.Store(&addr)
	time.Sleep(churnFaultWindow)
	main := e.relay.Addr()
	e.relayTarget.Store(&main)
	// Queries started in the window end by their deadline and the margin.
	time.Sleep(churnRelayLifetime + churnDeadline + churnMargin)
	r.Close()
	if firedCount(r, f) == 0 {
		t.Errorf("%v: no connection through the relay met the fault", f)
	}
}

// churnDuration is how long the fault cycle repeats: once by default, for
// as long as PQSSL_CHURN_DURATION says when it is set.
func churnDuration(t *testing.T) time.Duration {
	v := os.Getenv("PQSSL_CHURN_DURATION")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		t.Fatalf("PQSSL_CHURN_DURATION=%q: want a duration such as 10m", v)
	}
	return d
}

// TestChurn runs a pool of TLS sessions with client certificates under
// load while faults hit the server and the network in turn, and checks after
// each that the pool serves queries again, and at the end that goroutines
// and file descriptors went back to what they were. The fault cycle runs
// once; PQSSL_CHURN_DURATION=10m repeats it for ten minutes.
func TestChurn(t *testing.T) {
	duration := churnDuration(t)

	ca := testpki.MustRoot(t, testpki.Spec{CommonName: "churn CA"})
	leaf := newServerCert(t, ca)
	cluster := pgtest.StartT(t, pgtest.Options{
		ServerCert: testpki.ChainPEM(leaf),
		ServerKey:  leaf.KeyPEM,
		CA:         ca.CertPEM,
		HBA:        []string{"hostssl all " + churnUser + " 127.0.0.1/32 cert"},
		Conf:       map[string]string{"max_connections": strconv.Itoa(churnMaxConns)},
	})
	if err := cluster.CreateUser(churnUser, ""); err != nil {
		t.Fatal(err)
	}
	client := ca.MustIssue(t, testpki.Spec{CommonName: churnUser})
	dir := t.TempDir()
	root := testpki.WriteFile(t, filepath.Join(dir, "root.crt"), ca.CertPEM, 0o644)
	certFile := testpki.WriteFile(t, filepath.Join(dir, "client.crt"), client.CertPEM, 0o644)
	keyFile := testpki.WriteFile(t, filepath.Join(dir, "client.key"), client.KeyPEM, 0o600)
	dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=postgres sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s application_name=churn",
		cluster.Port, churnUser, quoteConnValue(root), quoteConnValue(certFile), quoteConnValue(keyFile))

	quiesceHarness(cluster)
	baseG, baseFD := runtime.NumGoroutine(), countFDs()
	if baseFD < 0 {
		t.Log("/proc/self/fd cannot be read: file descriptors are not counted")
	}

	e := &churnEnv{
		t: t, cluster: cluster, ca: ca,
		ok: map[string]int{}, errs: map[string]int{}, samples: map[string][]string{}, faults: map[string]int{},
		pools:   slices.Concat(slices.Repeat([]string{"direct"}, churnDirectMax), slices.Repeat([]string{"relay"}, churnRelayMax)),
		slots:   make([]atomic.Int64, churnDirectMax+churnRelayMax),
		flagged: make([]atomic.Int64, churnDirectMax+churnRelayMax),
		stop:    make(chan struct{}),
		peakG:   baseG, peakFD: baseFD,
	}
	var err error
	e.relay, err = relay.Start(cluster.Addr(), relay.Options{Fault: func(int) relay.Fault {
		if f := e.relayMode.Load(); f != nil {
			return *f
		}
		return relay.Fault{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	relayClosed := false
	closeRelay := func() {
		if !relayClosed {
			relayClosed = true
			e.relay.Close()
		}
	}
	defer closeRelay()

	mainRelay := e.relay.Addr()
	e.relayTarget.Store(&mainRelay)
	dial := func(n *atomic.Int64, target *atomic.Pointer[string]) Option {
		d := net.Dialer{KeepAlive: -1}
		return WithDialFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
			n.Add(1)
			if target != nil {
				address = *target.Load()
			}
			return d.DialContext(ctx, network, address)
		})
	}
	newConnector := func(n *atomic.Int64, target *atomic.Pointer[string], extra string) *Connector {
		c, err := NewConnector(dsn+extra, dial(n, target))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	e.direct = &churnConnector{e: e, c: newConnector(&e.dials[0], nil, "")}
	e.viaRelay = &churnConnector{e: e, c: newConnector(&e.dials[1], &e.relayTarget, "")}
	e.raw = newConnector(&e.dials[2], nil, "")

	e.directDB = sql.OpenDB(e.direct)
	e.directDB.SetMaxOpenConns(churnDirectMax)
	e.directDB.SetMaxIdleConns(churnDirectMax)
	e.directDB.SetConnMaxLifetime(time.Second)
	e.relayDB = sql.OpenDB(e.viaRelay)
	e.relayDB.SetMaxOpenConns(churnRelayMax)
	e.relayDB.SetMaxIdleConns(churnRelayMax)
	e.relayDB.SetConnMaxLifetime(churnRelayLifetime)
	dbsClosed := false
	closeDBs := func() {
		if !dbsClosed {
			dbsClosed = true
			e.directDB.Close()
			e.relayDB.Close()
		}
	}
	defer closeDBs()

	// The load must work before any fault, or nothing below means much.
	e.recovered("start", "direct", e.directDB)
	e.recovered("start", "relay", e.relayDB)
	if t.Failed() {
		t.FailNow()
	}

	sampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		e.sample(sampling)
	}()
	for i, pool := range e.pools {
		db := e.directDB
		if pool == "relay" {
			db = e.relayDB
		}
		e.workers.Add(1)
		go e.worker(i, pool, db)
	}

	faults := []struct {
		name   string
		inject func(t *testing.T)
		relay  bool // recovery is checked through the relay too
	}{
		{"reload (SIGHUP)", func(t *testing.T) {
			if err := cluster.Exec("select pg_reload_conf()"); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"pg_terminate_backend", e.terminate, true},
		{"restart -m fast", func(t *testing.T) {
			if err := cluster.Restart("fast"); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"max_connections", e.saturate, true},
		{"certificate rotation", e.rotate, true},
		{"untrusted certificate", e.untrusted, true},
		{"relay: cut mid-handshake", e.relayFault(relay.Fault{Action: relay.Cut, Phase: relay.PhaseServerHello}), true},
		{"relay: stall mid-handshake", e.relayFault(relay.Fault{Action: relay.Stall, Phase: relay.PhaseServerHello}), true},
		{"relay: stall during startup", e.relayFault(relay.Fault{Action: relay.Stall, Phase: relay.PhaseFlight, Flight: 3, Dir: relay.ToClient}), true},
		{"relay: cut mid-query", e.relayFault(relay.Fault{Action: relay.Cut, Phase: relay.PhaseFlight, Flight: 6, Dir: relay.ToServer, After: 3}), true},
		{"relay: stall mid-query", e.stallMidQuery, true},
	}

	began := time.Now()
	cycles := 0
	for {
		cycles++
		for _, f := range faults {
			time.Sleep(churnCalm)
			f.inject(t)
			e.countFault(f.name)
			e.recovered(f.name, "direct", e.directDB)
			if f.relay {
				e.recovered(f.name, "relay", e.relayDB)
			}
		}
		if time.Since(began) >= duration || t.Failed() {
			break
		}
	}

	close(e.stop)
	stopped := make(chan struct{})
	go func() {
		e.workers.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(2 * (churnDeadline + churnMargin)):
		var buf bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Errorf("hang: the load's workers did not stop; goroutines:\n%s", truncate(buf.String(), 20000))
		// Closing the relay releases what it stalls, so that the rest
		// can still be checked.
		closeRelay()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Fatalf("hang: the workers are still stuck after the relay closed")
		}
	}
	close(sampling)
	<-sampled
	elapsed := time.Since(began)

	relayStats := e.relay.Stats()
	closeDBs()
	closeRelay()
	for _, s := range relayStats {
		// A client that did not get TLS must not have sent anything
		// beyond its SSLRequest.
		if !s.TLS && s.BytesToServer > 8 {
			t.Errorf("relay connection %s: %d bytes to the server without TLS", s, s.BytesToServer)
		}
	}

	// The pools' connections close asynchronously, as do the goroutines
	// that watched them.
	var g, fd int
	for settle := time.Now(); ; {
		quiesceHarness(cluster)
		g, fd = runtime.NumGoroutine(), countFDs()
		if g <= baseG+churnGoroutineSlack && fd <= baseFD+churnFDSlack || time.Since(settle) > 5*time.Second {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	var sum strings.Builder
	fmt.Fprintf(&sum, "churn summary: %v, %d cycle(s) of %d faults\n", elapsed.Round(time.Millisecond), cycles, len(faults))
	fmt.Fprintf(&sum, "  dials (sessions and cancel requests): direct %d, relay %d, raw %d; sessions opened by the pools: direct %d (%d failed), relay %d (%d failed)\n",
		e.dials[0].Load(), e.dials[1].Load(), e.dials[2].Load(), e.direct.ok.Load(), e.direct.fails.Load(), e.viaRelay.ok.Load(), e.viaRelay.fails.Load())
	tot := relay.Sum(relayStats)
	fmt.Fprintf(&sum, "  relay: %d connections, %d TLS, %d faults fired\n", tot.Conns, tot.TLS, tot.Faults)
	fmt.Fprintf(&sum, "  faults injected:%s\n", formatCounts(e.faults))
	fmt.Fprintf(&sum, "  queries ok: direct %d, relay %d; plaintext sessions: %d\n",
		e.ok["direct"], e.ok["relay"], e.plaintext)
	fmt.Fprintf(&sum, "  errors:%s\n", formatCounts(e.errs))
	for _, k := range sortedKeys(e.samples) {
		for _, s := range e.samples[k] {
			fmt.Fprintf(&sum, "    %s: %s\n", k, truncate(s, 300))
		}
	}
	fmt.Fprintf(&sum, "  goroutines: baseline %d, peak %d, final %d\n", baseG, e.peakG, g)
	fmt.Fprintf(&sum, "  file descriptors: baseline %d, peak %d, final %d", baseFD, e.peakFD, fd)
	t.Log(sum.String())

	if g > baseG+churnGoroutineSlack {
		var buf bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Errorf("goroutine leak: %d goroutines at the end, %d before the load (slack %d):\n%s", g, baseG, churnGoroutineSlack, truncate(buf.String(), 20000))
	}
	if baseFD >= 0 && fd > baseFD+churnFDSlack {
		t.Errorf("descriptor leak: %d open file descriptors at the end, %d before the load (slack %d)", fd, baseFD, churnFDSlack)
	}
	if e.ok["direct"] == 0 || e.ok["relay"] == 0 {
		t.Errorf("the load ran no successful query on some pool: %v", e.ok)
	}
}

func formatCounts(m map[string]int) string {
	if len(m) == 0 {
		return " none"
	}
	var b strings.Builder
	for _, k := range sortedKeys(m) {
		fmt.Fprintf(&b, " %s=%d", k, m[k])
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
