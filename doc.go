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
// The data flows in one direction. A connection string is parsed (dsn.go)
// and resolved against service files and the environment (resolve.go) into a
// config; NewConnector turns that into a Connector, which loads the trust
// store and client key lazily. For each host and encryption attempt
// (connector.go) the dialer it hands to lib/pq connects, sends the
// SSLRequest and runs the TLS handshake (negotiate.go), verifying the
// server's chain and name with libpq's rules (verify.go and the files it
// calls on), then answers the server's password requests
// (internal/pgauth) before lib/pq takes the connection over.
package pqssl
