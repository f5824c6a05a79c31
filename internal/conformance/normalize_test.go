package conformance

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	const home = "/tmp/conformance-123/h7"
	tests := []struct {
		name, in, want string
	}{
		{"psql prefix and attempt",
			`psql: error: connection to server at "localhost" (127.0.0.1), port 54321 failed: SSL error: certificate verify failed`,
			"SSL error: certificate verify failed"},
		{"two attempts",
			"psql: error: connection to server at \"localhost\" (127.0.0.1), port 54321 failed: SSL error: certificate verify failed\n" +
				"connection to server at \"localhost\" (127.0.0.1), port 54321 failed: FATAL:  no pg_hba.conf entry for host \"127.0.0.1\"",
			`SSL error: certificate verify failed / FATAL: no pg_hba.conf entry for host "127.0.0.1"`},
		{"home and hint",
			`root certificate file "/tmp/conformance-123/h7/.postgresql/root.crt" does not exist` + "\n" +
				"Either provide the file or change sslmode to disable server certificate verification.",
			`root certificate file "~/.postgresql/root.crt" does not exist / Either provide the file or change sslmode to disable server certificate verification.`},
		{"ports", "dial tcp 127.0.0.1:54321: connect: connection refused; port 54321; 654321 stays",
			"dial tcp 127.0.0.1:PORT: connect: connection refused; port PORT; 654321 stays"},
		{"ephemeral port", "write tcp 127.0.0.1:40404->127.0.0.1:54321: write: connection reset by peer",
			"write tcp 127.0.0.1:PORT->127.0.0.1:PORT: write: connection reset by peer"},
		{"timestamps", "x509: certificate has expired or is not yet valid: current time 2026-01-02T03:04:05Z is after 2025-12-31T00:00:00+01:00",
			"x509: certificate has expired or is not yet valid: current time TIME is after TIME"},
		{"pgx", "failed to connect to `user=postgres database=postgres`:\n\t127.0.0.1:54321 (localhost): tls error: server refused TLS connection\n\t127.0.0.1:54321 (localhost): server error: FATAL: no pg_hba.conf entry",
			"tls error: server refused TLS connection / server error: FATAL: no pg_hba.conf entry"},
		{"nul", "name \x00 inside", `name \0 inside`},
		{"prompt", "Enter PEM pass phrase:\npsql: error: connection to server at \"127.0.0.1\", port 54321 failed: could not load private key file \"k\": processing error",
			`Enter PEM pass phrase: / could not load private key file "k": processing error`},
		{"serial", `certificate revoked (subject "CN=localhost", serial 0xd8b9361b67902b9b0766b4519d4b81118221a3f)`,
			`certificate revoked (subject "CN=localhost", serial N)`},
		{"serial number", "serial number 123456789 of issuer", "serial N of issuer"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in, home, 54321); got != tt.want {
				t.Errorf("Normalize(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
	// A long message is cut at a character boundary.
	got := Normalize(strings.Repeat("é", 500), "", 0)
	if len(got) > maxMessage+len("…") || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("long message shortened to %d bytes: %q", len(got), got)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct{ msg, want string }{
		{"SSL error: certificate verify failed", "verify"},
		{"certificate verify failed: certificate revoked (subject \"CN=localhost\", serial N)", "verify"},
		{"certificate verify failed: unable to get local issuer certificate", "verify"},
		{`server certificate for "localhost" does not match host name "other.test"`, "hostname"},
		{"could not get server's host name from server certificate", "hostname"},
		{"SSL certificate's name contains embedded null", "hostname"},
		{`root certificate file "~/.postgresql/root.crt" does not exist / Either provide the file or change sslmode to disable server certificate verification.`, "root-missing"},
		{`invalid sslmode value: "verify"`, "config"},
		{`invalid "ssl_max_protocol_version" value: "SSLv3"`, "config"},
		{`pqssl: invalid value for connection parameter "sslmode": unknown sslmode "verify"`, "config"},
		{"SSL error: tlsv1 alert unknown ca", "peer-rejected"},
		{"remote error: tls: unknown certificate authority", "peer-rejected"},
		{"SSL error: tlsv1 alert protocol version / This may indicate that the server does not support any SSL protocol version between TLSv1.2 and TLSv1.2.", "tls"},
		{"remote error: tls: protocol version not supported", "tls"},
		{"SSL error: certificate verify failed / FATAL: no pg_hba.conf entry for host", "verify+hba"},
		{"server does not support SSL, but SSL was required", "no-ssl"},
		{"FATAL: connection requires a valid client certificate", "server-cert-auth"},
		{"server did not request an SSL certificate", "certmode"},
		{`private key file "~/.postgresql/postgresql.key" has group or world access; ...`, "client-key"},
		{`Enter PEM pass phrase: / could not load private key file "k": processing error`, "client-key"},
		{`weak sslmode "require" may not be used with sslrootcert=system (use "verify-full")`, "config"},
		{"something else entirely", "other"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Classify(tt.msg); got != tt.want {
			t.Errorf("Classify(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}

func TestDisambiguate(t *testing.T) {
	const both = "host=x hostaddr=127.0.0.1 sslcrl=/a sslcrldir=/b"
	for _, msg := range []string{`pq: unrecognized configuration parameter "sslcrl" (42704)`, `pq: unrecognized configuration parameter "sslcrldir" (42704)`} {
		want := `pq: unrecognized configuration parameter (one of hostaddr, sslcrl, sslcrldir) (42704)`
		if got := disambiguate(msg, both); got != want {
			t.Errorf("disambiguate(%q) = %q, want %q", msg, got, want)
		}
	}
	one := `pq: unrecognized configuration parameter "sslcompression" (42704)`
	if got := disambiguate(one, "host=x sslcompression=1"); got != one {
		t.Errorf("a single foreign key was rewritten: %q", got)
	}
}

func TestAgrees(t *testing.T) {
	verify := Verdict{Fail, "SSL error: certificate verify failed"}
	tests := []struct {
		ref, got Verdict
		strict   bool
		want     bool
	}{
		{Verdict{Outcome: TLS}, Verdict{Outcome: TLS}, true, true},
		{Verdict{Outcome: TLS}, Verdict{Outcome: Plain}, false, false},
		{verify, Verdict{Fail, "certificate verify failed: certificate has expired"}, true, true},
		{verify, Verdict{Fail, `server certificate for "a" does not match host name "b"`}, true, false},
		{verify, Verdict{Fail, `server certificate for "a" does not match host name "b"`}, false, true},
	}
	for _, tt := range tests {
		if got := Agrees(tt.ref, tt.got, tt.strict); got != tt.want {
			t.Errorf("Agrees(%v, %v, %v) = %v, want %v", tt.ref, tt.got, tt.strict, got, tt.want)
		}
	}
}
