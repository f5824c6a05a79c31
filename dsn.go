package pqssl

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/pqssl/pqssl/internal/cparse"
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
	sslkeylogfile  string

	targetSessionAttrs string // any (default), read-write, read-only, primary, standby, prefer-standby
	loadBalanceHosts   string // disable (default), random

	// minProtocolVersion and maxProtocolVersion bound the frontend/backend
	// protocol version: "3.0" (default), "3.2" or "latest".
	minProtocolVersion string
	maxProtocolVersion string

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

// Sources named in ParameterError.Source.
const (
	sourceString  = "connection string"
	sourceEnv     = "environment"
	sourceDefault = "default"
)

func serviceSource(path string) string { return "service file " + path }

const (
	defaultPort       = 5432
	defaultHost       = "localhost"
	defaultSysconfdir = "/etc/postgresql-common" // Debian's pg_config --sysconfdir

	// maxServiceFile bounds how much of a service file is read, so that a
	// service file pointing at a device or a huge file cannot hang us.
	maxServiceFile = 16 << 20
)

// keyword describes a connection keyword pqssl recognises. Every keyword in
// the keywords table may also appear in a service file, except service and
// servicefile themselves.
type keyword struct {
	env    string // fallback environment variable, "" if none
	secret bool   // value must never be shown in an error
}

// keywords lists libpq's keywords (up to PostgreSQL 18) and lib/pq's
// extensions. None of them ever ends up in config.runtime: the server would
// reject them as unknown run-time parameters.
var keywords = map[string]keyword{
	// libpq
	"service":                   {env: "PGSERVICE"},
	"servicefile":               {env: "PGSERVICEFILE"},
	"user":                      {env: "PGUSER"},
	"password":                  {env: "PGPASSWORD", secret: true},
	"passfile":                  {env: "PGPASSFILE"},
	"channel_binding":           {env: "PGCHANNELBINDING"},
	"connect_timeout":           {env: "PGCONNECT_TIMEOUT"},
	"dbname":                    {env: "PGDATABASE"},
	"host":                      {env: "PGHOST"},
	"hostaddr":                  {env: "PGHOSTADDR"},
	"port":                      {env: "PGPORT"},
	"client_encoding":           {env: "PGCLIENTENCODING"},
	"options":                   {env: "PGOPTIONS"},
	"application_name":          {env: "PGAPPNAME"},
	"fallback_application_name": {},
	"keepalives":                {},
	"keepalives_idle":           {},
	"keepalives_interval":       {},
	"keepalives_count":          {},
	"tcp_user_timeout":          {},
	"sslmode":                   {env: "PGSSLMODE"},
	"sslnegotiation":            {env: "PGSSLNEGOTIATION"},
	"sslcompression":            {env: "PGSSLCOMPRESSION"},
	"sslcert":                   {env: "PGSSLCERT"},
	"sslkey":                    {env: "PGSSLKEY"},
	"sslcertmode":               {env: "PGSSLCERTMODE"},
	"sslpassword":               {secret: true},
	"sslkeylogfile":             {},
	"sslrootcert":               {env: "PGSSLROOTCERT"},
	"sslcrl":                    {env: "PGSSLCRL"},
	"sslcrldir":                 {env: "PGSSLCRLDIR"},
	"sslsni":                    {env: "PGSSLSNI"},
	"requirepeer":               {env: "PGREQUIREPEER"},
	"require_auth":              {env: "PGREQUIREAUTH"},
	"ssl_min_protocol_version":  {env: "PGSSLMINPROTOCOLVERSION"},
	"ssl_max_protocol_version":  {env: "PGSSLMAXPROTOCOLVERSION"},
	"min_protocol_version":      {env: "PGMINPROTOCOLVERSION"},
	"max_protocol_version":      {env: "PGMAXPROTOCOLVERSION"},
	"gssencmode":                {env: "PGGSSENCMODE"},
	"krbsrvname":                {env: "PGKRBSRVNAME"},
	"gsslib":                    {env: "PGGSSLIB"},
	"gssdelegation":             {env: "PGGSSDELEGATION"},
	"replication":               {},
	"target_session_attrs":      {env: "PGTARGETSESSIONATTRS"},
	"load_balance_hosts":        {env: "PGLOADBALANCEHOSTS"},
	"scram_client_key":          {secret: true},
	"scram_server_key":          {secret: true},
	"oauth_issuer":              {},
	"oauth_client_id":           {},
	"oauth_client_secret":       {secret: true},
	"oauth_scope":               {},

	// lib/pq extensions
	"binary_parameters":              {},
	"disable_prepared_binary_result": {},
	"krbspn":                         {},
	"sslinline":                      {},
	"datestyle":                      {env: "PGDATESTYLE"},
	"tz":                             {env: "PGTZ"},   // sent as the run-time parameter timezone
	"geqo":                           {env: "PGGEQO"}, // sent as the run-time parameter geqo
}

