// This file holds the resolved configuration (config, hostSpec) and the
// resolver that gathers parameters from a connection string, the service
// file and the environment.

package pqssl

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/pqssl/pqssl/internal/pgauth"
)

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
	// PEM data instead of file names. No ~/.postgresql defaults apply to
	// them then: an empty value means "not given".
	sslinline bool

	sslpassword   string
	sslcertmode   string // disable, allow (default), require
	sslsni        bool   // default true
	sslMinVersion uint16 // tls.VersionTLS1x; default tls.VersionTLS12
	sslMaxVersion uint16 // 0 = no maximum

	channelBinding string // disable, prefer (default), require
	requireAuth    pgauth.Requirement
	sslkeylogfile  string

	targetSessionAttrs string // any (default), read-write, read-only, primary, standby, prefer-standby
	loadBalanceHosts   string // disable (default), random

	// minProtocolVersion and maxProtocolVersion bound the frontend/backend
	// protocol version: "3.0" (default), "3.2" or "latest".
	minProtocolVersion string
	maxProtocolVersion string
	minProtocolMinor   int // the minor version minProtocolVersion stands for

	// TCP settings for the dialer. keepalives defaults to true; a zero
	// duration or count leaves the operating system's default in place.
	keepalives         bool
	keepalivesIdle     time.Duration
	keepalivesInterval time.Duration
	keepalivesCount    int
	tcpUserTimeout     time.Duration

	// lib/pq extensions passed through to lib/pq.
	binaryParameters            bool
	disablePreparedBinaryResult bool
	krbsrvname                  string
	krbspn                      string

	// sources says where each keyword's value came from.
	sources map[string]setting

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
	// hostaddr is the numeric address to dial, "" when not given. It is
	// kept in canonical form, so that "127.1" (which libpq accepts, as
	// inet_aton does) is stored as "127.0.0.1".
	hostaddr string
	port     uint16
}

// isSocket reports whether h names a Unix-domain socket directory.
func (h hostSpec) isSocket() bool {
	return h.hostaddr == "" && (len(h.host) > 0 && (h.host[0] == '/' || h.host[0] == '@'))
}

const (
	defaultPort       = 5432
	defaultHost       = "localhost"
	defaultSysconfdir = "/etc/postgresql-common" // Debian's pg_config --sysconfdir

	// maxServiceFile bounds how much of a service file is read, so that a
	// service file pointing at a device or a huge file cannot hang us.
	maxServiceFile = 16 << 20
)

// lookupEffectiveUser returns the name and home directory of the effective
// user from the passwd database, as libpq's pg_fe_getauthname and
// pqGetHomeDirectory do. Tests replace it.
var lookupEffectiveUser = func() (name, home string, err error) {
	u, err := user.LookupId(strconv.Itoa(os.Geteuid()))
	if err != nil {
		return "", "", err
	}
	return u.Username, u.HomeDir, nil
}

// parseConfig resolves a connection string (key=value or postgres:// / postgresql:// URI)
// against the service file, the environment and libpq's defaults.
// getenv is os.LookupEnv in production; tests inject their own.
func parseConfig(dsn string, getenv func(string) (string, bool)) (*config, error) {
	r := &resolver{
		getenv:   getenv,
		explicit: make(map[string]string),
		runtime:  make(map[string]string),
	}
	if strings.IndexByte(dsn, 0) >= 0 {
		// libpq cannot even see what follows a NUL; silently dropping it
		// could drop a parameter such as sslmode=verify-full.
		return nil, syntaxError("connection string contains a NUL byte")
	}
	var err error
	if n := uriPrefixLength(dsn); n > 0 {
		err = parseURI(dsn, n, r.store)
	} else {
		err = parseKeyValue(dsn, r.store)
	}
	if err != nil {
		return nil, err
	}
	if err := r.readService(); err != nil {
		return nil, err
	}
	return r.resolve()
}

// resolver holds the parameters gathered from the connection string and the
// service file, and resolves each keyword with libpq's precedence: explicit
// string, then service file, then environment variable, then default.
type resolver struct {
	getenv   func(string) (string, bool)
	explicit map[string]string // keyword -> value, from the connection string
	runtime  map[string]string // unknown keys from the connection string

	service    map[string]string // keyword -> value, from the service file
	serviceSrc string            // "service file PATH"

	homeDone bool
	home     string // "" when there is no home directory

	looked map[string]setting // every keyword resolved so far, for Config
}

// setting is a resolved value with its origin.
type setting struct {
	val  string
	ok   bool   // given somewhere (string, service or environment)
	name string // keyword, or environment variable when src is sourceEnv
	src  string
}

// errorf returns a ParameterError about s.
func (s setting) errorf(format string, args ...any) error {
	return &ParameterError{Name: s.name, Source: s.src, Err: fmt.Errorf(format, args...)}
}

// env reads an environment variable; an empty value counts as unset.
func (r *resolver) env(name string) (string, bool) {
	if r.getenv == nil {
		return "", false
	}
	v, ok := r.getenv(name)
	if !ok || v == "" {
		return "", false
	}
	return v, true
}

// lookup resolves kw. An explicitly empty value in the string or the
// service file counts as given, as in libpq: it hides the environment.
func (r *resolver) lookup(kw string) setting {
	s := r.find(kw)
	if r.looked == nil {
		r.looked = make(map[string]setting)
	}
	r.looked[kw] = s
	return s
}

func (r *resolver) find(kw string) setting {
	if v, ok := r.explicit[kw]; ok {
		return setting{val: v, ok: true, name: kw, src: sourceString}
	}
	if v, ok := r.service[kw]; ok {
		return setting{val: v, ok: true, name: kw, src: r.serviceSrc}
	}
	if env := keywords[kw].env; env != "" {
		if v, ok := r.env(env); ok {
			return setting{val: v, ok: true, name: env, src: sourceEnv}
		}
	}
	return setting{name: kw, src: sourceDefault}
}

// homeDir returns $HOME if set and non-empty, else the passwd entry's home
// directory, like libpq's pqGetHomeDirectory.
func (r *resolver) homeDir() (string, bool) {
	if !r.homeDone {
		r.homeDone = true
		if h, ok := r.env("HOME"); ok {
			r.home = h
		} else if _, h, err := lookupEffectiveUser(); err == nil {
			r.home = h
		}
	}
	return r.home, r.home != ""
}

// store records one key/value pair of the connection string. Later pairs
// override earlier ones, as in libpq.
func (r *resolver) store(key, val string, uri bool) error {
	switch key {
	case "":
		if uri {
			return syntaxError(`invalid URI query parameter: ""`)
		}
		return syntaxError(`invalid connection option ""`)
	case "requiressl":
		// libpq's conninfo_storeval turns the deprecated requiressl into
		// sslmode: values starting with 1 mean require, anything else prefer.
		key = "sslmode"
		if strings.HasPrefix(val, "1") {
			val = "require"
		} else {
			val = "prefer"
		}
	case "database":
		// lib/pq accepts database= as dbname=.
		key = "dbname"
	}
	if _, ok := keywords[key]; ok || strings.HasPrefix(key, "oauth_") {
		r.explicit[key] = val
		return nil
	}
	// GUC names are case-insensitive on the server: a "Client_Encoding" run-time
	// parameter would silently override the UTF8 that lib/pq depends on.
	for _, kw := range []string{"client_encoding", "datestyle"} {
		if strings.EqualFold(key, kw) {
			r.explicit[kw] = val
			return nil
		}
	}
	r.runtime[key] = val
	return nil
}
