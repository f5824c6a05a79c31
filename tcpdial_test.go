//go:build linux

package pqssl

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/pgtest"
)

// sockopts reads back the TCP options of conn.
func sockopts(t *testing.T, conn *net.TCPConn) map[string]int {
	t.Helper()
	raw, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	raw.Control(func(fd uintptr) {
		for _, o := range []struct {
			name       string
			level, opt int
		}{
			{"SO_KEEPALIVE", syscall.SOL_SOCKET, syscall.SO_KEEPALIVE},
			{"TCP_KEEPIDLE", syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE},
			{"TCP_KEEPINTVL", syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL},
			{"TCP_KEEPCNT", syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT},
			{"TCP_USER_TIMEOUT", syscall.IPPROTO_TCP, tcpUserTimeout},
		} {
			v, err := syscall.GetsockoptInt(int(fd), o.level, o.opt)
			if err != nil {
				t.Fatalf("getsockopt %s: %v", o.name, err)
			}
			got[o.name] = v
		}
	})
	return got
}

// procInt reads a number from /proc/sys.
func procInt(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("reading the system default: %v", err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTCPParameters: the keepalive parameters and tcp_user_timeout reach the
// socket, read back with getsockopt; libpq (psql) accepts the same strings.
func TestTCPParameters(t *testing.T) {
	cluster := pgtest.Shared(t)
	sysIdle := procInt(t, "/proc/sys/net/ipv4/tcp_keepalive_time")
	sysIntvl := procInt(t, "/proc/sys/net/ipv4/tcp_keepalive_intvl")
	sysCnt := procInt(t, "/proc/sys/net/ipv4/tcp_keepalive_probes")
	tests := []struct {
		params string
		want   map[string]int
	}{
		{"", map[string]int{"SO_KEEPALIVE": 1, "TCP_KEEPIDLE": sysIdle, "TCP_KEEPINTVL": sysIntvl, "TCP_KEEPCNT": sysCnt, "TCP_USER_TIMEOUT": 0}},
		{"keepalives=0", map[string]int{"SO_KEEPALIVE": 0, "TCP_USER_TIMEOUT": 0}},
		{"keepalives_idle=7 keepalives_interval=3 keepalives_count=4", map[string]int{"SO_KEEPALIVE": 1, "TCP_KEEPIDLE": 7, "TCP_KEEPINTVL": 3, "TCP_KEEPCNT": 4}},
		{"keepalives=1 keepalives_idle=0", nil}, // refused by libpq and pqssl
		{"keepalives_count=-1", nil},
		{"keepalives=0 keepalives_idle=0", map[string]int{"SO_KEEPALIVE": 0}},
		{"tcp_user_timeout=2500", map[string]int{"SO_KEEPALIVE": 1, "TCP_USER_TIMEOUT": 2500}},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			dsn := cluster.ConnInfo("sslmode=require " + tt.params)
			var mu sync.Mutex
			var conns []*net.TCPConn
			capture := WithDialFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
				d := net.Dialer{KeepAlive: -1} // as pqssl's own dial
				conn, err := d.DialContext(ctx, network, address)
				if tc, ok := conn.(*net.TCPConn); ok {
					mu.Lock()
					conns = append(conns, tc)
					mu.Unlock()
				}
				return conn, err
			})
			c, err := NewConnector(dsn, capture)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, libpqErr := (pgtest.Psql{ConnInfo: dsn}).Run(ctx).Session()
			cn, err := c.Connect(ctx)
			if tt.want == nil {
				var pe *ParameterError
				if err == nil || libpqErr == nil || !errors.As(err, &pe) {
					t.Fatalf("pqssl: %v; libpq: %v; want both to refuse, pqssl with a *ParameterError", err, libpqErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer cn.Close()
			if libpqErr != nil {
				t.Errorf("libpq refuses %q: %v", tt.params, libpqErr)
			}
			if len(conns) != 1 {
				t.Fatalf("the DialFunc was called %d times, want 1", len(conns))
			}
			got := sockopts(t, conns[0])
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %d, want %d (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

// TestDialFunc: the DialFunc carries every attempt, its errors reach the
// caller naming the host, and TLS with verify-full runs over the connection
// it returns.
func TestDialFunc(t *testing.T) {
	cluster := pgtest.Shared(t)
	root := writeTemp(t, "root.crt", cluster.ServerCertPEM())

	// A forwarder in the process stands for a tunnel: the connection string
	// names the server as the certificate does, and the DialFunc sends
	// every connection to the forwarder instead.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", cluster.Addr())
			if err != nil {
				in.Close()
				continue
			}
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	var calls []string
	var mu sync.Mutex
	refused := errors.New("no route through the tunnel")
	tunnel := WithDialFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
		mu.Lock()
		calls = append(calls, address)
		mu.Unlock()
		if strings.HasPrefix(address, "unreachable.test:") {
			return nil, refused
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", ln.Addr().String())
	})
	dsn := fmt.Sprintf("host=unreachable.test,localhost port=%d user=%s dbname=postgres sslmode=verify-full sslrootcert=%s connect_timeout=10",
		cluster.Port, pgtest.Superuser, quoteConnValue(root))
	got, err := connectPqssl(t, dsn, tunnel)
	if got != outTLS {
		t.Fatalf("verify-full through the DialFunc: %s (%v)", got, err)
	}
	want := []string{"unreachable.test:" + strconv.Itoa(cluster.Port), "localhost:" + strconv.Itoa(cluster.Port)}
	if len(calls) != 2 || calls[0] != want[0] || calls[1] != want[1] {
		t.Errorf("DialFunc calls %v, want %v", calls, want)
	}

	// A single host that the DialFunc cannot reach: its error, naming the
	// host, wrapping the DialFunc's.
	_, err = connectPqssl(t, "host=unreachable.test port=5432 user=u sslmode=require connect_timeout=5", tunnel)
	if !errors.Is(err, refused) {
		t.Errorf("got %v, want the DialFunc's error", err)
	}
}

// writeTemp writes data to a new file in a temporary directory.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := t.TempDir() + "/" + name
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDialFuncCancel: lib/pq's cancel request, sent when a query's context
// ends, goes through the DialFunc too.
func TestDialFuncCancel(t *testing.T) {
	cluster := pgtest.Shared(t)
	var mu sync.Mutex
	calls := 0
	counting := WithDialFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	})
	c, err := NewConnector(cluster.ConnInfo("sslmode=require"), counting)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = db.ExecContext(ctx, "select pg_sleep(30)")
	if err == nil {
		t.Fatal("pg_sleep(30) was not cancelled")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := calls
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d DialFunc calls, want the session's and the cancel request's", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
