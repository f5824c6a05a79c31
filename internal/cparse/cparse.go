// Package cparse holds the C library parsing routines whose exact rules
// libpq, glibc and OpenSSL apply to connection parameters and certificate
// names: isspace in the "C" locale, hexadecimal digits, strtol and strtoul,
// and inet_aton. pqssl must accept and reject exactly what they do, which Go's
// strconv and net/netip do not.
package cparse

// IsSpace is isspace in the "C" locale.
func IsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// TrimSpace removes the IsSpace bytes at both ends of s.
func TrimSpace(s string) string {
	for len(s) > 0 && IsSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && IsSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// Unhex returns the value of the hexadecimal digit c.
func Unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Strtoul parses the longest prefix of s that strtoul(s, &end, 0) accepts
// when s starts with a digit: decimal, octal after a leading 0, hexadecimal
// after 0x or 0X when a hex digit follows. It returns the value and the rest
// of s. ok is false when s does not start with a digit or the value overflows
// 64 bits (strtoul's ERANGE).
func Strtoul(s string) (v uint64, rest string, ok bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, s, false
	}
	base := uint64(10)
	i := 0
	if s[0] == '0' {
		base, i = 8, 1
		if len(s) > 2 && (s[1] == 'x' || s[1] == 'X') {
			if _, isHex := Unhex(s[2]); isHex {
				base, i = 16, 2
			}
		}
	}
	for ; i < len(s); i++ {
		d, isHex := Unhex(s[i])
		if !isHex || uint64(d) >= base {
			break
		}
		if v > (1<<64-1-uint64(d))/base {
			return 0, s, false
		}
		v = v*base + uint64(d)
	}
	return v, s[i:], true
}

// Strtol parses a decimal integer the way strtol(s, &end, 10) does: leading
// IsSpace bytes, an optional sign, then at least one digit. It returns the
// value and the rest of s; ok is false when there are no digits or the value
// overflows 64 bits (strtol's ERANGE).
func Strtol(s string) (v int64, rest string, ok bool) {
	i := 0
	for i < len(s) && IsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var u uint64
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		u = u*10 + uint64(s[i]-'0')
		if u > 1<<63 {
			return 0, s, false
		}
	}
	if i == start {
		return 0, s, false
	}
	if neg {
		return -int64(u), s[i:], true
	}
	if u > 1<<63-1 {
		return 0, s, false
	}
	return int64(u), s[i:], true
}

// InetAton parses the IPv4 address at the start of s as glibc's inet_aton
// does: one to four parts separated by dots, each a Strtoul number, every
// part but the last at most 255, the last filling the remaining bytes. It
// returns the address and what follows it. The callers' rules differ in what
// may follow: inet_aton (libpq's host name check) accepts anything after a
// white-space byte, while getaddrinfo with AI_NUMERICHOST (hostaddr) accepts
// nothing; see Exact and Lenient.
func InetAton(s string) (addr [4]byte, rest string, ok bool) {
	var parts [4]uint64
	n := 0
	for {
		v, r, ok := Strtoul(s)
		if !ok {
			return addr, s, false
		}
		parts[n] = v
		n++
		s = r
		if s == "" || s[0] != '.' {
			break
		}
		if n == 4 || v > 0xff {
			return addr, s, false
		}
		s = s[1:]
	}
	last := parts[n-1]
	if last > uint64(0xffffffff)>>(8*(n-1)) {
		return addr, s, false
	}
	var v uint32
	for i, p := range parts[:n-1] {
		v |= uint32(p) << (24 - 8*i)
	}
	v |= uint32(last)
	return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}, s, true
}

// Exact is InetAton with nothing allowed after the address, as
// getaddrinfo's AI_NUMERICHOST parsing (glibc's inet_aton_exact) requires.
func Exact(s string) ([4]byte, bool) {
	a, rest, ok := InetAton(s)
	return a, ok && rest == ""
}

// Lenient is inet_aton itself: the address may be followed by white space
// and anything after it.
func Lenient(s string) ([4]byte, bool) {
	a, rest, ok := InetAton(s)
	return a, ok && (rest == "" || IsSpace(rest[0]))
}
