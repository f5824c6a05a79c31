// This file holds the normalization of error messages into the stable text
// the report shows, and the classes of failure a message names.

package conformance

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// maxMessage bounds the length of a message in the report.
const maxMessage = 240

var (
	// libpq and pqssl prefix each attempt's error with the server address.
	attemptPrefix = regexp.MustCompile(`^connection to server at "[^"]*"(?: \([^)]*\))?, port \S+ failed: `)
	// pgx names the user and database, then each attempt's address.
	pgxHeader = regexp.MustCompile("^failed to connect to `[^`]*`: ?")
	pgxPrefix = regexp.MustCompile(`^\S+:PORT \([^)]*\): `)
	timestamp = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})`)
	spaces    = regexp.MustCompile(`\s+`)
	// Serial numbers of the certificates made for this run.
	serial = regexp.MustCompile(`\bserial(?: number)?(?: is)?[ :=]+(?:0x)?[0-9A-Fa-f][0-9A-Fa-f:]*`)
	// The client's own ephemeral port in Go's network errors.
	localPort = regexp.MustCompile(`(\d+\.\d+\.\d+\.\d+|\[[0-9a-fA-F:]+\]):\d+->`)
)

// Normalize turns a driver's error message into the stable text the report
// shows: psql's "psql: error: " and the per-attempt "connection to server
// at ... failed: " prefixes go, the case's home directory becomes "~", the
// given port numbers "PORT", timestamps "TIME", serial numbers "serial N",
// and the lines of a multi-line message are joined with " / ".
func Normalize(msg, home string, ports ...int) string {
	msg = strings.TrimSpace(msg)
	msg = strings.TrimPrefix(msg, "psql: error: ")
	if home != "" {
		msg = strings.ReplaceAll(msg, home, "~")
	}
	for _, p := range ports {
		if p <= 0 {
			continue
		}
		re := regexp.MustCompile(`\b` + strconv.Itoa(p) + `\b`)
		msg = re.ReplaceAllString(msg, "PORT")
	}
	msg = timestamp.ReplaceAllString(msg, "TIME")
	msg = localPort.ReplaceAllString(msg, "${1}:PORT->")
	msg = serial.ReplaceAllString(msg, "serial N")
	// Embedded NULs (from certificates that hold them) stay visible.
	msg = strings.ReplaceAll(msg, "\x00", `\0`)
	var parts []string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "psql: error: ")
		line = pgxHeader.ReplaceAllString(line, "")
		line = attemptPrefix.ReplaceAllString(line, "")
		line = pgxPrefix.ReplaceAllString(line, "")
		line = spaces.ReplaceAllString(line, " ")
		if line != "" {
			parts = append(parts, line)
		}
	}
	msg = strings.Join(parts, " / ")
	if len(msg) > maxMessage {
		cut := maxMessage
		for cut > 0 && !isRuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

var (
	dsnKey = regexp.MustCompile(`(?:^|[\s?&])([A-Za-z_]+)\s*=`)
	// Server errors about a setting a driver sent as a run-time parameter.
	// Drivers send them in map order, so with several such settings the
	// one the server names varies from run to run.
	paramError = regexp.MustCompile(`(unrecognized configuration parameter |parameter )"([A-Za-z_]+)"`)
)

// foreignKeys are libpq keywords that lib/pq or pgx do not all know and
// may send to the server as settings.
var foreignKeys = map[string]bool{
	"sslcrl": true, "sslcrldir": true, "sslcertmode": true, "sslcompression": true, "hostaddr": true,
	"ssl_min_protocol_version": true, "ssl_max_protocol_version": true, "sslsni": true, "requiressl": true,
}

// disambiguate rewrites a server error naming one of several settings the
// connection string dsn sent as run-time parameters so that it names all of
// them: which one the server reports first depends on the driver's map
// order.
func disambiguate(msg, dsn string) string {
	var keys []string
	for _, m := range dsnKey.FindAllStringSubmatch(dsn, -1) {
		if k := m[1]; foreignKeys[k] && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) < 2 {
		return msg
	}
	slices.Sort(keys)
	return paramError.ReplaceAllStringFunc(msg, func(s string) string {
		m := paramError.FindStringSubmatch(s)
		if !slices.Contains(keys, m[2]) {
			return s
		}
		return m[1] + "(one of " + strings.Join(keys, ", ") + ")"
	})
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// failure classes, in the order Classify reports them.
var classes = []struct {
	name string
	subs []string
}{
	{"config", []string{"invalid connection option", "invalid sslmode value", "invalid ssl_min_protocol_version", "invalid ssl_max_protocol_version", `invalid "ssl_min_protocol_version"`, `invalid "ssl_max_protocol_version"`,
		"invalid SSL protocol version range", "invalid sslcertmode", "invalid value for parameter", "invalid value for connection parameter", "invalid sslnegotiation", "is not supported; supported values",
		"pqssl: parameter", "ParameterError", "weak sslmode", "invalid %s value", "unsupported sslmode", "cannot parse", "invalid port", "is not supported", "invalid URI"}},
	{"root-missing", []string{"root certificate file", "does not exist"}},
	{"root-file", []string{"could not read root certificate", "no certificate or crl found", "failed to parse root certificate", "couldn't parse pem in sslrootcert", "unable to read CA file"}},
	{"client-key", []string{"private key", "certificate present, but not private key", "could not load private key", "could not read certificate file", "could not load certificate", "has group or world access", "certificate does not match private key", "tls: failed to find any PEM data", "failed to load certificate"}},
	{"hostname", []string{"does not match host name", "could not get server's host name", "embedded null", "host name must be specified", "certificate is valid for", "certificate is not valid for any names", "doesn't contain any IP SANs", "not standards compliant"}},
	// The server's TLS stack refused the client's certificate with an alert.
	{"peer-rejected", []string{"alert unknown ca", "tls: unknown certificate authority", "alert bad certificate", "tls: bad certificate",
		"alert certificate required", "tls: certificate required"}},
	{"verify", []string{"certificate verify failed", "x509: "}},
	{"certmode", []string{"server did not request an SSL certificate", "server accepted connection without a valid SSL certificate"}},
	{"no-ssl", []string{"server does not support SSL", "server refused TLS connection", "SSL is not enabled on the server"}},
	{"hba", []string{"no pg_hba.conf entry", "pg_hba.conf rejects"}},
	{"server-cert-auth", []string{"connection requires a valid client certificate", "certificate authentication failed", "could not accept SSL connection"}},
	{"tls", []string{"SSL error", "tls: ", "SSL SYSCALL", "handshake", "alert", "unsupported protocol", "no protocols available", "wrong version number", "EOF detected", "unexpected EOF", "server closed the connection unexpectedly", "connection reset"}},
	{"timeout", []string{"timeout expired", "i/o timeout", "deadline exceeded"}},
	{"refused", []string{"Connection refused", "connection refused"}},
}

// Classify names the kinds of failure a normalized message reports, joined
// with "+" when the message holds several attempts (for instance
// "verify+hba" when a TLS attempt failed verification and the plaintext
// retry was refused by pg_hba.conf). Each " / "-separated part of the
// message gets the first class whose texts it contains, "other" when none.
// Comparing classes rather than texts lets messages differ in wording (libpq
// 15 says only "certificate verify failed", pqssl names the reason) while
// still requiring the same reason for failing.
func Classify(msg string) string {
	if msg == "" {
		return ""
	}
	var out []string
	for _, part := range strings.Split(msg, " / ") {
		c := classify(part)
		if c == "" {
			continue
		}
		if len(out) == 0 || out[len(out)-1] != c {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "other"
	}
	// Hint lines and repeated attempts do not make new kinds.
	return strings.Join(compact(out), "+")
}

func compact(s []string) []string {
	var out []string
	for _, c := range s {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func classify(part string) string {
	// libpq's hint after a missing root file is not a failure of its own.
	if strings.HasPrefix(part, "Either provide the file") || strings.HasPrefix(part, "Is the server running") ||
		strings.HasPrefix(part, "This may indicate that the server does not support") ||
		strings.HasPrefix(part, "Enter PEM pass phrase") ||
		strings.HasPrefix(part, "DETAIL:") || strings.HasPrefix(part, "HINT:") {
		return ""
	}
	for _, c := range classes {
		if c.name == "root-missing" {
			if strings.Contains(part, c.subs[0]) && strings.Contains(part, c.subs[1]) {
				return c.name
			}
			continue
		}
		for _, s := range c.subs {
			if strings.Contains(part, s) {
				return c.name
			}
		}
	}
	return "other"
}
