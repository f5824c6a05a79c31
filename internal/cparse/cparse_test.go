package cparse

import "testing"

func TestInetAton(t *testing.T) {
	tests := []struct {
		in       string
		addr     [4]byte
		exact    bool // getaddrinfo AI_NUMERICHOST
		lenient  bool // inet_aton
		restWant string
	}{
		{"127.0.0.1", [4]byte{127, 0, 0, 1}, true, true, ""},
		{"127.1", [4]byte{127, 0, 0, 1}, true, true, ""},
		{"0x7f.1", [4]byte{127, 0, 0, 1}, true, true, ""},
		{"0177.0.0.01", [4]byte{127, 0, 0, 1}, true, true, ""},
		{"2130706433", [4]byte{127, 0, 0, 1}, true, true, ""},
		{"10.65535", [4]byte{10, 0, 255, 255}, true, true, ""},
		{"10.1.65535", [4]byte{10, 1, 255, 255}, true, true, ""},
		{"10.1.65536", [4]byte{}, false, false, ""},
		{"4294967295", [4]byte{255, 255, 255, 255}, true, true, ""},
		{"4294967296", [4]byte{}, false, false, ""},
		{"256.1", [4]byte{}, false, false, ""},
		{"1.2.3.4.5", [4]byte{}, false, false, ""},
		{"1.2.3.", [4]byte{}, false, false, ""},
		{".1", [4]byte{}, false, false, ""},
		{"", [4]byte{}, false, false, ""},
		{"08", [4]byte{}, false, false, ""},
		{"0x", [4]byte{}, false, false, ""},
		{"1.2.3.4 junk", [4]byte{1, 2, 3, 4}, false, true, " junk"},
		{"1.2.3.4\tx", [4]byte{1, 2, 3, 4}, false, true, "\tx"},
		{"1.2.3.4x", [4]byte{}, false, false, ""},
		{"99999999999999999999999", [4]byte{}, false, false, ""},
		{"+1", [4]byte{}, false, false, ""},
		{" 1", [4]byte{}, false, false, ""},
	}
	for _, tt := range tests {
		a, ok := Exact(tt.in)
		if ok != tt.exact || ok && a != tt.addr {
			t.Errorf("Exact(%q) = %v, %v; want %v, %v", tt.in, a, ok, tt.addr, tt.exact)
		}
		a, ok = Lenient(tt.in)
		if ok != tt.lenient || ok && a != tt.addr {
			t.Errorf("Lenient(%q) = %v, %v; want %v, %v", tt.in, a, ok, tt.addr, tt.lenient)
		}
		if _, rest, ok := InetAton(tt.in); ok && tt.lenient && rest != tt.restWant {
			t.Errorf("InetAton(%q) rest = %q, want %q", tt.in, rest, tt.restWant)
		}
	}
}

func TestStrtoul(t *testing.T) {
	tests := []struct {
		in   string
		v    uint64
		rest string
		ok   bool
	}{
		{"0", 0, "", true},
		{"10", 10, "", true},
		{"010", 8, "", true},
		{"019", 1, "9", true},
		{"0x1F", 31, "", true},
		{"0X1fg", 31, "g", true},
		{"0xg", 0, "xg", true},
		{"18446744073709551615", 1<<64 - 1, "", true},
		{"18446744073709551616", 0, "18446744073709551616", false},
		{"x", 0, "x", false},
		{"", 0, "", false},
	}
	for _, tt := range tests {
		v, rest, ok := Strtoul(tt.in)
		if v != tt.v || rest != tt.rest || ok != tt.ok {
			t.Errorf("Strtoul(%q) = %d, %q, %v; want %d, %q, %v", tt.in, v, rest, ok, tt.v, tt.rest, tt.ok)
		}
	}
}

func TestStrtol(t *testing.T) {
	tests := []struct {
		in   string
		v    int64
		rest string
		ok   bool
	}{
		{"42", 42, "", true},
		{" \t\n\v\f\r-7 ", -7, " ", true},
		{"+5x", 5, "x", true},
		{"-", 0, "-", false},
		{"  ", 0, "  ", false},
		{"9223372036854775807", 1<<63 - 1, "", true},
		{"9223372036854775808", 0, "9223372036854775808", false},
		{"-9223372036854775808", -1 << 63, "", true},
		{"-9223372036854775809", 0, "-9223372036854775809", false},
		{"0x10", 0, "x10", true},
	}
	for _, tt := range tests {
		v, rest, ok := Strtol(tt.in)
		if v != tt.v || rest != tt.rest || ok != tt.ok {
			t.Errorf("Strtol(%q) = %d, %q, %v; want %d, %q, %v", tt.in, v, rest, ok, tt.v, tt.rest, tt.ok)
		}
	}
}

func TestSpace(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c == ' ' || (c >= '\t' && c <= '\r')
		if IsSpace(byte(c)) != want {
			t.Errorf("IsSpace(%#x) = %v", c, !want)
		}
	}
	if got := TrimSpace("\v\f a b \r\n"); got != "a b" {
		t.Errorf("TrimSpace = %q", got)
	}
	for c := 0; c < 256; c++ {
		v, ok := Unhex(byte(c))
		switch {
		case c >= '0' && c <= '9':
			ok = ok && v == byte(c-'0')
		case c >= 'a' && c <= 'f':
			ok = ok && v == byte(c-'a'+10)
		case c >= 'A' && c <= 'F':
			ok = ok && v == byte(c-'A'+10)
		default:
			ok = !ok
		}
		if !ok {
			t.Errorf("Unhex(%#x) wrong", c)
		}
	}
}
