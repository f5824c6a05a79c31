// This file holds the password file (~/.pgpass), matched as libpq matches
// it.

package pgauth

import (
	"bufio"
	"io"
	"os"
	"runtime"
	"strings"
)

// pgpassSocketDir is the socket directory libpq was built with on Debian and
// Ubuntu (DEFAULT_PGSOCKET_DIR). A password file entry for "localhost"
// applies to connections through it, as in libpq.
const pgpassSocketDir = "/var/run/postgresql"

// pgpassDefaultPort is libpq's DEF_PGPORT_STR, used when a host has no port.
const pgpassDefaultPort = "5432"

// endpoint is the host a password file entry must match, as the root
// package's host list resolved it.
type endpoint struct {
	host     string // host name, IP literal or socket directory; "" when only hostaddr was given
	hostaddr string // numeric address, "" when not given
	port     string // "" for libpq's default
}

// passwordFromFile returns the password that the password file at path holds
// for a connection to h as user to dbname, and whether it found one. It
// follows libpq's passwordFromFile: the host searched for is h's host, else
// its hostaddr, with "localhost" standing for the default socket directory;
// a file that is missing, not a regular file, or readable or writable by
// group or others is ignored (libpq warns on stderr; pqssl stays silent).
func passwordFromFile(path string, h endpoint, dbname, user string) (string, bool) {
	if path == "" || dbname == "" || user == "" {
		return "", false
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	// On Windows libpq relies on the protection of the user's profile
	// directory instead.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return "", false
	}
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	return lookupPgpass(f, pgpassHost(h), pgpassPort(h), dbname, user)
}

// pgpassHost is the host name a password file entry is matched against.
func pgpassHost(h endpoint) string {
	host := h.host
	if host == "" {
		host = h.hostaddr
	}
	// libpq compares socket directories as text, without canonicalising
	// them: only the exact default directory counts as "localhost".
	if host == "" || host == pgpassSocketDir {
		return "localhost"
	}
	return host
}

// pgpassPort is the port a password file entry is matched against.
func pgpassPort(h endpoint) string {
	if h.port == "" {
		return pgpassDefaultPort
	}
	return h.port
}

// lookupPgpass scans a password file for the first entry matching host,
// port, dbname and user, and returns its password. Each entry is a line
// host:port:database:username:password; a field "*" matches anything; a
// backslash makes the next character literal (so "\:" and "\\" stand for
// ":" and "\"); lines starting with "#" are comments; text after the
// password's first unescaped ":" is ignored.
func lookupPgpass(r io.Reader, host, port, dbname, user string) (string, bool) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			if pw, ok := matchPgpassLine(line, host, port, dbname, user); ok {
				return pw, true
			}
		}
		if err != nil {
			// End of file, or a read error, which also ends libpq's
			// search.
			return "", false
		}
	}
}

// matchPgpassLine matches one line of a password file.
func matchPgpassLine(line, host, port, dbname, user string) (string, bool) {
	// libpq handles each line as a C string.
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	if strings.HasPrefix(line, "#") {
		return "", false
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", false
	}
	rest := line
	for _, tok := range [...]string{host, port, dbname, user} {
		var ok bool
		if rest, ok = matchPgpassField(rest, tok); !ok {
			return "", false
		}
	}
	// The password runs to the first unescaped ':' or the end of the line.
	var b strings.Builder
	for i := 0; i < len(rest) && rest[i] != ':'; i++ {
		if rest[i] == '\\' && i+1 < len(rest) {
			i++
		}
		b.WriteByte(rest[i])
	}
	return b.String(), true
}

// matchPgpassField reports whether the field at the start of s matches tok,
// and returns what follows the field's terminating ':'. A field that is just
// "*" matches anything; otherwise the field, with backslash escapes removed,
// must equal tok byte for byte. A field that is not followed by ':' (the end
// of the line) never matches.
func matchPgpassField(s, tok string) (string, bool) {
	if strings.HasPrefix(s, "*:") {
		return s[2:], true
	}
	j := 0 // position in tok
	for i := 0; i < len(s); i++ {
		escaped := false
		if s[i] == '\\' {
			i++
			escaped = true
			if i == len(s) {
				// A trailing backslash escapes nothing and matches
				// nothing.
				return "", false
			}
		}
		if s[i] == ':' && !escaped && j == len(tok) {
			return s[i+1:], true
		}
		if j == len(tok) || s[i] != tok[j] {
			return "", false
		}
		j++
	}
	return "", false
}
