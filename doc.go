// Package pqssl is a database/sql driver for PostgreSQL that sets up TLS
// exactly as libpq does, on top of github.com/lib/pq.
//
// Applications replace sql.Open("postgres", dsn) with sql.Open("pqssl", dsn),
// or use sql.OpenDB with a Connector from NewConnector. The connection string
// is a libpq connection string (key=value or postgres:// URI), resolved
// against the service file, the PG* environment variables and the
// ~/.postgresql defaults like libpq resolves it. pqssl negotiates encryption
// and verifies the server itself, then hands the encrypted connection to
// lib/pq, so every lib/pq feature (pq.CopyIn, pq.Array, LISTEN/NOTIFY, notice
// handlers) keeps working on the connections it returns.
//
// One default differs from libpq on purpose: when no sslmode is given
// anywhere, pqssl uses sslmode=require (lib/pq's default), never a mode that
// may silently fall back to plaintext.
//
// The data flows in one direction. A connection string is parsed
// (connstring.go, with the keywords of keywords.go) and resolved against the
// service file (service.go) and the environment (resolve.go) into a config
// (dsn.go); NewConnector turns that into a Connector, which loads the trust
// store (truststore.go, hasheddir.go) and the client key (clientcert.go,
// pemkey.go) lazily. For each host and encryption attempt (connector.go) the
// dialer it hands to lib/pq connects, sends the SSLRequest and runs the TLS
// handshake (negotiate.go), verifying the server's chain with OpenSSL's
// rules (verify.go, on certinfo.go, x509name.go, constraints.go,
// seclevel.go, crl.go and revocation.go) and its name with libpq's
// (hostname.go), then answers the server's password requests
// (internal/pgauth, through auth.go) before lib/pq takes the connection
// over. The errors callers can inspect are in errors.go. WithTrace (trace.go)
// reports what each attempt saw and decided; the doctor command
// (cmd/pqssl) is written on it.
package pqssl
