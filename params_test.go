package pqssl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/fakepg"
	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

// TestSSLCertMode checks sslcertmode (PostgreSQL 16, so the local libpq
// cannot referee it) against a real server that does or does not ask for a
// client certificate; the server asks when ssl_ca_file is set.
func TestSSLCertMode(t *testing.T) {
	cluster := pgtest.Shared(t)
	p := getScenarioPKI(t)
	base := scenario{leaf: "cn-only", client: "chain"}
	home := base.home(t, p)
	t.Setenv("HOME", home)

	tests := []struct {
		name     string
		asks     bool   // server has ssl_ca_file
		hba      string // hbaProfiles key
		mode     string // sslcertmode, "" = not given
		env      string // PGSSLCERTMODE
		sslmode  string // "" = require
		noCert   bool   // no client certificate files
		want     outcome
		wantIs   error
		wantText string
	}{
		{name: "allow, server asks, cert auth", asks: true, hba: "cert", mode: "allow", want: outTLS},
		{name: "default, server asks, cert auth", asks: true, hba: "cert", want: outTLS},
		{name: "require, server asks, cert auth", asks: true, hba: "cert", mode: "require", want: outTLS},
		{name: "disable, server asks, cert auth", asks: true, hba: "cert", mode: "disable", want: outFail, wantText: "certificate"},
		{name: "disable, server asks, trust", asks: true, hba: "both", mode: "disable", want: outTLS},
		{name: "allow, server does not ask", hba: "both", mode: "allow", want: outTLS},
		{name: "require, server does not ask", hba: "both", mode: "require", want: outFail,
			wantIs: ErrClientCertNotRequested, wantText: "server did not request an SSL certificate"},
		{name: "PGSSLCERTMODE=require, server does not ask", hba: "both", env: "require", want: outFail,
			wantIs: ErrClientCertNotRequested},
		{name: "require, server asks, client has none, trust", asks: true, hba: "both", mode: "require", noCert: true, want: outFail,
			wantIs: ErrClientCertNotSent, wantText: "server accepted connection without a valid SSL certificate"},
		{name: "allow, server asks, client has none, trust", asks: true, hba: "both", mode: "allow", noCert: true, want: outTLS},
		{name: "require, prefer, plaintext server", hba: "plain", mode: "require", sslmode: "prefer", want: outFail,
			wantIs: ErrClientCertNotRequested},
		{name: "require, disable", hba: "plain", mode: "require", sslmode: "disable", want: outFail,
			wantIs: ErrClientCertNotRequested},
		{name: "PGSSLCERTMODE=require, server asks", asks: true, hba: "cert", env: "require", want: outTLS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base.serverOptions(p)
			o.HBA = hbaProfiles[tt.hba]
			if tt.asks {
				o.CA = p.clientRoot.CertPEM
			}
			if err := cluster.Apply(o); err != nil {
				t.Fatal(err)
			}
			if tt.env != "" {
				t.Setenv("PGSSLCERTMODE", tt.env)
			}
			sslmode := tt.sslmode
			if sslmode == "" {
				sslmode = "require"
			}
			dsn := fmt.Sprintf("host=localhost hostaddr=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=%s", cluster.Port, sslmode)
			if tt.noCert {
				dsn += " sslcert=" + filepath.Join(home, "nonexistent.crt")
			}
			if tt.mode != "" {
				dsn += " sslcertmode=" + tt.mode
			}
			got, err := connectPqssl(t, dsn)
			if got != tt.want {
				t.Fatalf("got %s (%v), want %s", got, err, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if tt.wantText != "" && !strings.Contains(fmt.Sprint(err), tt.wantText) {
				t.Errorf("error %v does not contain %q", err, tt.wantText)
			}
		})
	}
}

// TestSSLRootCertSystem checks sslrootcert=system (PostgreSQL 16) with the
// system store pointed at the test root through SSL_CERT_FILE or a hashed
// SSL_CERT_DIR, as Go and OpenSSL both honour them. Where libpq 18 is
// installed it referees every case live.
func TestSSLRootCertSystem(t *testing.T) {
	cluster := pgtest.Shared(t)
	p := getScenarioPKI(t)
	sc := scenario{leaf: "cn-only"}
	if err := cluster.Apply(sc.serverOptions(p)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	fileA := testpki.WriteFile(t, filepath.Join(dir, "system.pem"), p.rootA.CertPEM, 0o644)
	fileB := testpki.WriteFile(t, filepath.Join(dir, "other.pem"), p.rootB.CertPEM, 0o644)
	hashedA := filepath.Join(dir, "certs")
	if out, err := exec.Command("openssl", "x509", "-hash", "-noout", "-in", fileA).Output(); err == nil {
		if err := os.Mkdir(hashedA, 0o755); err != nil {
			t.Fatal(err)
		}
		testpki.WriteFile(t, filepath.Join(hashedA, strings.TrimSpace(string(out))+".0"), p.rootA.CertPEM, 0o644)
	} else {
		hashedA = ""
	}
	nowhere := filepath.Join(dir, "nonexistent")
	referee := pgtest.OptionalInstallation(t, 18)

	dsn := fmt.Sprintf("host=%%s hostaddr=127.0.0.1 port=%d user=postgres dbname=postgres sslrootcert=system", cluster.Port)
	weak := func(mode string) string {
		return fmt.Sprintf(`weak sslmode "%s" may not be used with sslrootcert=system (use "verify-full")`, mode)
	}
	tests := []struct {
		name, host, extra string
		certFile, certDir string
		want              outcome
		wantAs            any
		wantMsg           string // in pqssl's and libpq's error
	}{
		{name: "default sslmode", host: "localhost", certFile: fileA, certDir: nowhere, want: outTLS},
		{name: "default sslmode is verify-full", host: "other.test", certFile: fileA, certDir: nowhere, want: outFail,
			wantAs: new(*HostnameError), wantMsg: `server certificate for "localhost" does not match host name "other.test"`},
		{name: "verify-full", host: "localhost", extra: "sslmode=verify-full", certFile: fileA, certDir: nowhere, want: outTLS},
		{name: "hashed SSL_CERT_DIR", host: "localhost", certFile: nowhere, certDir: hashedA, want: outTLS},
		{name: "store without the root", host: "localhost", certFile: fileB, certDir: nowhere, want: outFail,
			wantAs: new(*CertificateVerifyError), wantMsg: "certificate verify failed"},
		{name: "disable", host: "localhost", extra: "sslmode=disable", certFile: fileA, want: outFail, wantAs: new(*ParameterError), wantMsg: weak("disable")},
		{name: "allow", host: "localhost", extra: "sslmode=allow", certFile: fileA, want: outFail, wantAs: new(*ParameterError), wantMsg: weak("allow")},
		{name: "prefer", host: "localhost", extra: "sslmode=prefer", certFile: fileA, want: outFail, wantAs: new(*ParameterError), wantMsg: weak("prefer")},
		{name: "require", host: "localhost", extra: "sslmode=require", certFile: fileA, want: outFail, wantAs: new(*ParameterError), wantMsg: weak("require")},
		{name: "verify-ca", host: "localhost", extra: "sslmode=verify-ca", certFile: fileA, want: outFail, wantAs: new(*ParameterError), wantMsg: weak("verify-ca")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.certDir == "" && tt.name == "hashed SSL_CERT_DIR" {
				t.Skip("openssl is not installed to name the hashed file")
			}
			t.Setenv("SSL_CERT_FILE", tt.certFile)
			t.Setenv("SSL_CERT_DIR", tt.certDir)
			conninfo := fmt.Sprintf(dsn, tt.host) + " " + tt.extra
			got, err := connectPqssl(t, conninfo)
			if got != tt.want || tt.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.wantMsg)) {
				t.Errorf("pqssl: %s (%v), want %s %q", got, err, tt.want, tt.wantMsg)
			}
			if tt.wantAs != nil && !errors.As(err, tt.wantAs) {
				t.Errorf("pqssl error %T is not a %T", err, tt.wantAs)
			}
			var herr *HostnameError
			if errors.As(err, &herr) && (herr.Certificate == nil || herr.Certificate.Subject.CommonName != "localhost") {
				t.Errorf("HostnameError.Certificate = %v, want the server's certificate", herr.Certificate)
			}
			if referee == nil {
				return
			}
			r := pgtest.Psql{Bin: referee, ConnInfo: conninfo, Env: map[string]string{
				"HOME": dir, "SSL_CERT_FILE": tt.certFile, "SSL_CERT_DIR": tt.certDir, "PGCONNECT_TIMEOUT": "10"}}.Run(context.Background())
			lgot := outFail
			if s, err := r.Session(); r.OK && err == nil {
				lgot = outPlain
				if s.SSL {
					lgot = outTLS
				}
			}
			if lgot != tt.want || tt.wantMsg != "" && !strings.Contains(r.Stderr, tt.wantMsg) {
				t.Errorf("libpq 18: %s (%s), want %s %q", lgot, r.Stderr, tt.want, tt.wantMsg)
			}
		})
	}
}