// isSecretKey reports whether the value of key must never be shown.
func isSecretKey(key string) bool {
	return keywords[key].secret || strings.HasPrefix(key, "oauth_") && strings.Contains(key, "secret")
}

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

// openServiceFile opens a service file. The fuzz test replaces it, so that
// no input can make it read from the file system.
var openServiceFile = os.Open

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

// syntaxError reports an error in the syntax of the connection string.
func syntaxError(msg string) error {
	return &ParameterError{Source: sourceString, Err: errors.New(msg)}
}

// parseKeyValue parses a key=value connection string exactly as libpq's
// conninfo_parse does: whitespace separates pairs and may surround "=";
// values may be single-quoted; a backslash takes the next byte literally,
// inside and outside quotes; a quoted value may be followed directly by the
// next keyword.
func parseKeyValue(s string, store func(key, val string, uri bool) error) error {
	i, n := 0, len(s)
	prevSecret := ""
	for i < n {
		if cparse.IsSpace(s[i]) {
			i++
			continue
		}
		start := i
		for i < n && s[i] != '=' && !cparse.IsSpace(s[i]) {
			i++
		}
		name := s[start:i]
		for i < n && cparse.IsSpace(s[i]) {
			i++
		}
		if i >= n || s[i] != '=' {
			if prevSecret != "" {
				// The stray word most likely belongs to the preceding
				// secret value (an unquoted password with a space): do not
				// echo it.
				return syntaxError(fmt.Sprintf(`missing "=" after the value of %q in connection info string (quote values that contain spaces)`, prevSecret))
			}
			return syntaxError(`missing "=" after "` + name + `" in connection info string`)
		}
		i++
		for i < n && cparse.IsSpace(s[i]) {
			i++
		}
		var val []byte
		if i < n && s[i] == '\'' {
			i++
			for {
				if i >= n {
					return syntaxError("unterminated quoted string in connection info string")
				}
				c := s[i]
				i++
				if c == '\\' {
					if i < n {
						val = append(val, s[i])
						i++
					}
					continue
				}
				if c == '\'' {
					break
				}
				val = append(val, c)
			}
		} else {
			for i < n {
				c := s[i]
				i++
				if cparse.IsSpace(c) {
					break
				}
				if c == '\\' {
					if i < n {
						val = append(val, s[i])
						i++
					}
					continue
				}
				val = append(val, c)
			}
		}
		if err := store(name, string(val), false); err != nil {
			return err
		}
		prevSecret = ""
		if isSecretKey(name) {
			prevSecret = name
		}
	}
	return nil
}

