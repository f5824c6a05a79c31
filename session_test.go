package pqssl

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/fakepg"
)

// stalledWriter passes the first n writes to the connection and then stops
// answering: later writes wait until the client goes away, reading (and
// dropping) what it sends meanwhile.
type stalledWriter struct {
	net.Conn
	n int
}

func (w *stalledWriter) Write(p []byte) (int, error) {
	w.n--
	if w.n < 0 {
		io.Copy(io.Discard, w.Conn)
		return 0, io.ErrClosedPipe
	}
	return w.Conn.Write(p)
}

// TestSessionBoundByContext checks the two places where lib/pq alone would
// wait on a silent server past the caller's deadline: the answer to the
// startup message, and the answer to a query whose cancellation the server
// ignores.
func TestSessionBoundByContext(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srvTLS := fakeServerTLS(t)
	// serve answers 'S', completes TLS and hands the session to session;
	// a CancelRequest is read and left unanswered, as a stalled server
	// would.
	serve := func(session func(tc *tls.Conn)) func(*fakepg.Conn) {
		return func(c *fakepg.Conn) {
			if code, _, err := fakepg.ReadStartupPacket(c); err != nil || code != fakepg.SSLRequestCode {
				return
			}
			c.Write([]byte{'S'})
			tc := tls.Server(c, srvTLS)
			if tc.Handshake() != nil {
				return
			}
			code, _, err := fakepg.ReadStartupPacket(tc)
			if err != nil {
				return
			}
			if code == fakepg.CancelRequestCode {
				io.Copy(io.Discard, tc)
				return
			}
			session(tc)
		}
	}
	tests := []struct {
		name    string
		dsn     string
		session func(tc *tls.Conn)
		query   bool // the deadline is the query's, not the connection's
		wantIs  error
	}{
		{
			name:    "no answer to the startup message",
			session: func(tc *tls.Conn) { io.Copy(io.Discard, tc) },
			wantIs:  context.DeadlineExceeded,
		},
		{
			name:    "no answer to the startup message, connect_timeout longer than the deadline",
			dsn:     " connect_timeout=30",
			session: func(tc *tls.Conn) { io.Copy(io.Discard, tc) },
			wantIs:  context.DeadlineExceeded,
		},
		{
			name:    "no answer to a query or its cancellation",
			session: func(tc *tls.Conn) { fakepg.ServeSession(&stalledWriter{Conn: tc, n: 2}, "x") }, // the startup and the ping answered
			query:   true,
			wantIs:  ErrCancelUnanswered,
		},
	}
	const deadline = 300 * time.Millisecond
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakepg.Start(t, serve(tt.session))
			c, err := NewConnector("host=127.0.0.1 port=" + srv.PortString() + " user=u dbname=d sslmode=require" + tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			db := sql.OpenDB(c)
			defer db.Close()
			if tt.query {
				if err := db.Ping(); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			var x string
			err = db.QueryRowContext(ctx, "SELECT 1").Scan(&x)
			took := time.Since(start)
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("got error %v, want %v", err, tt.wantIs)
			}
			// The server never answers: without the bound the call
			// would last until the server's own 30 s limit.
			if bound := deadline + cancelGrace + 2*time.Second; took > bound {
				t.Errorf("returned after %v, deadline %v", took, deadline)
			}
		})
	}
}
