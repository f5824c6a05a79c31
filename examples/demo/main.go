// Command demo starts a throwaway PostgreSQL server with TLS, a CA of its
// own and a server certificate made the way the PostgreSQL documentation
// makes one (the host name only in the Common Name), then connects through
// pqssl with sslmode=verify-full and a client certificate whose key is
// encrypted (PKCS#8, PBES2, AES-256-CBC), and prints what the server saw of
// the session. For contrast it tries the same connection string through
// plain lib/pq.
//
//	go -C examples/demo run .
//
// It needs the PostgreSQL server binaries (initdb, pg_ctl, postgres); as root
// it runs them as the postgres user.
package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver, for the comparison
	"github.com/youmark/pkcs8"

	_ "github.com/pqssl/pqssl" // the "pqssl" driver
	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	ca, err := testpki.NewRoot(testpki.Spec{CommonName: "pqssl demo CA"})
	if err != nil {
		return err
	}
	server, err := ca.Issue(testpki.Spec{CommonName: "localhost"})
	if err != nil {
		return err
	}
	client, err := ca.Issue(testpki.Spec{CommonName: pgtest.Superuser,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return err
	}

	opts := pgtest.DefaultOptions()
	opts.ServerCert, opts.ServerKey = server.CertPEM, server.KeyPEM
	opts.CA = ca.CertPEM
	opts.HBA = []string{"hostssl all all 127.0.0.1/32 cert", "hostssl all all ::1/128 cert"}
	fmt.Println("starting a throwaway PostgreSQL server ...")
	cluster, err := pgtest.Start(opts)
	if err != nil {
		return err
	}
	defer cluster.Stop()

	dir, err := os.MkdirTemp("", "pqssl-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	const passphrase = "correct horse battery staple"
	keyPEM, err := encryptKey(client.Key, passphrase)
	if err != nil {
		return err
	}
	files := map[string][]byte{"root.crt": ca.CertPEM, "client.crt": client.CertPEM, "client.key": keyPEM}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}

	dsn := fmt.Sprintf("host=localhost port=%d user=%s dbname=postgres sslmode=verify-full "+
		"sslrootcert=%s sslcert=%s sslkey=%s sslpassword='%s'", cluster.Port, pgtest.Superuser,
		filepath.Join(dir, "root.crt"), filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"), passphrase)
	fmt.Printf("server %s, certificate CN=localhost without subjectAltName\n", cluster.Addr())
	fmt.Println("connection string: host=localhost ... sslmode=verify-full sslcert=... sslkey=<encrypted PKCS#8> sslpassword=...")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pqssl", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var version, cipher, clientDN string
	err = db.QueryRowContext(ctx, "select version, cipher, client_dn from pg_stat_ssl where pid = pg_backend_pid()").
		Scan(&version, &cipher, &clientDN)
	if err != nil {
		return fmt.Errorf("pqssl: %w", err)
	}
	fmt.Printf("pqssl:  connected; pg_stat_ssl: version=%s cipher=%s client_dn=%s\n", version, cipher, clientDN)

	plain, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer plain.Close()
	if err := plain.PingContext(ctx); err != nil {
		fmt.Printf("lib/pq: %v\n", err)
	} else {
		fmt.Println("lib/pq: connected as well")
	}
	return nil
}

// encryptKey returns key as an encrypted PKCS#8 PEM block, as
// `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes it.
func encryptKey(key crypto.Signer, passphrase string) ([]byte, error) {
	der, err := pkcs8.MarshalPrivateKey(key, []byte(passphrase), &pkcs8.Opts{
		Cipher:  pkcs8.AES256CBC,
		KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 16, IterationCount: 100000, HMACHash: crypto.SHA256},
	})
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
}