// uriPrefixLength returns the length of the postgresql:// or postgres://
// prefix of s, or 0.
func uriPrefixLength(s string) int {
	for _, p := range []string{"postgresql://", "postgres://"} {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	return 0
}

// parseURI parses a connection URI exactly as libpq's
// conninfo_uri_parse_options does:
//
//	postgresql://[user[:password]@][netloc][:port][,...][/dbname][?param1=value1&...]
//
// where netloc is a host name, an IPv4 address or a bracketed IPv6 address.
// The host and port lists are percent-decoded as a whole, so %2C in a host
// separates hosts and %2F makes a socket directory.
func parseURI(uri string, prefix int, store func(key, val string, uri bool) error) error {
	s := uri
	n := len(s)
	start := prefix
	p := start

	// storeDecoded percent-decodes val and stores it under key.
	storeDecoded := func(key, val string) error {
		dec, err := uriDecode(val)
		if err != nil {
			return decodeError(err, key, val)
		}
		return store(key, dec, true)
	}

	// Look ahead for the user credentials designator. Like libpq, stop at
	// the first '@' or '/' only: a '?' does not end the search.
	for p < n && s[p] != '@' && s[p] != '/' {
		p++
	}
	if p < n && s[p] == '@' {
		at := p
		q := start
		for q < at && s[q] != ':' {
			q++
		}
		if u := s[start:q]; u != "" {
			if err := storeDecoded("user", u); err != nil {
				return err
			}
		}
		if q < at {
			if pw := s[q+1 : at]; pw != "" {
				if err := storeDecoded("password", pw); err != nil {
					return err
				}
			}
		}
		p = at + 1
	} else {
		p = start
	}

	var hostbuf, portbuf strings.Builder
	var prev byte // byte that ended the last component; 0 at end of string
	for {
		var host string
		if p < n && s[p] == '[' {
			p++
			hs := p
			for p < n && s[p] != ']' {
				p++
			}
			if p >= n {
				return uriError(`end of string reached when looking for matching "]" in IPv6 host address in URI`, uri)
			}
			if p == hs {
				return uriError("IPv6 host address may not be empty in URI", uri)
			}
			host = s[hs:p]
			p++
			if p < n && s[p] != ':' && s[p] != '/' && s[p] != '?' && s[p] != ',' {
				return uriError(fmt.Sprintf(`unexpected character "%c" at position %d in URI (expected ":" or "/")`, s[p], p+1), uri)
			}
		} else {
			hs := p
			for p < n && s[p] != ':' && s[p] != '/' && s[p] != '?' && s[p] != ',' {
				p++
			}
			host = s[hs:p]
		}
		prev = 0
		if p < n {
			prev = s[p]
		}
		hostbuf.WriteString(host)
		if prev == ':' {
			p++
			ps := p
			for p < n && s[p] != '/' && s[p] != '?' && s[p] != ',' {
				p++
			}
			portbuf.WriteString(s[ps:p])
			prev = 0
			if p < n {
				prev = s[p]
			}
		}
		if prev != ',' {
			break
		}
		p++
		hostbuf.WriteByte(',')
		portbuf.WriteByte(',')
	}
	if hostbuf.Len() > 0 {
		if err := storeDecoded("host", hostbuf.String()); err != nil {
			return err
		}
	}
	if portbuf.Len() > 0 {
		if err := storeDecoded("port", portbuf.String()); err != nil {
			return err
		}
	}

	if prev != 0 && prev != '?' {
		p++
		ds := p
		for p < n && s[p] != '?' {
			p++
		}
		// An empty dbname is not stored, so that PGDATABASE still applies.
		if db := s[ds:p]; db != "" {
			if err := storeDecoded("dbname", db); err != nil {
				return err
			}
		}
		prev = 0
		if p < n {
			prev = s[p]
		}
	}
	if prev != 0 {
		return parseURIParams(s[p+1:], store)
	}
	return nil
}

// parseURIParams parses the query part of a connection URI, as libpq's
// conninfo_uri_parse_params does.
func parseURIParams(params string, store func(key, val string, uri bool) error) error {
	for params != "" {
		end := strings.IndexByte(params, '&')
		seg := params
		if end >= 0 {
			seg, params = params[:end], params[end+1:]
		} else {
			params = ""
		}
		key, val, ok := strings.Cut(seg, "=")
		if !ok {
			return syntaxError(`missing key/value separator "=" in URI query parameter: "` + seg + `"`)
		}
		if strings.IndexByte(val, '=') >= 0 {
			return syntaxError(`extra key/value separator "=" in URI query parameter: "` + key + `"`)
		}
		dkey, err := uriDecode(key)
		if err != nil {
			return decodeError(err, "", key)
		}
		dval, err := uriDecode(val)
		if err != nil {
			return decodeError(err, dkey, val)
		}
		// JDBC compatibility, as in libpq: ssl=true means sslmode=require.
		if dkey == "ssl" && dval == "true" {
			dkey, dval = "sslmode", "require"
		}
		if err := store(dkey, dval, true); err != nil {
			return err
		}
	}
	return nil
}

// uriError reports a URI syntax error, quoting the URI with its secrets
// masked.
func uriError(msg, uri string) error {
	return syntaxError(msg + `: "` + redactURI(uri) + `"`)
}

// redactURI masks the password and the values of secret query parameters in
// a connection URI, finding them the way parseURI does.
func redactURI(uri string) string {
	const mask = "xxxxx"
	start := uriPrefixLength(uri)
	s := uri
	var b strings.Builder
	b.WriteString(s[:start])
	p := start
	for p < len(s) && s[p] != '@' && s[p] != '/' {
		p++
	}
	rest := start
	if p < len(s) && s[p] == '@' {
		cred := s[start:p]
		if u, _, ok := strings.Cut(cred, ":"); ok {
			b.WriteString(u + ":" + mask)
		} else {
			b.WriteString(cred)
		}
		b.WriteByte('@')
		rest = p + 1
	}
	q := strings.IndexByte(s[rest:], '?')
	if q < 0 {
		b.WriteString(s[rest:])
		return b.String()
	}
	b.WriteString(s[rest : rest+q+1])
	for i, seg := range strings.Split(s[rest+q+1:], "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		key, _, ok := strings.Cut(seg, "=")
		dkey, err := uriDecode(key)
		if ok && (isSecretKey(key) || err == nil && isSecretKey(dkey)) {
			b.WriteString(key + "=" + mask)
			continue
		}
		b.WriteString(seg)
	}
	return b.String()
}

// Percent-decoding failures; decodeError turns them into libpq's messages.
var (
	errBadPercent = errors.New("invalid percent-encoded token")
	errPercentNUL = errors.New("forbidden value %00 in percent-encoded value")
)

// decodeError reports a percent-decoding failure of raw, the encoded value of
// key ("" for a query parameter's name). The value of a secret is not shown.
func decodeError(err error, key, raw string) error {
	if isSecretKey(key) {
		return &ParameterError{Name: key, Source: sourceString, Err: err}
	}
	return syntaxError(err.Error() + `: "` + raw + `"`)
}

// uriDecode replaces %xy sequences by the bytes they encode, as libpq's
// conninfo_uri_decode does: any other byte is kept, a malformed sequence is
// an error and %00 is forbidden.
func uriDecode(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errBadPercent
		}
		hi, ok1 := cparse.Unhex(s[i+1])
		lo, ok2 := cparse.Unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", errBadPercent
		}
		c := hi<<4 | lo
		if c == 0 {
			return "", errPercentNUL
		}
		b = append(b, c)
		i += 2
	}
	return string(b), nil
}

