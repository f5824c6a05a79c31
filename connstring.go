// This file holds the two syntaxes of a libpq connection string, key=value
// and URI, parsed as conninfo_parse and conninfo_uri_parse do.

package pqssl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pqssl/pqssl/internal/cparse"
)

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
