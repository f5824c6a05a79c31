package pqssl

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

// scenarioPKI is the certificate set of the scenario tests: two unrelated
// roots, an intermediate under root A, and server leaves under that
// intermediate, one per host name rule.
type scenarioPKI struct {
	rootA, interA, rootB *testpki.Cert
	leaves               map[string]*testpki.Cert

	clientRoot, clientInter *testpki.Cert
	clientLeaf              *testpki.Cert // CN=postgres, issued by clientInter
}

var (
	scenarioPKIOnce sync.Once
	scenarioPKIVal  *scenarioPKI
)

func getScenarioPKI(t *testing.T) *scenarioPKI {
	t.Helper()
	scenarioPKIOnce.Do(func() {
		p := &scenarioPKI{leaves: map[string]*testpki.Cert{}}
		p.rootA = testpki.MustRoot(t, testpki.Spec{CommonName: "Scenario Root A"})
		p.interA = p.rootA.MustIssue(t, testpki.Spec{CommonName: "Scenario Intermediate A", IsCA: true})
		p.rootB = testpki.MustRoot(t, testpki.Spec{CommonName: "Scenario Root B"})
		now := time.Now()
		leaf := func(name string, spec testpki.Spec) {
			p.leaves[name] = p.interA.MustIssue(t, spec)
		}
		leaf("cn-only", testpki.Spec{CommonName: "localhost"})
		leaf("sans", testpki.Spec{CommonName: "ignored.test", DNSNames: []string{"other.test", "localhost", "third.test"}})
		leaf("cn+san", testpki.Spec{CommonName: "localhost", DNSNames: []string{"other.test"}})
		leaf("no-names", testpki.Spec{Subject: &pkix.Name{Organization: []string{"pqssl"}}})
		leaf("ip4-san", testpki.Spec{IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"other.test"}})
		leaf("ip6-san", testpki.Spec{IPAddresses: []net.IP{net.ParseIP("::1")}})
		leaf("ip-in-cn", testpki.Spec{CommonName: "127.0.0.1"})
		leaf("dns-san-ip-cn", testpki.Spec{CommonName: "127.0.0.1", DNSNames: []string{"other.test"}})
		leaf("ip-as-dns", testpki.Spec{DNSNames: []string{"127.0.0.1"}})
		leaf("wildcard", testpki.Spec{DNSNames: []string{"*.pqssl.test"}})
		leaf("upper", testpki.Spec{DNSNames: []string{"LOCALHOST"}})
		leaf("expired", testpki.Spec{DNSNames: []string{"localhost"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
		leaf("not-yet-valid", testpki.Spec{DNSNames: []string{"localhost"}, NotBefore: now.Add(24 * time.Hour), NotAfter: now.Add(48 * time.Hour)})
		p.leaves["self-signed"] = testpki.MustSelfSigned(t, testpki.Spec{CommonName: "localhost"})

		p.clientRoot = testpki.MustRoot(t, testpki.Spec{CommonName: "Scenario Client Root"})
		p.clientInter = p.clientRoot.MustIssue(t, testpki.Spec{CommonName: "Scenario Client Intermediate", IsCA: true})
		p.clientLeaf = p.clientInter.MustIssue(t, testpki.Spec{CommonName: "postgres",
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		scenarioPKIVal = p
	})
	if scenarioPKIVal == nil {
		t.Fatal("scenario PKI could not be built")
	}
	return scenarioPKIVal
}

// hbaProfiles are the pg_hba.conf variants of the scenarios.
var hbaProfiles = map[string][]string{
	"both":  {"host all all 127.0.0.1/32 trust", "host all all ::1/128 trust"},
	"tls":   {"hostssl all all 127.0.0.1/32 trust", "hostssl all all ::1/128 trust"},
	"plain": {"hostnossl all all 127.0.0.1/32 trust", "hostnossl all all ::1/128 trust"},
	"cert":  {"hostssl all all 127.0.0.1/32 cert", "hostssl all all ::1/128 cert"},
}

// scenario is one row of the conformance table: a server set-up, a client
// set-up and a connection string, with the outcome libpq gives.
type scenario struct {
	name string
	// leaf names the server certificate; the server sends it with the
	// intermediate unless leafOnly.
	leaf     string
	leafOnly bool
	hba      string // key of hbaProfiles; "" = both
	clientCA bool   // ssl_ca_file = the client root: the server asks for a certificate

	// root is the content of ~/.postgresql/root.crt: "" for none, else
	// "+"-separated names among A, B, interA, self.
	root string
	// client, when set, installs a client certificate and key as the
	// ~/.postgresql defaults: "chain" (leaf and intermediate in the cert
	// file), "leaf" (leaf only), "key0644" (chain, key world-readable).
	client string

	// params are appended to "port=P user=postgres dbname=postgres";
	// {port} is replaced by the server's port. A host must be given.
	params string

	want    outcome
	wantMsg string // for failures: text both pqssl's error and libpq's message contain
	// pqsslOnly marks a deliberate difference from libpq: psql's outcome is
	// libpqWant instead.
	libpqWant outcome
	needsIPv6 bool
}

func scenarios() []scenario {
	const lh = "host=localhost hostaddr=127.0.0.1"
	var s []scenario
	add := func(sc scenario) { s = append(s, sc) }

	// Section 2: encryption attempts and fallbacks, with no root file.
	for _, hba := range []string{"both", "tls", "plain"} {
		for _, mode := range []string{"disable", "allow", "prefer", "require"} {
			want := map[string]map[string]outcome{
				"both":  {"disable": outPlain, "allow": outPlain, "prefer": outTLS, "require": outTLS},
				"tls":   {"disable": outFail, "allow": outTLS, "prefer": outTLS, "require": outTLS},
				"plain": {"disable": outPlain, "allow": outPlain, "prefer": outPlain, "require": outFail},
			}[hba][mode]
			msg := ""
			if want == outFail {
				msg = "no pg_hba.conf entry"
			}
			add(scenario{name: fmt.Sprintf("hba %s, sslmode %s", hba, mode), leaf: "cn-only", hba: hba,
				params: lh + " sslmode=" + mode, want: want, wantMsg: msg})
		}
	}
	add(scenario{name: "no sslmode defaults to require", leaf: "cn-only", hba: "plain",
		params: lh, want: outFail, libpqWant: outPlain})
	add(scenario{name: "no sslmode, TLS server", leaf: "cn-only", params: lh, want: outTLS, libpqWant: outTLS})

	// Section 3: the root file, missing or present, in every mode.
	for _, mode := range []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"} {
		want, msg := outTLS, ""
		switch mode {
		case "disable", "allow":
			want = outPlain
		case "verify-ca", "verify-full":
			want, msg = outFail, "root certificate file"
		}
		add(scenario{name: "no root file, " + mode, leaf: "cn-only", params: lh + " sslmode=" + mode, want: want, wantMsg: msg})

		// A root file of the wrong CA: every mode that ends up on TLS
		// verifies against it; prefer falls back to plaintext.
		want, msg = outFail, "certificate verify failed"
		switch mode {
		case "disable", "allow", "prefer":
			want, msg = outPlain, ""
		}
		add(scenario{name: "wrong root file, " + mode, leaf: "cn-only", root: "B", params: lh + " sslmode=" + mode, want: want, wantMsg: msg})
		add(scenario{name: "right root file, " + mode, leaf: "cn-only", root: "A", params: lh + " sslmode=" + mode,
			want: map[bool]outcome{true: outPlain, false: outTLS}[mode == "disable" || mode == "allow"]})
	}
	add(scenario{name: "wrong root file, prefer, TLS-only server", leaf: "cn-only", root: "B", hba: "tls",
		params: lh + " sslmode=prefer", want: outFail, wantMsg: "certificate verify failed"})
	add(scenario{name: "explicit sslrootcert missing, require", leaf: "cn-only",
		params: lh + " sslmode=require sslrootcert=/nonexistent/root.crt", want: outTLS})
	add(scenario{name: "explicit sslrootcert missing, verify-ca", leaf: "cn-only",
		params: lh + " sslmode=verify-ca sslrootcert=/nonexistent/root.crt", want: outFail, wantMsg: `root certificate file "/nonexistent/root.crt" does not exist`})

	// Section 3: chains.
	chain := []struct {
		name, leaf, root string
		leafOnly         bool
		want             outcome
	}{
		{"whole chain in root file, server sends leaf only", "cn-only", "A+interA", true, outTLS},
		{"intermediate only in root file", "cn-only", "interA", false, outFail},
		{"intermediate only in root file, leaf only", "cn-only", "interA", true, outFail},
		{"wrong CA", "cn-only", "B", false, outFail},
		{"two CAs, right one second", "cn-only", "B+A", false, outTLS},
		{"two CAs, right one first", "cn-only", "A+B", false, outTLS},
		{"intermediate missing", "cn-only", "A", true, outFail},
		{"expired leaf", "expired", "A", false, outFail},
		{"not yet valid leaf", "not-yet-valid", "A", false, outFail},
		{"self-signed leaf in root file", "self-signed", "self", true, outTLS},
		{"self-signed leaf not in root file", "self-signed", "A", true, outFail},
	}
	for _, c := range chain {
		msg := ""
		if c.want == outFail {
			msg = "certificate verify failed"
		}
		add(scenario{name: "verify-ca: " + c.name, leaf: c.leaf, leafOnly: c.leafOnly, root: c.root,
			params: lh + " sslmode=verify-ca", want: c.want, wantMsg: msg})
	}
	add(scenario{name: "expired leaf, require without root file", leaf: "expired", params: lh + " sslmode=require", want: outTLS})
	add(scenario{name: "expired leaf, require with root file", leaf: "expired", root: "A", params: lh + " sslmode=require",
		want: outFail, wantMsg: "certificate verify failed"})

	// Section 4: host names under verify-full.
	names := []struct {
		leaf, host, hostaddr string
		want                 outcome
		msg                  string
		ipv6                 bool
	}{
		{"cn-only", "localhost", "", outTLS, "", false},
		{"cn-only", "other.test", "", outFail, `server certificate for "localhost" does not match host name "other.test"`, false},
		{"cn-only", "LOCALHOST", "", outTLS, "", false},
		{"cn-only", "localhost.", "", outFail, "does not match host name", false},
		{"sans", "localhost", "", outTLS, "", false},
		{"sans", "third.test", "", outTLS, "", false},
		{"sans", "ignored.test", "", outFail, `server certificate for "other.test" (and 2 other names) does not match host name "ignored.test"`, false},
		{"cn+san", "third.test", "", outFail, `server certificate for "other.test" does not match host name "third.test"`, false},
		{"ip4-san", "third.test", "", outFail, `server certificate for "other.test" (and 1 other name) does not match host name "third.test"`, false},
		{"cn+san", "localhost", "", outFail, `server certificate for "other.test" does not match host name "localhost"`, false},
		{"cn+san", "other.test", "", outTLS, "", false},
		{"no-names", "localhost", "", outFail, "could not get server's host name from server certificate", false},
		{"ip4-san", "127.0.0.1", "", outTLS, "", false},
		{"ip4-san", "127.1", "", outTLS, "", false},
		{"ip4-san", "0x7f.1", "", outTLS, "", false},
		{"ip4-san", "other.test", "", outTLS, "", false},
		{"ip4-san", "localhost", "", outFail, "does not match host name", false},
		{"ip4-san", "127.0.0.2", "", outFail, "does not match host name", false},
		{"ip6-san", "::1", "::1", outTLS, "", true},
		{"ip6-san", "0:0:0:0:0:0:0:1", "::1", outTLS, "", true},
		{"ip6-san", "localhost", "::1", outFail, "does not match host name", true},
		{"ip-in-cn", "127.0.0.1", "", outTLS, "", false},
		{"ip-in-cn", "127.1", "", outFail, "does not match host name", false},
		{"dns-san-ip-cn", "127.0.0.1", "", outTLS, "", false},
		{"dns-san-ip-cn", "other.test", "", outTLS, "", false},
		{"ip-as-dns", "127.0.0.1", "", outTLS, "", false},
		{"wildcard", "a.pqssl.test", "", outTLS, "", false},
		{"wildcard", "A.PQSSL.TEST", "", outTLS, "", false},
		{"wildcard", "a.b.pqssl.test", "", outFail, "does not match host name", false},
		{"wildcard", "pqssl.test", "", outFail, "does not match host name", false},
		{"upper", "localhost", "", outTLS, "", false},
	}
	for _, n := range names {
		addr := n.hostaddr
		if addr == "" {
			addr = "127.0.0.1"
		}
		add(scenario{name: fmt.Sprintf("verify-full: %s cert, host %s", n.leaf, n.host), leaf: n.leaf, root: "A",
			params: fmt.Sprintf("host=%s hostaddr=%s sslmode=verify-full", n.host, addr), want: n.want, wantMsg: n.msg, needsIPv6: n.ipv6})
	}
	add(scenario{name: "verify-ca ignores the host name", leaf: "cn-only", root: "A",
		params: "host=other.test hostaddr=127.0.0.1 sslmode=verify-ca", want: outTLS})
	add(scenario{name: "verify-full with hostaddr only", leaf: "ip4-san", root: "A",
		params: "hostaddr=127.0.0.1 sslmode=verify-full", want: outFail})
	add(scenario{name: "verify-ca with hostaddr only", leaf: "ip4-san", root: "A",
		params: "hostaddr=127.0.0.1 sslmode=verify-ca", want: outTLS})
	add(scenario{name: "multi-host, second host is the good one", leaf: "cn-only", root: "A",
		params: "host=localhost,localhost hostaddr=127.0.0.1,127.0.0.1 port={closed},{port} sslmode=verify-full", want: outTLS})
	add(scenario{name: "multi-host, second host is the good one, own names", leaf: "sans", root: "A",
		params: "host=other.test,third.test hostaddr=127.0.0.1,127.0.0.1 port={closed},{port} sslmode=verify-full", want: outTLS})
	// libpq 15 gives up after a failed TLS negotiation instead of trying
	// the next host (as after failed authentication).
	add(scenario{name: "multi-host, first certificate does not match", leaf: "cn-only", root: "A",
		params: "host=other.test,localhost hostaddr=127.0.0.1,127.0.0.1 port={port},{port} sslmode=verify-full",
		want:   outFail, wantMsg: `server certificate for "localhost" does not match host name "other.test"`})
	add(scenario{name: "multi-host, no good host", leaf: "cn-only", root: "A",
		params: "host=other.test,third.test hostaddr=127.0.0.1,127.0.0.1 sslmode=verify-full", want: outFail, wantMsg: "does not match host name"})
	add(scenario{name: "URI with verify-full", leaf: "cn-only", root: "A",
		params: "postgresql://postgres@localhost:{port}/postgres?hostaddr=127.0.0.1&sslmode=verify-full", want: outTLS})

	// Section 7: protocol versions.
	add(scenario{name: "ssl_max_protocol_version TLSv1.2", leaf: "cn-only", params: lh + " sslmode=require ssl_max_protocol_version=TLSv1.2", want: outTLS})
	add(scenario{name: "ssl_min_protocol_version tlsv1.3", leaf: "cn-only", params: lh + " sslmode=require ssl_min_protocol_version=tlsv1.3", want: outTLS})
	add(scenario{name: "protocol range inverted", leaf: "cn-only",
		params: lh + " sslmode=require ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2", want: outFail, wantMsg: "invalid SSL protocol version range"})

	// Section 6: client certificates from the ~/.postgresql defaults.
	add(scenario{name: "client chain from default files", leaf: "cn-only", hba: "cert", clientCA: true, client: "chain",
		params: lh + " sslmode=require", want: outTLS})
	add(scenario{name: "client leaf without its intermediate", leaf: "cn-only", hba: "cert", clientCA: true, client: "leaf",
		params: lh + " sslmode=require", want: outFail})
	add(scenario{name: "no client certificate", leaf: "cn-only", hba: "cert", clientCA: true,
		params: lh + " sslmode=require", want: outFail})
	add(scenario{name: "client key with group or world access", leaf: "cn-only", hba: "cert", clientCA: true, client: "key0644",
		params: lh + " sslmode=require", want: outFail, wantMsg: "has group or world access"})
	add(scenario{name: "client certificate sent though not needed", leaf: "cn-only", clientCA: true, client: "chain",
		params: lh + " sslmode=require", want: outTLS})
	return s
}

// setup returns the server options of the scenario.
func (sc scenario) serverOptions(p *scenarioPKI) pgtest.Options {
	o := pgtest.DefaultOptions()
	leaf := p.leaves[sc.leaf]
	o.ServerCert = leaf.CertPEM
	if !sc.leafOnly {
		o.ServerCert = testpki.ChainPEM(leaf, p.interA)
	}
	o.ServerKey = leaf.KeyPEM
	if sc.hba != "" {
		o.HBA = hbaProfiles[sc.hba]
	}
	if sc.clientCA {
		o.CA = p.clientRoot.CertPEM
	}
	return o
}

// home builds the scenario's home directory with its ~/.postgresql files.
func (sc scenario) home(t *testing.T, p *scenarioPKI) string {
	home := t.TempDir()
	dir := filepath.Join(home, ".postgresql")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if sc.root != "" {
		var pem []byte
		for _, name := range strings.Split(sc.root, "+") {
			c := map[string]*testpki.Cert{"A": p.rootA, "B": p.rootB, "interA": p.interA, "self": p.leaves["self-signed"]}[name]
			if c == nil {
				t.Fatalf("unknown root %q", name)
			}
			pem = append(pem, c.CertPEM...)
		}
		testpki.WriteFile(t, filepath.Join(dir, "root.crt"), pem, 0o644)
	}
	switch sc.client {
	case "":
	case "chain", "key0644":
		testpki.WriteFile(t, filepath.Join(dir, "postgresql.crt"), testpki.ChainPEM(p.clientLeaf, p.clientInter), 0o644)
		mode := os.FileMode(0o600)
		if sc.client == "key0644" {
			mode = 0o644
		}
		testpki.WriteFile(t, filepath.Join(dir, "postgresql.key"), p.clientLeaf.KeyPEM, mode)
	case "leaf":
		testpki.WriteFile(t, filepath.Join(dir, "postgresql.crt"), p.clientLeaf.CertPEM, 0o644)
		testpki.WriteFile(t, filepath.Join(dir, "postgresql.key"), p.clientLeaf.KeyPEM, 0o600)
	default:
		t.Fatalf("unknown client set-up %q", sc.client)
	}
	return home
}

// TestScenarios runs every scenario through pqssl and, where psql is
// installed, through libpq, against a real server, and asserts that both
// give the expected outcome.
func TestScenarios(t *testing.T) {
	cluster := pgtest.Shared(t)
	p := getScenarioPKI(t)
	haveLibpq := psqlAvailable(t)

	all := scenarios()
	// Group scenarios by server set-up so the server reloads seldom.
	key := func(sc scenario) string {
		return fmt.Sprintf("%s|%v|%s|%v", sc.leaf, sc.leafOnly, sc.hba, sc.clientCA)
	}
	slices.SortStableFunc(all, func(a, b scenario) int { return strings.Compare(key(a), key(b)) })

	var checked, againstLibpq int
	current := ""
	for _, sc := range all {
		t.Run(sc.name, func(t *testing.T) {
			if sc.needsIPv6 && !cluster.IPv6 {
				t.Skip("no IPv6 loopback")
			}
			if k := key(sc); k != current {
				if err := cluster.Apply(sc.serverOptions(p)); err != nil {
					t.Fatalf("server set-up: %v", err)
				}
				current = k
			}
			home := sc.home(t, p)
			dsn := strings.NewReplacer("{port}", fmt.Sprint(cluster.Port), "{closed}", fmt.Sprint(closedPort(t))).Replace(sc.params)
			if !strings.HasPrefix(dsn, "postgresql://") {
				if !strings.Contains(dsn, "port=") {
					dsn += fmt.Sprintf(" port=%d", cluster.Port)
				}
				dsn += " user=postgres dbname=postgres"
			}

			t.Setenv("HOME", home)
			got, err := connectPqssl(t, dsn)
			if got != sc.want {
				t.Errorf("pqssl: %s (err %v), want %s", got, err, sc.want)
			}
			if sc.want == outFail && sc.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), sc.wantMsg)) {
				t.Errorf("pqssl error %q does not contain %q", err, sc.wantMsg)
			}
			checked++

			if !haveLibpq {
				return
			}
			libpqWant := sc.want
			if sc.libpqWant != "" {
				libpqWant = sc.libpqWant
			}
			lgot, lmsg := connectLibpq(t, dsn, home, nil)
			againstLibpq++
			if lgot != libpqWant {
				t.Errorf("libpq: %s (%s), want %s", lgot, lmsg, libpqWant)
			}
			if libpqWant == outFail && sc.wantMsg != "" && !strings.Contains(lmsg, sc.wantMsg) {
				t.Errorf("libpq message %q does not contain %q", lmsg, sc.wantMsg)
			}
		})
	}
	t.Logf("%d scenarios checked through pqssl, %d of them also through libpq", checked, againstLibpq)
}