// readService looks up the service named by the service keyword or
// PGSERVICE, as libpq's parseServiceInfo does: first in the file named by
// servicefile or PGSERVICEFILE, else ~/.pg_service.conf if it exists; when
// the service is not defined there, in pg_service.conf in PGSYSCONFDIR.
func (r *resolver) readService() error {
	svc := r.lookupService()
	if !svc.ok {
		return nil
	}
	name := svc.val

	var file string
	explicitFile := false
	if v, ok := r.explicit["servicefile"]; ok && v != "" {
		file, explicitFile = v, true
	} else if v, ok := r.env("PGSERVICEFILE"); ok {
		file, explicitFile = v, true
	} else if home, ok := r.homeDir(); ok {
		file = home + "/.pg_service.conf"
		if _, err := os.Stat(file); err != nil {
			file = ""
		}
	}
	if file != "" {
		found, err := r.parseServiceFile(file, name, explicitFile)
		if err != nil || found {
			return err
		}
	}

	dir := defaultSysconfdir
	if v, ok := r.env("PGSYSCONFDIR"); ok {
		dir = v
	}
	file = dir + "/pg_service.conf"
	if _, err := os.Stat(file); err == nil {
		found, err := r.parseServiceFile(file, name, false)
		if err != nil || found {
			return err
		}
	}
	return svc.errorf("definition of service %q not found", name)
}

// lookupService returns the service name. Unlike other keywords it is
// looked up before the service file is read, so only the string and the
// environment can supply it.
func (r *resolver) lookupService() setting {
	if v, ok := r.explicit["service"]; ok {
		return setting{val: v, ok: true, name: "service", src: sourceString}
	}
	if v, ok := r.env("PGSERVICE"); ok {
		return setting{val: v, ok: true, name: "PGSERVICE", src: sourceEnv}
	}
	return setting{}
}

// parseServiceFile reads the definition of service from file, following
// libpq's parseServiceFile: lines are read as by fgets into a 1024-byte
// buffer and cut at a NUL byte; leading and trailing whitespace is dropped;
// "#" starts a comment line; "[name]" starts a section; in the wanted
// section every line is key=value with a known keyword (no whitespace
// around "="). Within the file the first definition of a keyword wins, and
// nothing overrides a value from the connection string. found reports
// whether the section exists.
func (r *resolver) parseServiceFile(file, service string, named bool) (found bool, err error) {
	src := serviceSource(file)
	fileErr := func(msg string) error {
		name, source := "servicefile", sourceString
		if _, ok := r.explicit["servicefile"]; !ok {
			name, source = "PGSERVICEFILE", sourceEnv
		}
		if !named {
			name, source = "", src
		}
		return &ParameterError{Name: name, Source: source, Err: errors.New(msg)}
	}
	f, err := openServiceFile(file)
	if err != nil {
		if os.IsNotExist(err) {
			return false, fileErr(fmt.Sprintf("service file %q not found", file))
		}
		return false, fileErr(fmt.Sprintf("could not open service file %q: %v", file, sysErrText(err)))
	}
	defer f.Close()
	var data []byte
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		// fopen succeeds on a directory and fgets then reads nothing.
		data = nil
	} else {
		data, err = io.ReadAll(io.LimitReader(f, maxServiceFile+1))
		if err != nil {
			return false, fileErr(fmt.Sprintf("could not read service file %q: %v", file, sysErrText(err)))
		}
		if len(data) > maxServiceFile {
			return false, fileErr(fmt.Sprintf("service file %q is too large", file))
		}
	}

	syntaxErr := func(format string, args ...any) error {
		return &ParameterError{Source: src, Err: fmt.Errorf(format, args...)}
	}
	values := make(map[string]string)
	lineno := 0
	for len(data) > 0 {
		// fgets: up to and including '\n', at most 1023 bytes.
		l := len(data)
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l = i + 1
		}
		if l > 1023 {
			l = 1023
		}
		chunk := data[:l]
		data = data[l:]
		lineno++
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			chunk = chunk[:i]
		}
		if len(chunk) >= 1023 {
			return false, syntaxErr("line %d too long in service file %q", lineno, file)
		}
		line := cparse.TrimSpace(string(chunk))
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			if found {
				break // end of the wanted section
			}
			found = len(line) >= len(service)+2 && line[1:1+len(service)] == service && line[1+len(service)] == ']'
			continue
		}
		if !found {
			continue
		}
		if strings.HasPrefix(line, "ldap") {
			return false, syntaxErr("LDAP lookups are not supported (service file %q, line %d)", file, lineno)
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return false, syntaxErr("syntax error in service file %q, line %d", file, lineno)
		}
		switch key {
		case "service":
			return false, syntaxErr("nested service specifications not supported in service file %q, line %d", file, lineno)
		case "servicefile":
			return false, syntaxErr(`nested "servicefile" specifications not supported in service file %q, line %d`, file, lineno)
		}
		if _, known := keywords[key]; !known {
			return false, syntaxErr("syntax error in service file %q, line %d", file, lineno)
		}
		if _, dup := values[key]; !dup {
			values[key] = val
		}
	}
	if !found {
		return false, nil
	}
	for k := range values {
		if _, ok := r.explicit[k]; ok {
			delete(values, k)
		}
	}
	r.service, r.serviceSrc = values, src
	return true, nil
}