// TestDirectNegotiation checks sslnegotiation=direct (PostgreSQL 17)
// against an in-process TLS server, since the local server predates it.
func TestDirectNegotiation(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srvTLS := fakeServerTLS(t)
	serve := func(protos []string) func(*fakepg.Conn) {
		return func(c *fakepg.Conn) {
			cfg := srvTLS.Clone()
			cfg.NextProtos = protos
			fakepg.ServeTLS(c, cfg, "direct")
		}
	}
	tests := []struct {
		name    string
		protos  []string
		mode    string
		wantErr string
		wantIs  error
	}{
		{name: "ALPN selected", protos: []string{"postgresql"}, mode: "require"},
		{name: "ALPN selected, verify-ca", protos: []string{"postgresql"}, mode: "verify-ca", wantErr: "root certificate file"},
		{name: "ALPN missing", protos: nil, mode: "require", wantErr: "ALPN", wantIs: ErrALPNNotSelected},
		{name: "other protocol only", protos: []string{"http/1.1"}, mode: "require", wantErr: "no application protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakepg.Start(t, serve(tt.protos))
			dsn := fmt.Sprintf("host=localhost hostaddr=127.0.0.1 port=%d user=u dbname=d sslnegotiation=direct sslmode=%s", srv.Port(), tt.mode)
			c, err := NewConnector(dsn)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cn, err := c.Connect(ctx)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				cn.Close()
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Connect: %v, want error containing %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			srv.Close()
			for i, sc := range srv.Conns() {
				if got := sc.Received(); len(got) > 0 && got[0] != 0x16 {
					t.Errorf("connection %d: first byte %#x is not a TLS handshake record", i, got[0])
				}
			}
		})
	}
	for _, mode := range []string{"disable", "allow", "prefer"} {
		_, err := NewConnector("host=localhost sslnegotiation=direct sslmode=" + mode)
		var perr *ParameterError
		if !errors.As(err, &perr) || !strings.Contains(err.Error(), fmt.Sprintf(`weak sslmode "%s" may not be used with sslnegotiation=direct`, mode)) {
			t.Errorf("sslnegotiation=direct with sslmode=%s: %v", mode, err)
		}
	}
	t.Setenv("PGSSLNEGOTIATION", "direct")
	if _, err := NewConnector("host=localhost sslmode=prefer"); err == nil {
		t.Error("PGSSLNEGOTIATION=direct with sslmode=prefer was accepted")
	}
}

