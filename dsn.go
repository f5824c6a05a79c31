package pqssl

import (
	"time"
)

// This file is a skeleton: the types are fixed, the parser is to be written.

// config is a fully resolved connection configuration: the connection string
// merged with the service file, the environment and libpq's defaults.
type config struct {
	// hosts lists the servers to try, in order (already shuffled when
	// load_balance_hosts=random). Never empty.
	hosts []hostSpec

	user     string
	password string // "" when not given; passfile is consulted later
	dbname   string
	passfile string // resolved path (passfile, PGPASSFILE, ~/.pgpass), "" when no home

	options         string
	applicationName string // application_name, else fallback_application_name

	// connectTimeout is libpq's connect_timeout: 0 means wait forever; values
	// below 2 seconds become 2 seconds, as in libpq.
	connectTimeout time.Duration

	sslmode        string // disable, allow, prefer, require, verify-ca, verify-full
	sslmodeSet     bool   // sslmode came from the string, a service file or PGSSLMODE
	sslnegotiation string // postgres (default), direct

	// File parameters hold resolved paths: explicit value, else environment,
	// else the ~/.postgresql default ("" when there is no home directory).
	// The *Set flags say whether the value was given explicitly (string,
	// service or environment) rather than defaulted.
	sslcert        string
	sslkey         string
	sslrootcert    string
	sslcrl         string
	sslcrldir      string
	sslcertSet     bool
	sslkeySet      bool
	sslrootcertSet bool
	sslcrlSet      bool
	sslcrldirSet   bool

	// sslinline (a lib/pq extension): sslcert, sslkey and sslrootcert hold
	// PEM data instead of file names.
	sslinline bool

	sslpassword   string
	sslcertmode   string // disable, allow (default), require
	sslsni        bool   // default true
	sslMinVersion uint16 // tls.VersionTLS1x; default tls.VersionTLS12
	sslMaxVersion uint16 // 0 = no maximum

	channelBinding string // disable, prefer (default), require
	sslkeylogfile  string

	targetSessionAttrs string // any (default), read-write, read-only, primary, standby, prefer-standby
	loadBalanceHosts   string // disable (default), random

	// lib/pq extensions passed through to lib/pq.
	binaryParameters            bool
	disablePreparedBinaryResult bool
	krbsrvname                  string
	krbspn                      string

	// runtime holds unknown keys: lib/pq sends them to the server as run-time
	// parameters at startup.
	runtime map[string]string
}

// hostSpec is one entry of the host list.
type hostSpec struct {
	// host is the host name, IP literal or socket directory as written
	// (after percent-decoding). It is the name checked by verify-full. It is
	// "" only when just hostaddr was given.
	host string
	// hostaddr is the numeric address to dial, "" when not given.
	hostaddr string
	port     uint16
}

// isSocket reports whether h names a Unix-domain socket directory.
func (h hostSpec) isSocket() bool {
	return h.hostaddr == "" && (len(h.host) > 0 && (h.host[0] == '/' || h.host[0] == '@'))
}