// parseIntParam parses an integer the way libpq's pqParseIntParam does:
// strtol in base 10 (leading whitespace and a sign allowed), trailing
// whitespace allowed, and the result must fit in a C int.
func parseIntParam(s setting, option string) (int, error) {
	n, rest, ok := cparse.Strtol(s.val)
	if !ok || cparse.TrimSpace(rest) != "" || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, s.errorf(`invalid integer value %q for connection option %q`, s.val, option)
	}
	return int(n), nil
}

// parseBool parses a boolean the way lib/pq does.
func parseBool(s setting) (bool, error) {
	switch s.val {
	case "1", "t", "T", "true", "TRUE", "True", "yes", "on":
		return true, nil
	case "0", "f", "F", "false", "FALSE", "False", "no", "off":
		return false, nil
	}
	return false, s.errorf("invalid boolean value %q", s.val)
}

// oneOf validates an enumerated parameter; def is used when it is not given.
func oneOf(s setting, def string, allowed ...string) (string, error) {
	if !s.ok {
		return def, nil
	}
	for _, a := range allowed {
		if s.val == a {
			return s.val, nil
		}
	}
	kw := s.name
	if s.src == sourceEnv {
		kw = envKeyword(s.name)
	}
	return "", s.errorf("unknown %s %q", kw, s.val)
}

// envKeyword returns the keyword an environment variable stands for.
func envKeyword(env string) string {
	for kw, k := range keywords {
		if k.env == env {
			return kw
		}
	}
	return env
}

// sslVersions maps ssl_{min,max}_protocol_version values (compared
// case-insensitively, as libpq does; TLSv1.0 is lib/pq's spelling) to
// crypto/tls versions.
var sslVersions = map[string]uint16{
	"tlsv1":   tls.VersionTLS10,
	"tlsv1.0": tls.VersionTLS10,
	"tlsv1.1": tls.VersionTLS11,
	"tlsv1.2": tls.VersionTLS12,
	"tlsv1.3": tls.VersionTLS13,
}

// protocolRank orders the values of min/max_protocol_version.
var protocolRank = map[string]int{"3.0": 0, "3.2": 1, "latest": 1}

