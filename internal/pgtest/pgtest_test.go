package pgtest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  bool
	}{
		{"postgres (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)\n", 15, false},
		{"postgres (PostgreSQL) 17beta1", 17, false},
		{"postgres (PostgreSQL) 9.6.24", 9, false},
		{"nonsense", 0, true},
	}
	for _, tt := range tests {
		got, err := parseVersion(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseVersion(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestQuoteSetting(t *testing.T) {
	tests := []struct{ in, want string }{
		{"on", "'on'"},
		{"", "''"},
		{"it's", "'it''s'"},
		{`C:\x`, `'C:\\x'`},
		{"HIGH:!aNULL", "'HIGH:!aNULL'"},
	}
	for _, tt := range tests {
		if got := quoteSetting(tt.in); got != tt.want {
			t.Errorf("quoteSetting(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCheckSetting(t *testing.T) {
	tests := []struct {
		key, value string
		ok         bool
	}{
		{"ssl", "off", true},
		{"ssl_min_protocol_version", "TLSv1.3", true},
		{"custom.thing", "x", true},
		{"port", "5432", false},
		{"Unix_Socket_Directories", "/tmp", false},
		{"include", "x", false},
		{generationSetting, "7", false},
		{"bad key", "x", false},
		{"", "x", false},
		{"ssl", "on\nport = 1", false},
	}
	for _, tt := range tests {
		if err := checkSetting(tt.key, tt.value); (err == nil) != tt.ok {
			t.Errorf("checkSetting(%q, %q) = %v, want ok=%v", tt.key, tt.value, err, tt.ok)
		}
	}
}

func TestSSLOn(t *testing.T) {
	tests := []struct {
		conf map[string]string
		want bool
	}{
		{nil, true},
		{map[string]string{"ssl": "on"}, true},
		{map[string]string{"ssl": "off"}, false},
		{map[string]string{"SSL": "Of"}, false},
		{map[string]string{"ssl": "fals"}, false},
		{map[string]string{"ssl": "0"}, false},
		{map[string]string{"ssl": "yes"}, true},
	}
	for _, tt := range tests {
		if got := sslOn(Options{Conf: tt.conf}); got != tt.want {
			t.Errorf("sslOn(%v) = %v, want %v", tt.conf, got, tt.want)
		}
	}
}

func TestParseSession(t *testing.T) {
	tests := []struct {
		in   string
		want Session
		err  bool
	}{
		{"t|TLSv1.3|TLS_AES_256_GCM_SHA384|4660|alice|127.0.0.1|/CN=alice|x\n",
			Session{SSL: true, Version: "TLSv1.3", Cipher: "TLS_AES_256_GCM_SHA384", ClientSerial: "4660",
				User: "alice", ServerAddr: "127.0.0.1", ClientDN: "/CN=alice|x"}, false},
		{"f||||postgres||", Session{User: "postgres"}, false},
		{"", Session{}, true},
		{"1", Session{}, true},
	}
	for _, tt := range tests {
		got, err := ParseSession(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseSession(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestOptionsNormalize(t *testing.T) {
	if _, err := (Options{ServerCert: []byte("x")}).normalize(); err == nil {
		t.Error("a certificate without a key was accepted")
	}
	if _, err := (Options{HBA: []string{"host all all all trust\nlocal all all reject"}}).normalize(); err == nil {
		t.Error("an HBA line holding a line break was accepted")
	}
	n, err := Options{}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	if !n.equal(DefaultOptions()) {
		t.Error("the zero Options do not normalise to DefaultOptions()")
	}
	n, err = Options{HBA: []string{}, CA: []byte{}}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	if n.HBA == nil || len(n.HBA) != 0 || n.CA == nil {
		t.Errorf("empty non-nil HBA and CA were not kept: %#v %#v", n.HBA, n.CA)
	}
}

// fakeTB records how SkipOrFatal ends a test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped, f.msg = true, fmt.Sprintf(format, args...)
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
}

func TestSkipOrFatal(t *testing.T) {
	tests := []struct {
		ci         string
		skip, fail bool
	}{
		{"", true, false},
		{"false", true, false},
		{"true", false, true},
		{"1", false, true},
	}
	for _, tt := range tests {
		t.Setenv("CI", tt.ci)
		f := &fakeTB{TB: t}
		SkipOrFatal(f, "no %s", "postgres")
		if f.skipped != tt.skip || f.failed != tt.fail || !strings.HasPrefix(f.msg, "no postgres") {
			t.Errorf("CI=%q: skipped %v, failed %v (%q)", tt.ci, f.skipped, f.failed, f.msg)
		}
	}
}

// psqlOK runs psql against c and fails the test unless it connects.
func psqlOK(t *testing.T, c *Cluster, conninfo string, env map[string]string) Session {
	t.Helper()
	res := c.Psql(context.Background(), conninfo, env)
	s, err := res.Session()
	if err != nil {
		t.Fatalf("psql %q: %v", conninfo, err)
	}
	return s
}

// psqlFails runs psql against c and fails the test unless it fails with an
// error containing want.
func psqlFails(t *testing.T, c *Cluster, conninfo string, env map[string]string, want string) {
	t.Helper()
	res := c.Psql(context.Background(), conninfo, env)
	if res.OK || res.Err != nil || !strings.Contains(res.Stderr, want) {
		t.Fatalf("psql %q: got %v, want a failure containing %q", conninfo, res, want)
	}
}

func TestHBAVerdictsFlip(t *testing.T) {
	c := Shared(t)

	// Default scenario: TCP with and without TLS.
	if s := psqlOK(t, c, "sslmode=require", nil); !s.SSL || s.Version == "" || s.ServerAddr != "127.0.0.1" {
		t.Errorf("sslmode=require: session %+v", s)
	}
	if s := psqlOK(t, c, "sslmode=disable", nil); s.SSL {
		t.Errorf("sslmode=disable: session %+v", s)
	}

	start := time.Now()
	if err := c.SetHBA("hostssl all all all trust"); err != nil {
		t.Fatal(err)
	}
	t.Logf("SetHBA reload confirmed in %v", time.Since(start))
	psqlOK(t, c, "sslmode=require", nil)
	psqlFails(t, c, "sslmode=disable", nil, "no encryption")

	start = time.Now()
	if err := c.SetHBA("hostnossl all all all trust"); err != nil {
		t.Fatal(err)
	}
	t.Logf("SetHBA reload confirmed in %v", time.Since(start))
	psqlFails(t, c, "sslmode=require", nil, "SSL encryption")
	psqlOK(t, c, "sslmode=disable", nil)

	if err := c.SetHBA(); err != nil {
		t.Fatal(err)
	}
	psqlFails(t, c, "sslmode=prefer", nil, "no pg_hba.conf entry")

	// The harness itself always gets in through the socket.
	if err := c.Exec("select 1"); err != nil {
		t.Fatal(err)
	}
}

func TestIPv6(t *testing.T) {
	c := Shared(t)
	if !c.IPv6 {
		t.Skip("no IPv6 loopback on this machine")
	}
	s := psqlOK(t, c, "host=::1 sslmode=require", nil)
	if s.ServerAddr != "::1" || !s.SSL {
		t.Errorf("session over ::1: %+v", s)
	}
}

func TestSetServerCert(t *testing.T) {
	c := Shared(t)
	ctx := context.Background()
	oldPEM := c.ServerCertPEM()
	old, err := leafCert(oldPEM)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ServerCertificate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.SerialNumber.Cmp(old.SerialNumber) != 0 {
		t.Fatalf("served serial %v, configured %v", got.SerialNumber, old.SerialNumber)
	}

	certPEM, keyPEM, err := selfSigned("other.example")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.SetServerCert(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	t.Logf("SetServerCert reload confirmed in %v", time.Since(start))

	// Read the served certificate independently of the harness: SSLRequest,
	// 'S', handshake.
	conn, err := net.Dial("tcp", c.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := conn.Read(b); err != nil || b[0] != 'S' {
		t.Fatalf("answer to SSLRequest: %q, %v", b, err)
	}
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	served := tc.ConnectionState().PeerCertificates[0]
	want, _ := leafCert(certPEM)
	if served.SerialNumber.Cmp(want.SerialNumber) != 0 || served.Subject.CommonName != "other.example" {
		t.Fatalf("after SetServerCert the server presents %v (serial %v), want serial %v",
			served.Subject, served.SerialNumber, want.SerialNumber)
	}

	// libpq agrees: verify-full against the new certificate as root
	// succeeds for its name, and fails against the old one.
	newRoot, err := c.WriteFile("new-root.crt", certPEM)
	if err != nil {
		t.Fatal(err)
	}
	oldRoot, err := c.WriteFile("old-root.crt", oldPEM)
	if err != nil {
		t.Fatal(err)
	}
	psqlOK(t, c, "sslmode=verify-ca sslrootcert="+newRoot, nil)
	psqlFails(t, c, "sslmode=verify-ca sslrootcert="+oldRoot, nil, "certificate verify failed")
	psqlOK(t, c, "host=localhost hostaddr=127.0.0.1 sslmode=verify-ca sslrootcert="+newRoot, nil)
	psqlFails(t, c, "host=localhost hostaddr=127.0.0.1 sslmode=verify-full sslrootcert="+newRoot, nil,
		`server certificate for "other.example" does not match host name "localhost"`)

	// Reset goes back to the default certificate.
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	got, err = c.ServerCertificate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.SerialNumber.Cmp(old.SerialNumber) != 0 {
		t.Fatalf("after Reset the server presents serial %v, want %v", got.SerialNumber, old.SerialNumber)
	}
	psqlOK(t, c, "sslmode=verify-full sslrootcert="+oldRoot, nil)
	psqlOK(t, c, "host=localhost sslmode=verify-full sslrootcert="+oldRoot, nil)
}

func TestReloadFailuresRollBack(t *testing.T) {
	c := Shared(t)
	ctx := context.Background()
	before, err := c.ServerCertificate(ctx)
	if err != nil {
		t.Fatal(err)
	}

	otherCert, _, err := selfSigned("mismatch")
	if err != nil {
		t.Fatal(err)
	}
	_, defaultKey := DefaultServerCert()
	tests := []struct {
		name  string
		apply func() error
		want  string
	}{
		{"key does not match", func() error { return c.SetServerCert(otherCert, defaultKey) }, "SSL configuration was not reloaded"},
		{"not a certificate", func() error { return c.SetServerCert([]byte("garbage"), defaultKey) }, "SSL configuration was not reloaded"},
		{"bad hba line", func() error { return c.SetHBA("hostssl all all all no-such-method") }, "pg_hba.conf was not reloaded"},
		{"restart-only setting", func() error { return c.SetConf("shared_buffers", "32MB") }, "cannot be changed without restarting"},
		{"bad value", func() error { return c.SetConf("ssl_min_protocol_version", "TLSv9") }, "contains errors"},
		{"unknown setting", func() error { return c.SetConf("no_such_setting", "1") }, "contains errors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.apply()
			var re *ReloadError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, want a *ReloadError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			// The previous configuration is back in force.
			c.mu.Lock()
			same := c.cur.equal(c.initial)
			c.mu.Unlock()
			if !same {
				t.Error("the previous configuration was not restored")
			}
			got, err := c.ServerCertificate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.SerialNumber.Cmp(before.SerialNumber) != 0 {
				t.Error("the server certificate changed")
			}
			psqlOK(t, c, "sslmode=require", nil)
			psqlOK(t, c, "sslmode=disable", nil)
		})
	}
}

func TestSetConfSSLOff(t *testing.T) {
	c := Shared(t)
	if err := c.SetConf("ssl", "off"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ServerCertificate(context.Background()); !errors.Is(err, ErrNoTLS) {
		t.Fatalf("with ssl off: %v, want ErrNoTLS", err)
	}
	psqlFails(t, c, "sslmode=require", nil, "server does not support SSL, but SSL was required")
	if s := psqlOK(t, c, "sslmode=prefer", nil); s.SSL {
		t.Error("prefer used TLS with ssl off")
	}
	if err := c.SetConf("ssl", "on"); err != nil {
		t.Fatal(err)
	}
	psqlOK(t, c, "sslmode=require", nil)

	if err := c.SetConf("ssl_min_protocol_version", "TLSv1.3"); err != nil {
		t.Fatal(err)
	}
	if s := psqlOK(t, c, "sslmode=require", nil); s.Version != "TLSv1.3" {
		t.Errorf("TLS version %q with ssl_min_protocol_version=TLSv1.3", s.Version)
	}
	psqlFails(t, c, "sslmode=require ssl_max_protocol_version=TLSv1.2", nil, "")
}

func TestSetCA(t *testing.T) {
	c := Shared(t)
	ctx := context.Background()
	// asked reports whether the server sends a CertificateRequest.
	asked := func() bool {
		t.Helper()
		var req bool
		_, err := TLSProbe(ctx, c.Addr(), &tls.Config{
			InsecureSkipVerify: true,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				req = true
				return &tls.Certificate{}, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	if asked() {
		t.Fatal("the server asks for a client certificate without ssl_ca_file")
	}
	caPEM, _, err := selfSigned("Test CA")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetCA(caPEM); err != nil {
		t.Fatal(err)
	}
	if !asked() {
		t.Fatal("the server does not ask for a client certificate with ssl_ca_file set")
	}
	if err := c.SetHBA("hostssl all all all cert"); err != nil {
		t.Fatal(err)
	}
	psqlFails(t, c, "sslmode=require", nil, "connection requires a valid client certificate")
	if err := c.SetCA(nil); err != nil {
		t.Fatal(err)
	}
	if asked() {
		t.Fatal("the server still asks for a client certificate after SetCA(nil)")
	}
}

func TestUsersAndDatabases(t *testing.T) {
	c := Shared(t)
	const secret = "s3cret-pa55word"
	if err := c.CreateUser("alice", secret); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateUser("alice", secret); err != nil { // idempotent
		t.Fatal(err)
	}
	if err := c.CreateDatabase("alicedb", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateDatabase("alicedb", "alice"); err != nil {
		t.Fatal(err)
	}
	rows, err := c.Query("select rolpassword like 'SCRAM-SHA-256$%' from pg_authid where rolname = $1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0][0] != "true" {
		t.Fatalf("alice's password is not stored as SCRAM: %v", rows)
	}
	if err := c.SetHBA("host all all all scram-sha-256"); err != nil {
		t.Fatal(err)
	}
	s := psqlOK(t, c, "user=alice dbname=alicedb sslmode=require", map[string]string{"PGPASSWORD": secret})
	if s.User != "alice" {
		t.Errorf("session user %q", s.User)
	}
	psqlFails(t, c, "user=alice dbname=alicedb", map[string]string{"PGPASSWORD": "wrong"}, "password authentication failed")
	psqlFails(t, c, "user=alice dbname=alicedb", nil, "no password supplied")

	err = c.CreateUser("pg_reserved", secret)
	if err == nil {
		t.Fatal("creating a role named pg_* succeeded")
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("the error shows the password: %v", err)
	}
	if strings.Contains(c.Log(), secret) {
		t.Fatal("the server log shows the password")
	}
}

func TestPsqlEnvironmentIsClean(t *testing.T) {
	c := Shared(t)
	// Any of these reaching psql would change the verdict.
	t.Setenv("PGSSLMODE", "disable")
	t.Setenv("PGUSER", "nobody")
	t.Setenv("PGSSLROOTCERT", "/nonexistent/root.crt")
	s := psqlOK(t, c, "sslmode=verify-ca", map[string]string{"PGSSLROOTCERT": mustWrite(t, c, "root.crt", c.ServerCertPEM())})
	if !s.SSL || s.User != Superuser {
		t.Errorf("session %+v", s)
	}
	s = psqlOK(t, c, "", nil) // libpq's default sslmode, prefer
	if !s.SSL {
		t.Errorf("PGSSLMODE leaked into psql: %+v", s)
	}
	// A custom query and an explicit HOME.
	home := t.TempDir()
	res := Psql{ConnInfo: c.ConnInfo(""), Query: "select current_setting('application_name')",
		Env: map[string]string{"PGAPPNAME": "referee"}, Home: home}.Run(context.Background())
	if !res.OK || res.Output != "referee" {
		t.Errorf("custom query: %v", res)
	}
	if err := os.MkdirAll(filepath.Join(home, ".postgresql"), 0o700); err != nil {
		t.Fatal(err)
	}
	// ~/.postgresql/root.crt in the given HOME makes require verify.
	if err := os.WriteFile(filepath.Join(home, ".postgresql", "root.crt"), mustSelfSigned(t), 0o644); err != nil {
		t.Fatal(err)
	}
	res = Psql{ConnInfo: c.ConnInfo("sslmode=require"), Home: home}.Run(context.Background())
	if res.OK || !strings.Contains(res.Stderr, "certificate verify failed") {
		t.Errorf("require with a foreign ~/.postgresql/root.crt: %v", res)
	}
}

func mustWrite(t *testing.T, c *Cluster, name string, data []byte) string {
	t.Helper()
	p, err := c.WriteFile(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustSelfSigned(t *testing.T) []byte {
	t.Helper()
	cert, _, err := selfSigned("foreign")
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestPsqlTimeout(t *testing.T) {
	Require(t)
	// A server that accepts and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	start := time.Now()
	res := Psql{ConnInfo: fmt.Sprintf("host=127.0.0.1 port=%d user=x", port), Timeout: time.Second}.Run(context.Background())
	if res.OK || res.Err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("psql against a silent server: %v after %v", res, time.Since(start))
	}
}

func TestPsqlDoesNotPrompt(t *testing.T) {
	c := Shared(t)
	if _, err := exec.LookPath("openssl"); err != nil {
		SkipOrFatal(t, "openssl not found")
	}
	dir := t.TempDir()
	key, cert := filepath.Join(dir, "client.key"), filepath.Join(dir, "client.crt")
	out, err := exec.Command("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-keyout", key, "-passout", "pass:secret", "-out", cert, "-subj", "/CN=client", "-days", "1").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	os.Chmod(key, 0o600)
	start := time.Now()
	res := Psql{ConnInfo: c.ConnInfo("sslmode=require sslcert=" + cert + " sslkey=" + key), Timeout: 20 * time.Second}.Run(context.Background())
	if res.OK || res.Err != nil || !strings.Contains(res.Stderr, "could not load private key file") {
		t.Fatalf("encrypted key without sslpassword: %v", res)
	}
	t.Logf("psql failed in %v: %s", time.Since(start), res.Stderr)
	if s := psqlOK(t, c, "sslmode=require sslpassword=secret sslcert="+cert+" sslkey="+key, nil); !s.SSL {
		t.Errorf("session %+v", s)
	}
}

func TestSharedIsResetAfterEachTest(t *testing.T) {
	var c *Cluster
	t.Run("changes", func(t *testing.T) {
		c = Shared(t)
		if err := c.SetHBA(); err != nil {
			t.Fatal(err)
		}
		if err := c.SetConf("ssl", "off"); err != nil {
			t.Fatal(err)
		}
	})
	if c == nil {
		t.Fatal("no shared cluster")
	}
	if c2 := Shared(t); c2 != c {
		t.Fatal("Shared returned a second cluster")
	}
	psqlOK(t, c, "sslmode=require", nil)
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

func TestStartStopLeavesNothing(t *testing.T) {
	Require(t)
	start := time.Now()
	c, err := Start(Options{HBA: []string{"hostssl all all 127.0.0.1/32 trust"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster started in %v (port %d, IPv6 %v)", time.Since(start), c.Port, c.IPv6)
	defer c.Stop()

	if len(c.SocketDir)+len("/.s.PGSQL.65535") >= 100 {
		t.Errorf("socket path too long: %s", c.SocketDir)
	}
	psqlOK(t, c, "sslmode=require", nil)
	psqlFails(t, c, "sslmode=disable", nil, "no encryption")

	if st, err := os.Stat(filepath.Join(c.tlsDir, "server.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("server key mode: %v, %v", st.Mode(), err)
	} else if acct, _ := serverUser(); acct != nil && int(st.Sys().(*syscall.Stat_t).Uid) != acct.uid {
		t.Errorf("server key not owned by %s", acct.name)
	}

	pid := c.postmasterPID()
	if pid == 0 || !processAlive(pid) {
		t.Fatalf("no live postmaster (pid %d)", pid)
	}
	kids := children(pid)
	if len(kids) == 0 {
		t.Fatal("the postmaster has no children")
	}
	start = time.Now()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster stopped in %v", time.Since(start))
	for _, p := range append(kids, pid) {
		if processAlive(p) {
			t.Errorf("process %d still alive after Stop", p)
		}
	}
	if _, err := os.Stat(c.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster directory left behind: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := c.SetHBA(); err == nil {
		t.Error("reconfiguring a stopped cluster succeeded")
	}
}

// TestWatchdog checks that the clusters of a test process that dies without
// cleaning up are stopped and removed, one cluster of each installation.
func TestWatchdog(t *testing.T) {
	if os.Getenv("PGTEST_WATCHDOG_CHILD") == "1" {
		for _, b := range Installations() {
			c, err := b.Start(Options{})
			if err != nil {
				fmt.Println("ERROR", err)
				os.Exit(1)
			}
			fmt.Printf("DIR %s PID %d\n", c.dir, c.postmasterPID())
		}
		os.Exit(0) // no Stop, no StopAll
	}
	Require(t)
	if testing.Short() {
		t.Skip("starts a cluster in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchdog$")
	cmd.Env = append(os.Environ(), "PGTEST_WATCHDOG_CHILD=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var dirs []string
	var pids []int
	for _, line := range strings.Split(string(out), "\n") {
		var dir string
		var pid int
		if _, err := fmt.Sscanf(line, "DIR %s PID %d", &dir, &pid); err == nil && pid != 0 {
			dirs, pids = append(dirs, dir), append(pids, pid)
		}
	}
	if len(dirs) == 0 || len(dirs) != len(Installations()) {
		t.Fatalf("child output: %s", out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for i, pid := range pids {
		for processAlive(pid) || exists(filepath.Dir(dirs[i])) {
			if time.Now().After(deadline) {
				t.Fatalf("30s after its test process exited, the cluster %s is still there (postmaster alive: %v)",
					dirs[i], processAlive(pid))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestStartFailureIsReported(t *testing.T) {
	Require(t)
	_, key := DefaultServerCert()
	c, err := Start(Options{ServerCert: []byte("not a certificate"), ServerKey: key})
	if err == nil {
		c.Stop()
		t.Fatal("a cluster with a broken certificate started")
	}
	if !strings.Contains(err.Error(), "could not load server certificate file") {
		t.Errorf("the error does not show the server's reason: %v", err)
	}
}

func TestQuerySession(t *testing.T) {
	c := Shared(t)
	s, err := QuerySession(context.Background(), c.DB())
	if err != nil {
		t.Fatal(err)
	}
	if s.SSL || s.ServerAddr != "" || s.User != Superuser {
		t.Errorf("session over the socket: %+v", s)
	}
	rows, err := c.Query("select 1, null::text, true")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0][0] != "1" || rows[0][1] != "" || rows[0][2] != "true" {
		t.Errorf("Query: %q", rows)
	}
}