// TestSSLKeyLogFile checks that sslkeylogfile receives NSS key log lines and
// is created with mode 0600.
func TestSSLKeyLogFile(t *testing.T) {
	cluster := pgtest.Shared(t)
	p := getScenarioPKI(t)
	if err := cluster.Apply(scenario{leaf: "cn-only"}.serverOptions(p)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	logFile := filepath.Join(dir, "keys.log")
	for i, maxVersion := range []string{"TLSv1.3", "TLSv1.2"} {
		dsn := fmt.Sprintf("host=localhost hostaddr=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=require "+
			"ssl_max_protocol_version=%s sslkeylogfile=%s", cluster.Port, maxVersion, logFile)
		if got, err := connectPqssl(t, dsn); got != outTLS {
			t.Fatalf("%s: %s (%v)", maxVersion, got, err)
		}
		fi, err := os.Stat(logFile)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("key log file mode %v, want 0600", fi.Mode().Perm())
		}
		f, err := os.Open(logFile)
		if err != nil {
			t.Fatal(err)
		}
		labels := map[string]int{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) != 3 {
				t.Errorf("malformed key log line %q", sc.Text())
				continue
			}
			labels[fields[0]]++
		}
		f.Close()
		if labels["CLIENT_TRAFFIC_SECRET_0"] != 1 {
			t.Errorf("after connection %d: %d TLS 1.3 traffic secrets, want 1 (labels %v)", i+1, labels["CLIENT_TRAFFIC_SECRET_0"], labels)
		}
		if i == 1 && labels["CLIENT_RANDOM"] != 1 {
			t.Errorf("after the TLS 1.2 connection: %d CLIENT_RANDOM lines, want 1 (labels %v)", labels["CLIENT_RANDOM"], labels)
		}
	}
	if _, err := connectPqssl(t, fmt.Sprintf("host=localhost hostaddr=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=require sslkeylogfile=%s",
		cluster.Port, filepath.Join(dir, "missing", "keys.log"))); err == nil || !strings.Contains(err.Error(), "key log") {
		t.Errorf("unwritable sslkeylogfile: %v, want an error naming the key log file", err)
	}
}