// resolve builds the config from the gathered parameters. The checks run
// in libpq's order (pqConnectOptions2, then the per-host checks libpq makes
// when connecting), so that the first error reported is libpq's.
func (r *resolver) resolve() (*config, error) {
	c := &config{runtime: r.runtime}

	// Host list.
	hostS, addrS, portS := r.lookup("host"), r.lookup("hostaddr"), r.lookup("port")
	var hosts, addrs []string
	n := 1
	if addrS.val != "" {
		addrs = strings.Split(addrS.val, ",")
		n = len(addrs)
	} else if hostS.val != "" {
		n = strings.Count(hostS.val, ",") + 1
	}
	if hostS.val != "" {
		hosts = strings.Split(hostS.val, ",")
		if len(hosts) != n {
			return nil, hostS.errorf("could not match %d host names to %d hostaddr values", len(hosts), n)
		}
	}
	ports := make([]string, n)
	if portS.val != "" {
		p := strings.Split(portS.val, ",")
		switch {
		case len(p) == 1:
			for i := range ports {
				ports[i] = p[0]
			}
		case len(p) != n:
			return nil, portS.errorf("could not match %d port numbers to %d hosts", len(p), n)
		default:
			ports = p
		}
	}

	// User and database.
	if s := r.lookup("user"); s.val != "" {
		c.user = s.val
	} else {
		name, _, err := lookupEffectiveUser()
		if err != nil || name == "" {
			if u, ok := r.env("USER"); ok {
				name = u
			}
		}
		if name == "" {
			return nil, &ParameterError{Name: "user", Source: sourceDefault,
				Err: errors.New("could not determine the local user name; set user or PGUSER")}
		}
		c.user = name
	}
	c.dbname = c.user
	if s := r.lookup("dbname"); s.val != "" {
		c.dbname = s.val
	}
	c.password = r.lookup("password").val
	if s := r.lookup("passfile"); s.val != "" {
		c.passfile = s.val
	} else if home, ok := r.homeDir(); ok {
		c.passfile = home + "/.pgpass"
	}

	// Settings libpq does not have and pqssl does not act on: refuse those
	// whose silent omission would make the connection less safe than asked.
	if err := r.checkUnsupported(); err != nil {
		return nil, err
	}

	var err error
	if c.channelBinding, err = oneOf(r.lookup("channel_binding"), "prefer", "disable", "prefer", "require"); err != nil {
		return nil, err
	}

	// sslmode, with the deprecated PGREQUIRESSL as a fallback below
	// PGSSLMODE, and the default strengthened by sslrootcert=system.
	modeS := r.lookup("sslmode")
	if !modeS.ok {
		if v, ok := r.env("PGREQUIRESSL"); ok && v[0] == '1' {
			modeS = setting{val: "require", ok: true, name: "PGREQUIRESSL", src: sourceEnv}
		}
	}
	// pqssl's default is require, not libpq's prefer: a default must never
	// fall back to plaintext.
	if c.sslmode, err = oneOf(modeS, "require", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"); err != nil {
		return nil, err
	}
	c.sslmodeSet = modeS.ok
	if c.sslnegotiation, err = oneOf(r.lookup("sslnegotiation"), "postgres", "postgres", "direct"); err != nil {
		return nil, err
	}
	if c.sslnegotiation == "direct" {
		switch c.sslmode {
		case "disable", "allow", "prefer":
			return nil, modeS.errorf(`weak sslmode %q may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")`, c.sslmode)
		}
	}

	inlineS := r.lookup("sslinline")
	if inlineS.ok {
		if c.sslinline, err = parseBool(inlineS); err != nil {
			return nil, err
		}
	}
	file := func(kw, def string) (string, bool) {
		if s := r.lookup(kw); s.val != "" {
			return s.val, true
		}
		if def == "" || c.sslinline && kw != "sslcrl" {
			return "", false
		}
		if home, ok := r.homeDir(); ok {
			return home + "/.postgresql/" + def, false
		}
		return "", false
	}
	c.sslcert, c.sslcertSet = file("sslcert", "postgresql.crt")
	c.sslkey, c.sslkeySet = file("sslkey", "postgresql.key")
	c.sslrootcert, c.sslrootcertSet = file("sslrootcert", "root.crt")
	c.sslcrl, c.sslcrlSet = file("sslcrl", "root.crl")
	c.sslcrldir, c.sslcrldirSet = file("sslcrldir", "")

	if c.sslrootcertSet && c.sslrootcert == "system" {
		// The system trust store lets anyone with a public certificate
		// impersonate the server unless the host name is checked.
		if !c.sslmodeSet {
			c.sslmode = "verify-full"
		} else if c.sslmode != "verify-full" {
			return nil, modeS.errorf(`weak sslmode %q may not be used with sslrootcert=system (use "verify-full")`, c.sslmode)
		}
	}

	minS, maxS := r.lookup("ssl_min_protocol_version"), r.lookup("ssl_max_protocol_version")
	c.sslMinVersion = tls.VersionTLS12
	minSet := minS.ok && minS.val != ""
	if minSet {
		v, ok := sslVersions[strings.ToLower(minS.val)]
		if !ok {
			return nil, minS.errorf("invalid ssl_min_protocol_version value: %q", minS.val)
		}
		c.sslMinVersion = v
	}
	if maxS.ok && maxS.val != "" {
		v, ok := sslVersions[strings.ToLower(maxS.val)]
		if !ok {
			return nil, maxS.errorf("invalid ssl_max_protocol_version value: %q", maxS.val)
		}
		c.sslMaxVersion = v
	}
	// Like libpq, an explicitly empty minimum skips the range check (libpq
	// then leaves the minimum to OpenSSL; pqssl keeps TLS 1.2).
	if c.sslMaxVersion != 0 && c.sslMinVersion > c.sslMaxVersion && (minSet || !minS.ok) {
		s := maxS
		if minSet {
			s = minS
		}
		return nil, s.errorf("invalid SSL protocol version range")
	}

	if c.sslcertmode, err = oneOf(r.lookup("sslcertmode"), "allow", "disable", "allow", "require"); err != nil {
		return nil, err
	}
	if _, err = oneOf(r.lookup("gssencmode"), "disable", "disable", "prefer", "require"); err != nil {
		return nil, err
	}
	if c.targetSessionAttrs, err = oneOf(r.lookup("target_session_attrs"), "any",
		"any", "read-write", "read-only", "primary", "standby", "prefer-standby"); err != nil {
		return nil, err
	}
	if c.loadBalanceHosts, err = oneOf(r.lookup("load_balance_hosts"), "disable", "disable", "random"); err != nil {
		return nil, err
	}

	// Encoding and date style: lib/pq can only work with UTF8 and ISO, MDY.
	if s := r.lookup("client_encoding"); s.val != "" && s.val != "auto" && !isUTF8(s.val) {
		return nil, s.errorf("unsupported client_encoding %q: pqssl works only with UTF8", s.val)
	}
	if s := r.lookup("datestyle"); s.val != "" && !isISOMDY(s.val) {
		return nil, s.errorf(`unsupported datestyle %q: pqssl works only with "ISO, MDY"`, s.val)
	}

	// Protocol versions (PostgreSQL 18, lib/pq).
	pminS, pmaxS := r.lookup("min_protocol_version"), r.lookup("max_protocol_version")
	if c.minProtocolVersion, err = oneOf(pminS, "3.0", "3.0", "3.2", "latest"); err != nil {
		return nil, err
	}
	if c.maxProtocolVersion, err = oneOf(pmaxS, "3.0", "3.0", "3.2", "latest"); err != nil {
		return nil, err
	}
	if protocolRank[c.minProtocolVersion] > protocolRank[c.maxProtocolVersion] {
		if pmaxS.ok {
			return nil, pminS.errorf("min_protocol_version %q cannot be greater than max_protocol_version %q",
				c.minProtocolVersion, c.maxProtocolVersion)
		}
		// As in libpq 18, asking for a newer minimum raises the default
		// maximum.
		c.maxProtocolVersion = "latest"
	}

	// Plain strings.
	c.options = r.lookup("options").val
	c.applicationName = r.lookup("application_name").val
	if c.applicationName == "" {
		c.applicationName = r.lookup("fallback_application_name").val
	}
	c.sslpassword = r.lookup("sslpassword").val
	c.sslkeylogfile = r.lookup("sslkeylogfile").val
	c.krbsrvname = r.lookup("krbsrvname").val
	c.krbspn = r.lookup("krbspn").val
	c.sslsni = true
	if s := r.lookup("sslsni"); s.ok {
		// libpq sends SNI only when the value starts with '1'.
		c.sslsni = strings.HasPrefix(s.val, "1")
	}
	for _, b := range []struct {
		kw  string
		dst *bool
	}{
		{"binary_parameters", &c.binaryParameters},
		{"disable_prepared_binary_result", &c.disablePreparedBinaryResult},
	} {
		if s := r.lookup(b.kw); s.ok {
			if *b.dst, err = parseBool(s); err != nil {
				return nil, err
			}
		}
	}

	// Run-time parameters lib/pq does not send by itself.
	if s := r.lookup("tz"); s.val != "" && !hasKeyFold(c.runtime, "timezone") {
		c.runtime["timezone"] = s.val
	}
	if s := r.lookup("geqo"); s.val != "" && !hasKeyFold(c.runtime, "geqo") {
		c.runtime["geqo"] = s.val
	}

	// Integers libpq parses when it connects.
	if s := r.lookup("connect_timeout"); s.ok {
		t, err := parseIntParam(s, "connect_timeout")
		if err != nil {
			return nil, err
		}
		switch {
		case t <= 0:
			c.connectTimeout = 0
		case t < 2:
			// libpq insists on two seconds, as rounding could otherwise
			// make a one-second timeout expire almost at once.
			c.connectTimeout = 2 * time.Second
		default:
			c.connectTimeout = time.Duration(t) * time.Second
		}
	}
	c.keepalives = true
	if s := r.lookup("keepalives"); s.ok {
		v, err := parseIntParam(s, "keepalives")
		if err != nil {
			return nil, err
		}
		c.keepalives = v != 0
	}
	for _, d := range []struct {
		kw   string
		unit time.Duration
		dst  *time.Duration
	}{
		{"keepalives_idle", time.Second, &c.keepalivesIdle},
		{"keepalives_interval", time.Second, &c.keepalivesInterval},
		{"tcp_user_timeout", time.Millisecond, &c.tcpUserTimeout},
	} {
		if s := r.lookup(d.kw); s.ok {
			v, err := parseIntParam(s, d.kw)
			if err != nil {
				return nil, err
			}
			*d.dst = time.Duration(max(v, 0)) * d.unit
		}
	}
	if s := r.lookup("keepalives_count"); s.ok {
		v, err := parseIntParam(s, "keepalives_count")
		if err != nil {
			return nil, err
		}
		c.keepalivesCount = max(v, 0)
	}

	// Per-host checks, which libpq makes as it tries each host.
	c.hosts = make([]hostSpec, n)
	for i := range c.hosts {
		h := &c.hosts[i]
		if hosts != nil {
			h.host = hosts[i]
		}
		if addrs != nil && addrs[i] != "" {
			a, ok := parseNumericHost(addrs[i])
			if !ok {
				return nil, addrS.errorf("could not parse network address %q", addrs[i])
			}
			h.hostaddr = a
		} else if h.host == "" {
			// libpq defaults to its Unix socket directory; pqssl, like
			// lib/pq, to localhost.
			h.host = defaultHost
		}
		h.port = defaultPort
		if ports[i] != "" {
			v, err := parseIntParam(setting{val: ports[i], name: portS.name, src: portS.src}, "port")
			if err != nil {
				return nil, err
			}
			if v < 1 || v > 65535 {
				return nil, portS.errorf("invalid port number: %q", ports[i])
			}
			h.port = uint16(v)
		}
	}
	if c.loadBalanceHosts == "random" {
		rand.Shuffle(len(c.hosts), func(i, j int) { c.hosts[i], c.hosts[j] = c.hosts[j], c.hosts[i] })
	}
	return c, nil
}

