// This file holds the resolution of parameters into a config, in named
// steps that run in libpq's order.

package pqssl

import (
	"crypto/tls"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pqssl/pqssl/internal/cparse"
	"github.com/pqssl/pqssl/internal/pgauth"
)

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
	hosts, err := r.hostList()
	if err != nil {
		return nil, err
	}
	for _, step := range []func(*config) error{
		r.resolveUser,
		func(*config) error { return r.checkUnsupported() },
		r.resolveTLS,
		r.resolveSession,
		r.resolveProtocol,
		r.resolveTCP,
		hosts.resolveHosts,
	} {
		if err := step(c); err != nil {
			return nil, err
		}
	}
	for kw := range keywords {
		r.lookup(kw) // so that Config shows where every keyword came from
	}
	c.sources = r.looked
	return c, nil
}

// hostList is the host, hostaddr and port lists of a connection string,
// matched up by position.
type hostList struct {
	n                   int
	hosts, addrs, ports []string
	addrS, portS        setting
}

// hostList splits host, hostaddr and port, checking that their lengths
// agree as libpq's connectOptions2 does.
func (r *resolver) hostList() (*hostList, error) {
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

	return &hostList{n: n, hosts: hosts, addrs: addrs, ports: ports, addrS: addrS, portS: portS}, nil
}

// resolveHosts fills in each host's address and port, with the checks libpq
// makes as it tries each host, and shuffles them for load_balance_hosts.
func (l *hostList) resolveHosts(c *config) error {
	c.hosts = make([]hostSpec, l.n)
	for i := range c.hosts {
		h := &c.hosts[i]
		if l.hosts != nil {
			h.host = l.hosts[i]
		}
		if l.addrs != nil && l.addrs[i] != "" {
			a, ok := parseNumericHost(l.addrs[i])
			if !ok {
				return l.addrS.errorf("could not parse network address %q", l.addrs[i])
			}
			h.hostaddr = a
		} else if h.host == "" {
			// libpq defaults to its Unix socket directory; pqssl, like
			// lib/pq, to localhost.
			h.host = defaultHost
		}
		h.port = defaultPort
		if l.ports[i] != "" {
			v, err := parseIntParam(setting{val: l.ports[i], name: l.portS.name, src: l.portS.src}, "port")
			if err != nil {
				return err
			}
			if v < 1 || v > 65535 {
				return l.portS.errorf("invalid port number: %q", l.ports[i])
			}
			h.port = uint16(v)
		}
	}
	if c.loadBalanceHosts == "random" {
		rand.Shuffle(len(c.hosts), func(i, j int) { c.hosts[i], c.hosts[j] = c.hosts[j], c.hosts[i] })
	}
	return nil
}