// TestCommonNameOnlyCertificate shows the reason pqssl exists: the server
// certificate the PostgreSQL documentation's recipe makes, with the host
// name only in its Common Name, passes verify-full through libpq and pqssl
// and fails through plain lib/pq.
func TestCommonNameOnlyCertificate(t *testing.T) {
	cluster := pgtest.Shared(t)
	p := getScenarioPKI(t)
	sc := scenario{leaf: "cn-only"}
	if err := cluster.Apply(sc.serverOptions(p)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := testpki.WriteFile(t, filepath.Join(dir, "root.crt"), p.rootA.CertPEM, 0o644)
	t.Setenv("HOME", dir)
	dsn := fmt.Sprintf("host=localhost port=%d user=postgres dbname=postgres sslmode=verify-full sslrootcert=%s", cluster.Port, root)

	if got, err := connectPqssl(t, dsn); got != outTLS {
		t.Errorf("pqssl: %s (%v), want %s", got, err, outTLS)
	}

	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Ping()
	if err == nil {
		t.Error("lib/pq accepted the CN-only certificate under verify-full; this test no longer shows a difference")
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("lib/pq failed for another reason: %v", err)
	}

	if psqlAvailable(t) {
		if got, msg := connectLibpq(t, dsn, dir, nil); got != outTLS {
			t.Errorf("libpq: %s (%s), want %s", got, msg, outTLS)
		}
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}