// checkUnsupported rejects libpq features pqssl does not implement where
// ignoring them would weaken what the user asked for.
func (r *resolver) checkUnsupported() error {
	for _, kw := range []string{"requirepeer", "require_auth", "scram_client_key", "scram_server_key"} {
		if s := r.lookup(kw); s.val != "" {
			return s.errorf("pqssl does not support %s", kw)
		}
	}
	for kw := range r.explicit {
		if strings.HasPrefix(kw, "oauth_") && r.explicit[kw] != "" {
			return setting{name: kw, src: sourceString}.errorf("pqssl does not support OAuth authentication")
		}
	}
	for kw, v := range r.service {
		if strings.HasPrefix(kw, "oauth_") && v != "" {
			return setting{name: kw, src: r.serviceSrc}.errorf("pqssl does not support OAuth authentication")
		}
	}
	if s := r.lookup("gssencmode"); s.val == "require" {
		return s.errorf("pqssl does not support GSSAPI encryption")
	}
	if s := r.lookup("gssdelegation"); strings.HasPrefix(s.val, "1") {
		return s.errorf("pqssl does not support GSSAPI credential delegation")
	}
	if s := r.lookup("replication"); s.val != "" {
		switch strings.ToLower(s.val) {
		case "false", "0", "off", "no":
		default:
			return s.errorf("pqssl does not support replication connections")
		}
	}
	return nil
}