// resolveUser sets the user, database and password parameters.
func (r *resolver) resolveUser(c *config) error {
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
			return &ParameterError{Name: "user", Source: sourceDefault,
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
	s := r.lookup("require_auth")
	req, err := pgauth.ParseRequirement(s.val)
	if err != nil {
		return s.errorf("%v", err)
	}
	if !req.Feasible() {
		return s.errorf("require_auth %q allows only methods pqssl does not perform (gss, sspi, oauth)", s.val)
	}
	c.requireAuth = req
	return nil
}

// resolveTLS sets channel_binding and the TLS parameters: sslmode,
// sslnegotiation, the files, protocol versions and sslcertmode.
func (r *resolver) resolveTLS(c *config) error {
	var err error
	if c.channelBinding, err = oneOf(r.lookup("channel_binding"), "prefer", "disable", "prefer", "require"); err != nil {
		return err
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
		return err
	}
	c.sslmodeSet = modeS.ok
	if c.sslnegotiation, err = oneOf(r.lookup("sslnegotiation"), "postgres", "postgres", "direct"); err != nil {
		return err
	}
	if c.sslnegotiation == "direct" {
		switch c.sslmode {
		case "disable", "allow", "prefer":
			return modeS.errorf(`weak sslmode %q may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")`, c.sslmode)
		}
	}

	inlineS := r.lookup("sslinline")
	if inlineS.ok {
		if c.sslinline, err = parseBool(inlineS); err != nil {
			return err
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
			return modeS.errorf(`weak sslmode %q may not be used with sslrootcert=system (use "verify-full")`, c.sslmode)
		}
	}

	minS, maxS := r.lookup("ssl_min_protocol_version"), r.lookup("ssl_max_protocol_version")
	c.sslMinVersion = tls.VersionTLS12
	minSet := minS.ok && minS.val != ""
	if minSet {
		v, ok := sslVersions[strings.ToLower(minS.val)]
		if !ok {
			return minS.errorf(`invalid "ssl_min_protocol_version" value: %q`, minS.val)
		}
		c.sslMinVersion = v
	}
	if maxS.ok && maxS.val != "" {
		v, ok := sslVersions[strings.ToLower(maxS.val)]
		if !ok {
			return maxS.errorf(`invalid "ssl_max_protocol_version" value: %q`, maxS.val)
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
		return s.errorf("invalid SSL protocol version range")
	}

	if c.sslcertmode, err = oneOf(r.lookup("sslcertmode"), "allow", "disable", "allow", "require"); err != nil {
		return err
	}
	if _, err = oneOf(r.lookup("gssencmode"), "disable", "disable", "prefer", "require"); err != nil {
		return err
	}
	c.sslpassword = r.lookup("sslpassword").val
	c.sslkeylogfile = r.lookup("sslkeylogfile").val
	c.sslsni = true
	if s := r.lookup("sslsni"); s.ok {
		// libpq sends SNI only when the value starts with '1'.
		c.sslsni = strings.HasPrefix(s.val, "1")
	}
	return nil
}

// resolveSession sets the parameters of the session: target_session_attrs,
// load balancing, encoding and date style, and the run-time parameters lib/pq
// does not send by itself.
func (r *resolver) resolveSession(c *config) error {
	var err error
	if c.targetSessionAttrs, err = oneOf(r.lookup("target_session_attrs"), "any",
		"any", "read-write", "read-only", "primary", "standby", "prefer-standby"); err != nil {
		return err
	}
	if c.loadBalanceHosts, err = oneOf(r.lookup("load_balance_hosts"), "disable", "disable", "random"); err != nil {
		return err
	}

	// Encoding and date style: lib/pq can only work with UTF8 and ISO, MDY.
	if s := r.lookup("client_encoding"); s.val != "" && s.val != "auto" && !isUTF8(s.val) {
		return s.errorf("unsupported client_encoding %q: pqssl works only with UTF8", s.val)
	}
	if s := r.lookup("datestyle"); s.val != "" && !isISOMDY(s.val) {
		return s.errorf(`unsupported datestyle %q: pqssl works only with "ISO, MDY"`, s.val)
	}

	c.options = r.lookup("options").val
	c.applicationName = r.lookup("application_name").val
	if c.applicationName == "" {
		c.applicationName = r.lookup("fallback_application_name").val
	}
	c.krbsrvname = r.lookup("krbsrvname").val
	c.krbspn = r.lookup("krbspn").val
	// Run-time parameters lib/pq does not send by itself.
	if s := r.lookup("tz"); s.val != "" && !hasKeyFold(c.runtime, "timezone") {
		c.runtime["timezone"] = s.val
	}
	if s := r.lookup("geqo"); s.val != "" && !hasKeyFold(c.runtime, "geqo") {
		c.runtime["geqo"] = s.val
	}
	return nil
}

// resolveProtocol sets the protocol versions and lib/pq's binary-format
// options.
func (r *resolver) resolveProtocol(c *config) error {
	var err error
	// Protocol versions (PostgreSQL 18, lib/pq).
	pminS, pmaxS := r.lookup("min_protocol_version"), r.lookup("max_protocol_version")
	if c.minProtocolVersion, err = oneOf(pminS, "3.0", "3.0", "3.2", "latest"); err != nil {
		return err
	}
	if c.maxProtocolVersion, err = oneOf(pmaxS, "3.0", "3.0", "3.2", "latest"); err != nil {
		return err
	}
	if c.minProtocolVersion != "3.0" {
		c.minProtocolMinor = 2 // 3.2, which "latest" is today
	}
	if protocolRank[c.minProtocolVersion] > protocolRank[c.maxProtocolVersion] {
		if pmaxS.ok {
			return pminS.errorf(`"min_protocol_version" is greater than "max_protocol_version"`)
		}
		// As in libpq 18, asking for a newer minimum raises the default
		// maximum.
		c.maxProtocolVersion = "latest"
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
				return err
			}
		}
	}
	return nil
}

// resolveTCP sets connect_timeout and the TCP keepalive parameters.
func (r *resolver) resolveTCP(c *config) error {
	// Integers libpq parses when it connects.
	if s := r.lookup("connect_timeout"); s.ok {
		t, err := parseIntParam(s, "connect_timeout")
		if err != nil {
			return err
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
			return err
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
				return err
			}
			*d.dst = time.Duration(max(v, 0)) * d.unit
		}
	}
	if s := r.lookup("keepalives_count"); s.ok {
		v, err := parseIntParam(s, "keepalives_count")
		if err != nil {
			return err
		}
		c.keepalivesCount = max(v, 0)
	}
	return nil
}

// checkUnsupported rejects libpq features pqssl does not implement where
// ignoring them would weaken what the user asked for.
func (r *resolver) checkUnsupported() error {
	for _, kw := range []string{"requirepeer", "scram_client_key", "scram_server_key"} {
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
