package pqssl_test

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"time"

	"github.com/lib/pq"
	"github.com/pqssl/pqssl"
)

// Open a database handle through the "pqssl" driver, exactly as with lib/pq's
// "postgres" driver. The certificate is verified as libpq's verify-full does,
// so a server certificate that names the host only in its Common Name is
// accepted, and an encrypted client key is decrypted with sslpassword.
func Example() {
	db, err := sql.Open("pqssl", "host=db.example.com dbname=app user=app "+
		"sslmode=verify-full sslrootcert=/etc/app/root.crt "+
		"sslcert=/etc/app/client.crt sslkey=/etc/app/client.key sslpassword='key passphrase'")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	var version string
	if err := db.QueryRow("select version from pg_stat_ssl where pid = pg_backend_pid()").Scan(&version); err != nil {
		log.Fatal(err)
	}
	fmt.Println("connected with", version)
}

// A Connector parses the connection string once and reports configuration
// errors at once; sql.OpenDB turns it into a pool.
func ExampleNewConnector() {
	c, err := pqssl.NewConnector("postgresql://app@db.example.com/app?sslmode=verify-full")
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()

	// Connections are lib/pq's own, so lib/pq's helpers keep working.
	var ids []int64
	if err := db.QueryRow("select array[1, 2, 3]").Scan(pq.Array(&ids)); err != nil {
		log.Fatal(err)
	}
}

// The passphrase of an encrypted client key can come from a function instead
// of the connection string. The key is decrypted once and kept until the key
// file changes.
func ExampleWithSSLPasswordFunc() {
	c, err := pqssl.NewConnector("host=db.example.com user=app sslmode=verify-full sslkey=/etc/app/client.key",
		pqssl.WithSSLPasswordFunc(func(ctx context.Context, keyFile string) (string, error) {
			return os.Getenv("APP_KEY_PASSPHRASE"), nil
		}))
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
}

// Verification failures are typed errors.
func ExampleHostnameError() {
	db, err := sql.Open("pqssl", "host=db.example.com sslmode=verify-full")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	err = db.Ping()
	var herr *pqssl.HostnameError
	if errors.As(err, &herr) {
		fmt.Println("certificate names", herr.Names, "do not include", herr.Host)
	}
}

// Invalid settings are reported by NewConnector, naming the parameter.
func ExampleParameterError() {
	_, err := pqssl.NewConnector("host=db.example.com sslmode=verify-fulll")
	var perr *pqssl.ParameterError
	if errors.As(err, &perr) {
		fmt.Println(perr.Name)
	}
	// Output: sslmode
}

// Receive notifications with lib/pq's Listener over pqssl's TLS: the first
// connection and every reconnect are verified and authenticated by pqssl.
func ExampleConnector_NewListener() {
	c, err := pqssl.NewConnector("host=db.example.com dbname=app user=app " +
		"sslmode=verify-full sslrootcert=/etc/app/root.crt " +
		"sslcert=/etc/app/client.crt sslkey=/etc/app/client.key")
	if err != nil {
		log.Fatal(err)
	}
	l := c.NewListener(time.Second, time.Minute, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			log.Printf("listener: %v", err)
		}
	})
	defer l.Close()
	if err := l.Listen("jobs"); err != nil {
		log.Fatal(err)
	}
	for n := range l.Notify {
		if n == nil {
			continue // reconnected: notifications may have been missed
		}
		fmt.Println(n.Channel, n.Extra)
	}
}

// Inspect what a connection string resolves to, without connecting: the
// hosts, the effective sslmode and where each parameter came from. The
// Config never shows a password.
func ExampleParseConfig() {
	cfg, err := pqssl.ParseConfig("host=db.internal hostaddr=10.0.0.5 user=app password=secret sslmode=verify-full sslrootcert=/etc/app/root.crt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Hosts[0], cfg.SSLMode, cfg.SSLRootCert)
	p, _ := cfg.Param("password")
	fmt.Println(p)
	// Output:
	// db.internal/10.0.0.5:5432 verify-full /etc/app/root.crt
	// password=set (connection string)
}

// Reach the server through a tunnel or proxy: pqssl calls the DialFunc for
// each network connection and runs the SSLRequest, TLS and verification
// over what it returns, so verify-full still checks the server's own name.
func ExampleWithDialFunc() {
	tunnel := func(ctx context.Context, network, address string) (net.Conn, error) {
		// For instance an SSH client's Dial, or a cloud proxy's; here a
		// local port forwarded to the server.
		var d net.Dialer
		return d.DialContext(ctx, "tcp", "127.0.0.1:15432")
	}
	c, err := pqssl.NewConnector("host=db.internal dbname=app user=app sslmode=verify-full sslrootcert=/etc/app/root.crt",
		pqssl.WithDialFunc(tunnel))
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
}

// Log how every connection attempt went: the TLS version, the chain pqssl
// built, the certificate name that matched the host, and the error.
func ExampleWithTrace() {
	logAttempt := func(a *pqssl.Attempt) {
		switch {
		case a.Err != nil:
			log.Printf("%s: %v", a.Address, a.Err)
		case a.TLS == nil:
			log.Printf("%s: session without TLS", a.Address)
		case a.Verification != nil && a.Verification.HostMatch != nil:
			m := a.Verification.HostMatch
			log.Printf("%s: %s, host %q matched %s %q", a.Address, tls.VersionName(a.TLS.Version), m.Host, m.Kind, m.Name)
		default:
			log.Printf("%s: %s", a.Address, tls.VersionName(a.TLS.Version))
		}
	}
	c, err := pqssl.NewConnector("host=db.internal dbname=app user=app sslmode=verify-full sslrootcert=/etc/app/root.crt",
		pqssl.WithTrace(logAttempt))
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
}