func hasKeyFold(m map[string]string, key string) bool {
	for k := range m {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// isUTF8 recognises the spellings of UTF-8 the server accepts, as lib/pq
// does: letters and digits only, case-insensitive, "utf8" or "unicode".
func isUTF8(name string) bool {
	s := strings.Map(func(c rune) rune {
		switch {
		case 'A' <= c && c <= 'Z':
			return c + ('a' - 'A')
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			return c
		}
		return -1
	}, name)
	return s == "utf8" || s == "unicode"
}

// isISOMDY reports whether a DateStyle value is "ISO, MDY", ignoring case
// and spaces around the comma.
func isISOMDY(v string) bool {
	a, b, ok := strings.Cut(v, ",")
	return ok && strings.EqualFold(strings.TrimSpace(a), "ISO") && strings.EqualFold(strings.TrimSpace(b), "MDY")
}

// parseNumericHost parses hostaddr the way libpq's getaddrinfo call with
// AI_NUMERICHOST does on glibc, and returns the canonical form. IPv4 uses
// inet_aton's syntax (1 to 4 parts; decimal, octal or hex), so 127.1 and
// 0x7f.1 are accepted. IPv6 may carry a zone: a number, or an interface
// name for link-local addresses.
func parseNumericHost(s string) (string, bool) {
	if a, ok := cparse.Exact(s); ok {
		return netip.AddrFrom4(a).String(), true
	}
	addr, zone, hasZone := strings.Cut(s, "%")
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return "", false
	}
	if hasZone {
		if !validZone(a, zone) {
			return "", false
		}
		a = a.WithZone(zone)
	}
	return a.String(), true
}

func validZone(a netip.Addr, zone string) bool {
	if zone == "" {
		return false
	}
	if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
		if _, err := net.InterfaceByName(zone); err == nil {
			return true
		}
	}
	if zone[0] < '0' || zone[0] > '9' {
		return false
	}
	_, err := strconv.ParseUint(zone, 10, 32)
	return err == nil
}
