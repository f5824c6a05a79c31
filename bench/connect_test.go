package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lib/pq"

	"github.com/pqssl/pqssl"
	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/relay"
)

// BenchmarkConnect opens a new connection, runs select 1 and closes it,
// through the relay at 0 and 20 ms emulated round-trip time, with
// sslmode=verify-full and trust authentication, against PostgreSQL 15 with
// its default ssl_ecdh_curve (P-256 only) and, where it is installed,
// PostgreSQL 18 with its default ssl_groups (X25519 and P-256), where
// pqssl also runs with sslnegotiation=direct. flights/op is the number of
// times the client sent and then waited for the server, as the relay
// counted them, and hrr/op the HelloRetryRequests. Each client is set up
// once, as an application would be, and every iteration is a new
// connection.
func BenchmarkConnect(b *testing.B) {
	b.Run("server=pg15", func(b *testing.B) { benchConnect(b, pgtest.StartT(b, pgtest.Options{}), false) })
	if bin := pgtest.OptionalInstallation(b, 18); bin != nil {
		b.Run("server=pg18", func(b *testing.B) { benchConnect(b, bin.StartT(b, pgtest.Options{}), true) })
	}
}

// benchConnect is BenchmarkConnect against cluster; direct adds pqssl with
// sslnegotiation=direct.
func benchConnect(b *testing.B, cluster *pgtest.Cluster, direct bool) {
	root := filepath.Join(b.TempDir(), "root.crt")
	if err := os.WriteFile(root, cluster.ServerCertPEM(), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, rtt := range []time.Duration{0, 20 * time.Millisecond} {
		r, err := relay.Start(cluster.Addr(), relay.Options{Delay: rtt / 2})
		if err != nil {
			b.Fatal(err)
		}
		host, port, _ := net.SplitHostPort(r.Addr())
		dsn := fmt.Sprintf("host=%s port=%s user=%s dbname=postgres sslmode=verify-full sslrootcert=%s",
			host, port, pgtest.Superuser, root)
		pgxConfig, err := pgx.ParseConfig(dsn)
		if err != nil {
			b.Fatal(err)
		}
		pqsslClient := func(name, dsn string) client {
			return client{name, sqlClient(b, func() (*sql.DB, error) {
				c, err := pqssl.NewConnector(dsn)
				if err != nil {
					return nil, err
				}
				return sql.OpenDB(c), nil
			})}
		}
		clients := []client{pqsslClient("pqssl", dsn)}
		if direct {
			clients = append(clients, pqsslClient("pqssl-direct", dsn+" sslnegotiation=direct"))
		}
		clients = append(clients, []client{
			{"libpq", sqlClient(b, func() (*sql.DB, error) {
				c, err := pq.NewConnector(dsn)
				if err != nil {
					return nil, err
				}
				return sql.OpenDB(c), nil
			})},
			{"pgx", func(ctx context.Context) (func(context.Context) error, func() error, error) {
				cn, err := pgx.ConnectConfig(ctx, pgxConfig)
				if err != nil {
					return nil, nil, err
				}
				q := func(ctx context.Context) error {
					var one int
					return cn.QueryRow(ctx, "select 1").Scan(&one)
				}
				return q, func() error { return cn.Close(context.Background()) }, nil
			}},
		}...)
		for _, cl := range clients {
			b.Run(fmt.Sprintf("rtt=%s/client=%s", rtt, cl.name), func(b *testing.B) {
				ctx := context.Background()
				// One connection first, outside the timing, so that
				// long-lived state (loaded roots, learned groups) is what
				// a running application has.
				if q, closeFn, err := cl.connect(ctx); err != nil {
					b.Fatal(err)
				} else if err := q(ctx); err != nil {
					b.Fatal(err)
				} else {
					closeFn()
				}
				before := r.Totals()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					q, closeFn, err := cl.connect(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if err := q(ctx); err != nil {
						b.Fatal(err)
					}
					if err := closeFn(); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				if _, err := r.Wait(wctx, before.Conns+b.N); err != nil {
					b.Fatal(err)
				}
				after := r.Totals()
				b.ReportMetric(float64(after.Flights-before.Flights)/float64(b.N), "flights/op")
				b.ReportMetric(float64(after.HelloRetryRequests-before.HelloRetryRequests)/float64(b.N), "hrr/op")
			})
		}
		r.Close()
	}
}

// client is one client under test: connect opens a connection and returns
// its query and its close.
type client struct {
	name    string
	connect func(ctx context.Context) (func(context.Context) error, func() error, error)
}

// sqlClient adapts a database/sql driver: one *sql.DB, as an application
// has, that keeps no idle connection, so that each query opens a new
// connection and closes it after.
func sqlClient(b *testing.B, open func() (*sql.DB, error)) func(ctx context.Context) (func(context.Context) error, func() error, error) {
	db, err := open()
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxIdleConns(0)
	b.Cleanup(func() { db.Close() })
	return func(ctx context.Context) (func(context.Context) error, func() error, error) {
		q := func(ctx context.Context) error {
			var one int
			return db.QueryRowContext(ctx, "select 1").Scan(&one)
		}
		return q, func() error { return nil }, nil
	}
}
