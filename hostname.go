// This file holds host name matching for verify-full, by libpq's rules
// rather than OpenSSL's or crypto/x509's.

package pqssl

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pqssl/pqssl/internal/cparse"
	"github.com/pqssl/pqssl/internal/oid"
)

// verifyHostname checks the server certificate against host as libpq's
// verify-full does. The host is an IP address when inet_aton accepts it or
// it is an IPv6 address. subjectAltName entries are examined in order:
// dNSName entries are compared with the host as text (also for an IP host),
// iPAddress entries byte-wise with the host's address. The first Common Name
// is consulted only when there is no subjectAltName entry of the host's own
// kind and no entry matched. Comparison is ASCII case-insensitive; a name
// "*.rest" matches a host ending in ".rest" whose part before it holds no
// other dot.
func verifyHostname(leaf *x509.Certificate, host string) error {
	_, err := hostnameMatch(leaf, host)
	return err
}

// hostnameMatch is verifyHostname, returning the name that matched.
func hostnameMatch(leaf *x509.Certificate, host string) (*HostMatch, error) {
	// libpq's host is a C string.
	if i := strings.IndexByte(host, 0); i >= 0 {
		host = host[:i]
	}
	if host == "" {
		return nil, &HostnameError{Certificate: leaf}
	}
	hostType := gnDNSName
	if isIPAddress(host) {
		hostType = gnIPAddress
	}
	e := &HostnameError{Certificate: leaf, Host: host}
	checkCN := true
	if ext, ok := findExtension(leaf, oid.SubjectAltName); ok {
		sans, _ := parseGeneralNames(ext.Value)
		for _, gn := range sans {
			if gn.tag == hostType {
				checkCN = false
			}
			var matched bool
			var err error
			switch gn.tag {
			case gnDNSName:
				matched, err = matchName(e, gn.value, host)
			case gnIPAddress:
				matched, err = matchIP(e, gn.value, host)
			default:
				continue
			}
			if err != nil {
				e.Err = err
				return nil, e
			}
			if matched {
				return newHostMatch(host, e.Names[len(e.Names)-1], gn.tag), nil
			}
		}
	}
	if checkCN {
		if subj, err := parseName(leaf.RawSubject); err == nil {
			for _, a := range subj.attrs {
				if a.oid.Equal(oid.CommonName) {
					matched, err := matchName(e, a.value, host)
					if err != nil {
						e.Err = err
						return nil, e
					}
					if matched {
						return newHostMatch(host, string(a.value), -1), nil
					}
					break
				}
			}
		}
	}
	return nil, e
}

// newHostMatch describes a match of name, from a general name of the given
// tag or (tag -1) the Common Name.
func newHostMatch(host, name string, tag int) *HostMatch {
	m := &HostMatch{Host: host, Name: name, Kind: "commonName", Wildcard: strings.HasPrefix(name, "*.")}
	switch tag {
	case gnDNSName:
		m.Kind = "dNSName"
	case gnIPAddress:
		m.Kind, m.Wildcard = "iPAddress", false
	}
	return m
}

// matchName compares a dNSName or Common Name (raw bytes, as libpq takes
// them) with the host, recording it among the names examined.
func matchName(e *HostnameError, name []byte, host string) (bool, error) {
	if bytes.IndexByte(name, 0) >= 0 {
		return false, errors.New("SSL certificate's name contains embedded null")
	}
	e.Names = append(e.Names, string(name))
	return asciiEqualFold(name, []byte(host)) || wildcardMatch(string(name), host), nil
}

// matchIP compares an iPAddress entry with the host, recording it among the
// names examined in printable form.
func matchIP(e *HostnameError, ip []byte, host string) (bool, error) {
	var matched bool
	switch len(ip) {
	case 4:
		if a, ok := cparse.Lenient(host); ok {
			matched = bytes.Equal(ip, a[:])
		}
	case 16:
		if a, ok := parseIPv6(host); ok {
			b := a.As16()
			matched = bytes.Equal(ip, b[:])
		}
	default:
		return false, fmt.Errorf("certificate contains IP address with invalid length %d", len(ip))
	}
	e.Names = append(e.Names, formatIP(ip))
	return matched, nil
}

// wildcardMatch is libpq's wildcard_certificate_match: the pattern must be
// "*." followed by at least one character; the host must end in the pattern
// without its "*", and the first dot of the host must not come before the
// last character the "*" stands for. (So "*.b" also matches "a..b".)
func wildcardMatch(pattern, host string) bool {
	lp, ls := len(pattern), len(host)
	if lp < 3 || pattern[0] != '*' || pattern[1] != '.' || lp > ls {
		return false
	}
	if !asciiEqualFold([]byte(pattern[1:]), []byte(host[ls-lp+1:])) {
		return false
	}
	if i := strings.IndexByte(host, '.'); i < ls-lp {
		return false
	}
	return true
}

// isIPAddress reports whether libpq takes host for an IP address.
func isIPAddress(host string) bool {
	if _, ok := cparse.Lenient(host); ok {
		return true
	}
	_, ok := parseIPv6(host)
	return ok
}

// parseIPv6 accepts what inet_pton(AF_INET6) accepts: no zone, no brackets,
// not a plain IPv4 address.
func parseIPv6(s string) (netip.Addr, bool) {
	if !strings.Contains(s, ":") || strings.Contains(s, "%") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

// formatIP prints an iPAddress entry as PostgreSQL's inet_net_ntop does:
// dotted quad for IPv4; for IPv6 the RFC 5952 form, except that an
// IPv4-compatible address (::a.b.c.d) keeps its dotted tail.
func formatIP(ip []byte) string {
	if len(ip) == 4 {
		return netip.AddrFrom4([4]byte(ip)).String()
	}
	a := netip.AddrFrom16([16]byte(ip))
	if bytes.Equal(ip[:12], make([]byte, 12)) && (ip[12] != 0 || ip[13] != 0) {
		return "::" + netip.AddrFrom4([4]byte(ip[12:])).String()
	}
	return a.String()
}