// TestTLSParametersFromServiceAndEnvironment checks that the TLS parameters
// reach the connection from a service file and from their environment
// variables as well as from the connection string, with the connection
// string first, then the service file, then the environment.
func TestTLSParametersFromServiceAndEnvironment(t *testing.T) {
	cluster := pgtest.Shared(t)
	p := getScenarioPKI(t)
	o := scenario{leaf: "cn-only", clientCA: true}.serverOptions(p)
	o.HBA = []string{"hostssl all pqssl_scram 127.0.0.1/32 scram-sha-256", "host all all 127.0.0.1/32 trust"}
	if err := cluster.Apply(o); err != nil {
		t.Fatal(err)
	}
	const password = "service file pw"
	if err := cluster.CreateUser("pqssl_scram", password); err != nil {
		t.Fatal(err)
	}
	home := scenario{client: "chain"}.home(t, p)
	t.Setenv("HOME", home)
	crl := func(issuer *testpki.Cert, revoked ...*testpki.Cert) []byte {
		der, err := issuer.CRL(testpki.Serials(revoked...), time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return testpki.CRLPEM(der)
	}
	root := testpki.WriteFile(t, filepath.Join(home, "root.crt"), p.rootA.CertPEM, 0o644)
	clean := testpki.WriteFile(t, filepath.Join(home, "clean.crl"), append(crl(p.rootA), crl(p.interA)...), 0o644)
	revoked := testpki.WriteFile(t, filepath.Join(home, "revoked.crl"), append(crl(p.rootA), crl(p.interA, p.leaves["cn-only"])...), 0o644)

	service := fmt.Sprintf(`# TLS settings of the test service
[tls]
host=localhost
hostaddr=127.0.0.1
port=%d
dbname=postgres
sslmode=verify-full
sslrootcert=%s
sslcrl=%s
sslcertmode=require
channel_binding=require

[revoked]
host=localhost
hostaddr=127.0.0.1
port=%[1]d
dbname=postgres
sslmode=verify-full
sslrootcert=%[2]s
sslcrl=%[4]s

[plain-settings]
host=localhost
hostaddr=127.0.0.1
port=%[1]d
dbname=postgres
`, cluster.Port, root, clean, revoked)
	t.Setenv("PGSERVICEFILE", testpki.WriteFile(t, filepath.Join(home, "services.conf"), []byte(service), 0o600))
	t.Setenv("PGPASSWORD", password)

	tests := []struct {
		name    string
		dsn     string
		env     map[string]string
		want    outcome
		wantIs  error
		wantAs  any
		wantMsg string
	}{
		{name: "all from the service file", dsn: "service=tls user=pqssl_scram", want: outTLS},
		{name: "channel_binding=require from the service file, trust", dsn: "service=tls user=postgres", want: outFail,
			wantMsg: "channel binding required, but server authenticated client without channel binding"},
		{name: "string overrides the service file", dsn: "service=tls user=postgres channel_binding=prefer", want: outTLS},
		{name: "revoking CRL from the service file", dsn: "service=revoked user=postgres", want: outFail, wantAs: new(*CertificateVerifyError),
			wantMsg: "certificate revoked"},
		{name: "service file overrides PGSSLCRL", dsn: "service=tls user=pqssl_scram", env: map[string]string{"PGSSLCRL": revoked}, want: outTLS},
		{name: "PGSSLCRL", dsn: "service=plain-settings user=postgres sslmode=verify-ca sslrootcert=" + root,
			env: map[string]string{"PGSSLCRL": revoked}, want: outFail, wantMsg: "certificate revoked"},
		{name: "PGSSLROOTCERT and PGSSLMODE", dsn: "service=plain-settings user=postgres host=other.test",
			env: map[string]string{"PGSSLROOTCERT": root, "PGSSLMODE": "verify-full"}, want: outFail, wantAs: new(*HostnameError)},
		{name: "PGCHANNELBINDING", dsn: "service=plain-settings user=postgres sslmode=require",
			env: map[string]string{"PGCHANNELBINDING": "require"}, want: outFail, wantMsg: "channel binding required"},
		{name: "PGSSLCERTMODE=disable", dsn: "service=plain-settings user=postgres sslmode=require",
			env: map[string]string{"PGSSLCERTMODE": "disable"}, want: outTLS},
		{name: "PGSSLCERTMODE=require", dsn: "service=plain-settings user=postgres sslmode=require sslcert=/nonexistent",
			env: map[string]string{"PGSSLCERTMODE": "require"}, want: outFail, wantIs: ErrClientCertNotSent},
		{name: "PGSSLMINPROTOCOLVERSION", dsn: "service=plain-settings user=postgres sslmode=require",
			env: map[string]string{"PGSSLMINPROTOCOLVERSION": "TLSv1.4"}, want: outFail, wantAs: new(*ParameterError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := connectPqssl(t, tt.dsn)
			if got != tt.want {
				t.Fatalf("got %s (%v), want %s", got, err, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if tt.wantAs != nil && !errors.As(err, tt.wantAs) {
				t.Errorf("error %v (%T) is not a %T", err, err, tt.wantAs)
			}
			if tt.wantMsg != "" && !strings.Contains(fmt.Sprint(err), tt.wantMsg) {
				t.Errorf("error %v does not contain %q", err, tt.wantMsg)
			}
			if err != nil && strings.Contains(err.Error(), password) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}
