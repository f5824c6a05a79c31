package conformance

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"time"

	"github.com/pqssl/pqssl/internal/testpki"
)

// Report sections, in the order the report shows them.
const (
	GroupModes      = "sslmode"
	GroupServer     = "server"
	GroupHostname   = "hostname"
	GroupChain      = "chain"
	GroupExtension  = "extension"
	GroupAlgorithm  = "algorithm"
	GroupRevocation = "revocation"
	GroupClient     = "client"
)

// Groups lists the report sections in order, with their titles.
var Groups = []struct{ Name, Title string }{
	{GroupModes, "sslmode, root file and pg_hba.conf"},
	{GroupServer, "Server behaviour and protocol settings"},
	{GroupHostname, "Host name checks (verify-full)"},
	{GroupChain, "Chain building and validity"},
	{GroupExtension, "Certificate extensions"},
	{GroupAlgorithm, "Key and signature algorithms, encodings"},
	{GroupRevocation, "Revocation lists (sslcrl, sslcrldir)"},
	{GroupClient, "Client certificates and sslcertmode"},
}

// base is the connection string of most cases, sslmode and host name
// aside: hostaddr makes any host name reach the test server without DNS.
const base = "port={port} user=postgres dbname=postgres connect_timeout=10"

// dsn builds a key=value connection string for host (reached at
// 127.0.0.1) with extra parameters.
func dsn(host, extra string) string {
	s := "host=" + quote(host) + " hostaddr=127.0.0.1 " + base
	if extra != "" {
		s += " " + extra
	}
	return s
}

// quote quotes a connection string value when it needs it.
func quote(v string) string {
	if v != "" && !strings.ContainsAny(v, " '\\\t\n") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// Paths in a case's home directory.
const (
	rootCrt = ".postgresql/root.crt"
	rootCrl = ".postgresql/root.crl"
	userCrt = ".postgresql/postgresql.crt"
	userKey = ".postgresql/postgresql.key"
)

// hbaProfiles are the pg_hba.conf variants of Server.HBA.
var hbaProfiles = map[string][]string{
	"both":  {"host all all 127.0.0.1/32 trust", "host all all ::1/128 trust"},
	"tls":   {"hostssl all all 127.0.0.1/32 trust", "hostssl all all ::1/128 trust"},
	"plain": {"hostnossl all all 127.0.0.1/32 trust", "hostnossl all all ::1/128 trust"},
	"cert":  {"hostssl all all 127.0.0.1/32 cert", "hostssl all all ::1/128 cert"},
}

// gen accumulates the matrix.
type gen struct {
	b       builder
	now     time.Time
	cases   []Case
	servers map[string]*Server
	stdp    *stdPKI
}

func (g *gen) add(c Case) {
	g.cases = append(g.cases, c)
}

// server returns the named server configuration, creating it from chain
// and key the first time.
func (g *gen) server(name string, chain, key []byte, hba string, clientCA []byte, conf map[string]string) *Server {
	if s, ok := g.servers[name]; ok {
		return s
	}
	s := &Server{Name: name, Chain: chain, Key: key, HBA: hba, ClientCA: clientCA, Conf: conf}
	g.servers[name] = s
	return s
}

// existing returns a server configuration made earlier by name.
func (g *gen) existing(name string) *Server {
	s, ok := g.servers[name]
	if !ok {
		g.b.fail(fmt.Errorf("no server configuration %q", name))
		return &Server{Name: name}
	}
	return s
}

func rootFile(certs ...*testpki.Cert) File {
	return File{Path: rootCrt, Data: testpki.ChainPEM(certs...), Mode: 0o644}
}

// Generate returns the cases of the matrix in report order: every case in
// Full mode, the fast subset in Fast mode. It makes every certificate
// afresh.
func Generate(mode Mode) ([]Case, error) {
	g := &gen{now: time.Now(), servers: map[string]*Server{}}
	g.modes()
	g.serverBehaviour()
	g.hostnames()
	g.chains()
	g.extensions()
	g.algorithms()
	g.revocation()
	g.client()
	if g.b.err != nil {
		return nil, fmt.Errorf("conformance: generating certificates: %w", g.b.err)
	}
	seen := map[string]bool{}
	var out []Case
	for _, c := range g.cases {
		if seen[c.ID] {
			return nil, fmt.Errorf("conformance: duplicate case %s", c.ID)
		}
		seen[c.ID] = true
		if mode == Full || c.Fast {
			out = append(out, c)
		}
	}
	return out, nil
}

// stdPKI is the certificate set most groups share: root A with an
// intermediate, an unrelated root B, and a leaf for "localhost".
type stdPKI struct {
	rootA, interA, rootB *testpki.Cert
	leaf                 *testpki.Cert // CN and SAN localhost, under interA
	chain                []byte        // leaf + interA
}

func (g *gen) std() *stdPKI {
	if g.stdp != nil {
		return g.stdp
	}
	p := &stdPKI{}
	p.rootA = g.b.root(testpki.Spec{CommonName: "Conformance Root A"})
	p.interA = g.b.issue(p.rootA, testpki.Spec{CommonName: "Conformance Intermediate A", IsCA: true})
	p.rootB = g.b.root(testpki.Spec{CommonName: "Conformance Root B"})
	p.leaf = g.b.issue(p.interA, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	p.chain = testpki.ChainPEM(p.leaf, p.interA)
	g.stdp = p
	return p
}

// modes: every sslmode, with no root file, the right one and a wrong one,
// against servers whose pg_hba.conf allows TLS only, plaintext only or both.
func (g *gen) modes() {
	p := g.std()
	roots := []struct {
		name  string
		files []File
		desc  string
	}{
		{"noroot", nil, "no root file"},
		{"rootok", []File{rootFile(p.rootA)}, "root file with the right CA"},
		{"rootbad", []File{rootFile(p.rootB)}, "root file with another CA"},
	}
	modes := []string{"", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
	for _, hba := range []string{"both", "tls", "plain"} {
		srv := g.server("std-"+hba, p.chain, p.leaf.KeyPEM, hba, nil, nil)
		for _, r := range roots {
			for _, m := range modes {
				extra, mname := "sslmode="+m, m
				if m == "" {
					extra, mname = "", "unset"
				}
				fast := (hba == "both" || m == "require" || m == "prefer") && (r.name != "rootok" || m == "verify-full" || m == "require")
				g.add(Case{
					ID:     fmt.Sprintf("%s/%s/hba-%s/%s", GroupModes, mname, hba, r.name),
					Group:  GroupModes,
					Desc:   fmt.Sprintf("sslmode %s, %s, pg_hba %s", mname, r.desc, hba),
					Server: srv,
					Files:  r.files,
					DSN:    dsn("localhost", extra),
					Fast:   fast,
				})
			}
		}
	}

	srv := g.existing("std-both")
	add := func(id, desc string, files []File, d string, env map[string]string, fast bool) {
		g.add(Case{ID: GroupModes + "/" + id, Group: GroupModes, Desc: desc, Server: srv, Files: files, DSN: d, Env: env, Fast: fast})
	}
	other := File{Path: "roots/a.pem", Data: p.rootA.CertPEM, Mode: 0o644}
	otherB := File{Path: "roots/b.pem", Data: p.rootB.CertPEM, Mode: 0o644}
	add("sslrootcert-explicit/verify-full", "sslrootcert names the right CA outside ~/.postgresql",
		[]File{other}, dsn("localhost", "sslmode=verify-full sslrootcert={home}/roots/a.pem"), nil, true)
	add("sslrootcert-explicit/beats-default", "sslrootcert names the right CA, ~/.postgresql/root.crt a wrong one",
		[]File{other, rootFile(p.rootB)}, dsn("localhost", "sslmode=verify-ca sslrootcert={home}/roots/a.pem"), nil, false)
	add("sslrootcert-explicit/wrong-ca-require", "sslrootcert names another CA, sslmode require",
		[]File{otherB}, dsn("localhost", "sslmode=require sslrootcert={home}/roots/b.pem"), nil, true)
	add("sslrootcert-missing/require", "sslrootcert names a missing file, sslmode require",
		nil, dsn("localhost", "sslmode=require sslrootcert={home}/missing.crt"), nil, false)
	add("sslrootcert-missing/prefer", "sslrootcert names a missing file, sslmode prefer",
		nil, dsn("localhost", "sslmode=prefer sslrootcert={home}/missing.crt"), nil, false)
	add("sslrootcert-missing/verify-ca", "sslrootcert names a missing file, sslmode verify-ca",
		nil, dsn("localhost", "sslmode=verify-ca sslrootcert={home}/missing.crt"), nil, true)
	add("sslrootcert-missing/verify-full", "sslrootcert names a missing file, sslmode verify-full",
		[]File{rootFile(p.rootA)}, dsn("localhost", "sslmode=verify-full sslrootcert={home}/missing.crt"), nil, false)
	add("sslrootcert-empty-value/verify-ca", "sslrootcert set to the empty string, root.crt present, verify-ca",
		[]File{rootFile(p.rootA)}, dsn("localhost", "sslmode=verify-ca sslrootcert=''"), nil, false)
	add("sslrootcert-directory/require", "sslrootcert names a directory, sslmode require",
		[]File{{Path: "rootdir", Dir: true}}, dsn("localhost", "sslmode=require sslrootcert={home}/rootdir"), nil, false)
	add("root-garbage/require", "root.crt holds no certificate, sslmode require",
		[]File{{Path: rootCrt, Data: []byte("not a certificate\n"), Mode: 0o644}}, dsn("localhost", "sslmode=require"), nil, true)
	add("root-garbage/prefer", "root.crt holds no certificate, sslmode prefer",
		[]File{{Path: rootCrt, Data: []byte("not a certificate\n"), Mode: 0o644}}, dsn("localhost", "sslmode=prefer"), nil, false)
	add("root-garbage/verify-full", "root.crt holds no certificate, sslmode verify-full",
		[]File{{Path: rootCrt, Data: []byte("not a certificate\n"), Mode: 0o644}}, dsn("localhost", "sslmode=verify-full"), nil, false)
	add("root-empty/require", "root.crt is empty, sslmode require",
		[]File{{Path: rootCrt, Data: []byte{}, Mode: 0o644}}, dsn("localhost", "sslmode=require"), nil, false)
	add("root-truncated/verify-ca", "root.crt holds a truncated PEM block, sslmode verify-ca",
		[]File{{Path: rootCrt, Data: p.rootA.CertPEM[:len(p.rootA.CertPEM)/2], Mode: 0o644}}, dsn("localhost", "sslmode=verify-ca"), nil, false)
	add("root-with-junk/verify-ca", "root.crt holds text around the right CA's PEM block, sslmode verify-ca",
		[]File{{Path: rootCrt, Data: append(append([]byte("Subject: test root\n"), p.rootA.CertPEM...), "trailing words\n"...), Mode: 0o644}},
		dsn("localhost", "sslmode=verify-ca"), nil, false)
	add("env/PGSSLMODE-verify-full", "PGSSLMODE=verify-full, right root file",
		[]File{rootFile(p.rootA)}, dsn("localhost", ""), map[string]string{"PGSSLMODE": "verify-full"}, true)
	add("env/PGSSLMODE-verify-full-wrong-host", "PGSSLMODE=verify-full, host name not in the certificate",
		[]File{rootFile(p.rootA)}, dsn("other.test", ""), map[string]string{"PGSSLMODE": "verify-full"}, false)
	add("env/PGSSLMODE-overridden", "PGSSLMODE=verify-full overridden by sslmode=require in the string",
		[]File{rootFile(p.rootB)}, dsn("localhost", "sslmode=require"), map[string]string{"PGSSLMODE": "verify-full"}, false)
	add("env/PGSSLROOTCERT", "PGSSLROOTCERT names the right CA, sslmode verify-full",
		[]File{other}, dsn("localhost", "sslmode=verify-full"), map[string]string{"PGSSLROOTCERT": "{home}/roots/a.pem"}, false)
	add("env/PGSSLROOTCERT-wrong", "PGSSLROOTCERT names another CA, sslmode require",
		[]File{otherB}, dsn("localhost", "sslmode=require"), map[string]string{"PGSSLROOTCERT": "{home}/roots/b.pem"}, false)
	add("uri/verify-full", "URI with sslmode=verify-full",
		[]File{rootFile(p.rootA)}, "postgresql://postgres@localhost:{port}/postgres?hostaddr=127.0.0.1&sslmode=verify-full&connect_timeout=10", nil, true)
	add("uri/sslrootcert", "URI with a percent-encoded sslrootcert path",
		[]File{{Path: "my roots/a.pem", Data: p.rootA.CertPEM, Mode: 0o644}},
		"postgresql://postgres@localhost:{port}/postgres?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={home}/my%20roots/a.pem&connect_timeout=10", nil, false)
	add("requiressl/1", "deprecated requiressl=1 with a wrong root file",
		[]File{rootFile(p.rootB)}, dsn("localhost", "requiressl=1"), nil, false)
	add("invalid-sslmode", "sslmode=verify",
		nil, dsn("localhost", "sslmode=verify"), nil, true)
	add("sslmode-case", "sslmode=REQUIRE (upper case)",
		nil, dsn("localhost", "sslmode=REQUIRE"), nil, false)

	// sslrootcert=system (libpq 16): the local libpq takes "system" for a
	// file name. The test CA is in no system store.
	system := []struct {
		id, extra, desc string
		want            *Verdict
	}{
		{"system/no-sslmode", "sslrootcert=system", "sslrootcert=system without sslmode (defaults to verify-full)",
			&Verdict{Outcome: Fail, Message: "SSL error: certificate verify failed"}},
		{"system/verify-full", "sslrootcert=system sslmode=verify-full", "sslrootcert=system, verify-full",
			&Verdict{Outcome: Fail, Message: "SSL error: certificate verify failed"}},
		{"system/verify-ca", "sslrootcert=system sslmode=verify-ca", "sslrootcert=system, verify-ca",
			&Verdict{Outcome: Fail, Message: `weak sslmode "verify-ca" may not be used with sslrootcert=system (use "verify-full")`}},
		{"system/require", "sslrootcert=system sslmode=require", "sslrootcert=system, require",
			&Verdict{Outcome: Fail, Message: `weak sslmode "require" may not be used with sslrootcert=system (use "verify-full")`}},
	}
	for _, c := range system {
		g.add(Case{ID: GroupModes + "/" + c.id, Group: GroupModes, Desc: c.desc, Server: srv,
			Files: []File{rootFile(p.rootA)}, DSN: dsn("localhost", c.extra), Fast: c.id == "system/require",
			MinLibpq: 16, Expect: c.want,
			Note: "sslrootcert=system is new in libpq 16; expected verdict from libpq 16's source"})
	}
}

// serverBehaviour: servers with TLS off or limited to some protocol
// versions, client protocol settings, SNI, and hosts that cannot be reached.
func (g *gen) serverBehaviour() {
	p := g.std()
	off := g.server("ssl-off", p.chain, p.leaf.KeyPEM, "both", nil, map[string]string{"ssl": "off"})
	for _, m := range []string{"", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"} {
		extra, mname := "sslmode="+m, m
		if m == "" {
			extra, mname = "", "unset"
		}
		for _, withRoot := range []bool{false, true} {
			var files []File
			rdesc, rid := "no root file", "noroot"
			if withRoot {
				files, rdesc, rid = []File{rootFile(p.rootA)}, "right root file", "rootok"
			}
			g.add(Case{
				ID:     fmt.Sprintf("%s/ssl-off/%s/%s", GroupServer, mname, rid),
				Group:  GroupServer,
				Desc:   fmt.Sprintf("server with ssl=off, sslmode %s, %s", mname, rdesc),
				Server: off, Files: files, DSN: dsn("localhost", extra),
				Fast: !withRoot && (m == "prefer" || m == "require"),
			})
		}
	}

	tls13 := g.server("tls13-only", p.chain, p.leaf.KeyPEM, "both", nil, map[string]string{"ssl_min_protocol_version": "TLSv1.3"})
	tls12 := g.server("tls12-only", p.chain, p.leaf.KeyPEM, "both", nil, map[string]string{"ssl_max_protocol_version": "TLSv1.2"})
	std := g.existing("std-both")
	stdTLS := g.existing("std-tls")
	add := func(id, desc string, srv *Server, files []File, d string, fast bool) {
		g.add(Case{ID: GroupServer + "/" + id, Group: GroupServer, Desc: desc, Server: srv, Files: files, DSN: d, Fast: fast})
	}
	add("tls13-server/client-max-1.2/require", "server needs TLS 1.3, client ssl_max_protocol_version=TLSv1.2, require",
		tls13, nil, dsn("localhost", "sslmode=require ssl_max_protocol_version=TLSv1.2"), true)
	add("tls13-server/client-max-1.2/prefer", "server needs TLS 1.3, client ssl_max_protocol_version=TLSv1.2, prefer",
		tls13, nil, dsn("localhost", "sslmode=prefer ssl_max_protocol_version=TLSv1.2"), true)
	add("tls13-server/client-max-1.2/allow", "server needs TLS 1.3, client ssl_max_protocol_version=TLSv1.2, allow",
		tls13, nil, dsn("localhost", "sslmode=allow ssl_max_protocol_version=TLSv1.2"), false)
	add("tls13-server/client-default", "server needs TLS 1.3, client defaults, verify-full",
		tls13, []File{rootFile(p.rootA)}, dsn("localhost", "sslmode=verify-full"), false)
	add("tls12-server/client-min-1.3/require", "server allows at most TLS 1.2, client ssl_min_protocol_version=TLSv1.3",
		tls12, nil, dsn("localhost", "sslmode=require ssl_min_protocol_version=TLSv1.3"), false)
	add("tls12-server/client-default", "server allows at most TLS 1.2, client defaults, verify-full",
		tls12, []File{rootFile(p.rootA)}, dsn("localhost", "sslmode=verify-full"), false)
	add("tls12-server/client-max-1.1", "server allows TLS 1.2, client ssl_max_protocol_version=TLSv1.1",
		tls12, nil, dsn("localhost", "sslmode=require ssl_max_protocol_version=TLSv1.1"), false)
	add("client-min-tls1.3", "ssl_min_protocol_version=TLSv1.3",
		std, nil, dsn("localhost", "sslmode=require ssl_min_protocol_version=TLSv1.3"), false)
	add("client-min-lowercase", "ssl_min_protocol_version=tlsv1.2 (lower case)",
		std, nil, dsn("localhost", "sslmode=require ssl_min_protocol_version=tlsv1.2"), false)
	add("client-min-invalid", "ssl_min_protocol_version=TLSv1.4",
		std, nil, dsn("localhost", "sslmode=require ssl_min_protocol_version=TLSv1.4"), true)
	add("client-max-invalid", "ssl_max_protocol_version=SSLv3",
		std, nil, dsn("localhost", "sslmode=require ssl_max_protocol_version=SSLv3"), false)
	add("client-range-inverted", "ssl_min_protocol_version=TLSv1.3 above ssl_max_protocol_version=TLSv1.2",
		std, nil, dsn("localhost", "sslmode=require ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2"), false)
	add("client-range-inverted-disable", "inverted protocol range with sslmode=disable",
		std, nil, dsn("localhost", "sslmode=disable ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2"), false)
	add("sslsni-0", "sslsni=0, verify-full",
		std, []File{rootFile(p.rootA)}, dsn("localhost", "sslmode=verify-full sslsni=0"), false)
	add("sslcompression-1", "sslcompression=1 (obsolete, ignored)",
		std, nil, dsn("localhost", "sslmode=require sslcompression=1"), false)
	add("multi-host/closed-then-good", "two hosts, the first port closed, verify-full",
		std, []File{rootFile(p.rootA)},
		"host=localhost,localhost hostaddr=127.0.0.1,127.0.0.1 port={closed},{port} user=postgres dbname=postgres connect_timeout=10 sslmode=verify-full", true)
	add("multi-host/wrong-name-first", "two hosts, the first one's name not in the certificate, verify-full",
		std, []File{rootFile(p.rootA)},
		"host=other.test,localhost hostaddr=127.0.0.1,127.0.0.1 port={port},{port} user=postgres dbname=postgres connect_timeout=10 sslmode=verify-full", true)
	add("multi-host/plain-refused-then-tls", "two hosts, TLS-only server, sslmode disable then the same",
		stdTLS, nil,
		"host=localhost,localhost hostaddr=127.0.0.1,127.0.0.1 port={port},{port} user=postgres dbname=postgres connect_timeout=10 sslmode=disable", false)
	add("closed-port/prefer", "nothing listens on the port, prefer",
		std, nil, "host=localhost hostaddr=127.0.0.1 port={closed} user=postgres dbname=postgres connect_timeout=10 sslmode=prefer", false)
	add("tls-server/prefer-wrong-root", "TLS-only server, prefer with a wrong root file",
		stdTLS, []File{rootFile(p.rootB)}, dsn("localhost", "sslmode=prefer"), false)
	add("tls-server/allow-wrong-root", "TLS-only server, allow with a wrong root file",
		stdTLS, []File{rootFile(p.rootB)}, dsn("localhost", "sslmode=allow"), false)
}

// hostnames: verify-full against certificates naming hosts in every way.
func (g *gen) hostnames() {
	root := g.b.root(testpki.Spec{CommonName: "Conformance Names Root"})
	inter := g.b.issue(root, testpki.Spec{CommonName: "Conformance Names Intermediate", IsCA: true})
	files := []File{rootFile(root)}
	ip := func(s string) net.IP { return net.ParseIP(s) }
	type check struct {
		host string
		fast bool
	}
	certs := []struct {
		name, desc string
		spec       testpki.Spec
		hosts      []check
	}{
		{"san-dns", "SAN dNSName localhost, CN localhost", testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}},
			[]check{{"localhost", true}, {"LOCALHOST", false}, {"LocalHost", false}, {"localhost.", true}, {"localhost..", false}, {"other.test", false}, {"localhos", false}, {"xlocalhost", false}, {"127.0.0.1", false}}},
		{"san-upper", "SAN dNSName DB.EXAMPLE.TEST", testpki.Spec{CommonName: "ignored", DNSNames: []string{"DB.EXAMPLE.TEST"}},
			[]check{{"db.example.test", false}, {"Db.Example.Test", false}}},
		{"san-trailing-dot", "SAN dNSName db.example.test. (trailing dot)", testpki.Spec{CommonName: "ignored", DNSNames: []string{"db.example.test."}},
			[]check{{"db.example.test", true}, {"db.example.test.", false}}},
		{"cn-only", "CN db.example.test, no SAN", testpki.Spec{CommonName: "db.example.test"},
			[]check{{"db.example.test", true}, {"DB.EXAMPLE.TEST", false}, {"db.example.test.", false}, {"other.example.test", false}, {"example.test", false}}},
		{"cn-and-san", "CN db.example.test, SAN dNSName other.example.test", testpki.Spec{CommonName: "db.example.test", DNSNames: []string{"other.example.test"}},
			[]check{{"db.example.test", true}, {"other.example.test", false}}},
		{"san-several", "SAN dNSNames a.example.test, b.example.test, c.example.test, CN z.example.test",
			testpki.Spec{CommonName: "z.example.test", DNSNames: []string{"a.example.test", "b.example.test", "c.example.test"}},
			[]check{{"a.example.test", false}, {"c.example.test", false}, {"z.example.test", true}, {"d.example.test", false}}},
		{"no-names", "no SAN, no CN (organization only)", testpki.Spec{Subject: &pkix.Name{Organization: []string{"Conformance"}}},
			[]check{{"localhost", true}}},
		{"empty-subject", "no SAN, empty subject", testpki.Spec{Subject: &pkix.Name{}, DNSNames: nil, ExtraExtensions: nil},
			[]check{{"localhost", false}}},
		{"san-uri-only", "SAN with a URI only, CN db.example.test",
			testpki.Spec{CommonName: "db.example.test", ExtraExtensions: []pkix.Extension{sanExt(g, uriName("https://db.example.test/"))}},
			[]check{{"db.example.test", false}}},
		{"san-email-only", "SAN with an rfc822Name only, CN db.example.test",
			testpki.Spec{CommonName: "db.example.test", ExtraExtensions: []pkix.Extension{sanExt(g, emailName("dba@db.example.test"))}},
			[]check{{"db.example.test", false}}},
		{"two-cns", "two CN attributes: first.example.test, second.example.test",
			testpki.Spec{Subject: &pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
				{Type: oidCN, Value: "first.example.test"}, {Type: oidCN, Value: "second.example.test"}}}},
			[]check{{"first.example.test", true}, {"second.example.test", true}}},
		{"wildcard", "SAN *.example.test", testpki.Spec{CommonName: "ignored", DNSNames: []string{"*.example.test"}},
			[]check{{"a.example.test", true}, {"A.EXAMPLE.TEST", false}, {"a.b.example.test", true}, {"example.test", false}, {".example.test", false}, {"-.example.test", false}, {"a.example.test.", false}}},
		{"wildcard-two-labels", "SAN *.*.example.test", testpki.Spec{CommonName: "ignored", DNSNames: []string{"*.*.example.test"}},
			[]check{{"a.b.example.test", true}, {"a.example.test", false}}},
		{"wildcard-alone", "SAN *", testpki.Spec{CommonName: "ignored", DNSNames: []string{"*"}},
			[]check{{"localhost", true}}},
		{"wildcard-dot", "SAN *.", testpki.Spec{CommonName: "ignored", DNSNames: []string{"*."}},
			[]check{{"localhost.", false}}},
		{"wildcard-partial-prefix", "SAN f*.example.test", testpki.Spec{CommonName: "ignored", DNSNames: []string{"f*.example.test"}},
			[]check{{"foo.example.test", true}, {"f.example.test", false}}},
		{"wildcard-partial-suffix", "SAN *o.example.test", testpki.Spec{CommonName: "ignored", DNSNames: []string{"*o.example.test"}},
			[]check{{"foo.example.test", false}}},
		{"wildcard-middle", "SAN db.*.example.test", testpki.Spec{CommonName: "ignored", DNSNames: []string{"db.*.example.test"}},
			[]check{{"db.eu.example.test", false}}},
		{"wildcard-public-suffix", "SAN *.co.uk", testpki.Spec{CommonName: "ignored", DNSNames: []string{"*.co.uk"}},
			[]check{{"example.co.uk", true}, {"a.example.co.uk", false}}},
		{"wildcard-tld", "SAN *.test", testpki.Spec{CommonName: "ignored", DNSNames: []string{"*.test"}},
			[]check{{"example.test", false}}},
		{"wildcard-cn", "CN *.example.test, no SAN", testpki.Spec{CommonName: "*.example.test"},
			[]check{{"a.example.test", true}, {"a.b.example.test", false}}},
		{"wildcard-idn", "SAN *.xn--bcher-kva.example", testpki.Spec{CommonName: "ignored", DNSNames: []string{"*.xn--bcher-kva.example"}},
			[]check{{"db.xn--bcher-kva.example", false}}},
		{"idn-punycode", "SAN xn--bcher-kva.example (bücher.example)", testpki.Spec{CommonName: "ignored", DNSNames: []string{"xn--bcher-kva.example"}},
			[]check{{"xn--bcher-kva.example", true}, {"XN--BCHER-KVA.EXAMPLE", false}, {"bücher.example", true}}},
		{"idn-cn-utf8", "CN bücher.example (UTF-8), no SAN", testpki.Spec{CommonName: "bücher.example"},
			[]check{{"bücher.example", true}, {"xn--bcher-kva.example", false}, {"BÜCHER.example", false}}},
		{"nul-san", "SAN dNSName with an embedded NUL: localhost\\0.evil.test", testpki.Spec{CommonName: "ignored", DNSNames: []string{"localhost\x00.evil.test"}},
			[]check{{"localhost", true}, {"other.test", false}}},
		{"nul-san-second", "SAN dNSNames localhost, then one with an embedded NUL", testpki.Spec{CommonName: "ignored", DNSNames: []string{"localhost", "a\x00b"}},
			[]check{{"localhost", false}, {"other.test", false}}},
		{"nul-cn", "CN with an embedded NUL: localhost\\0.evil.test, no SAN", testpki.Spec{CommonName: "localhost\x00.evil.test"},
			[]check{{"localhost", true}}},
		{"ip4-san", "SAN iPAddress 127.0.0.1 and dNSName db.example.test", testpki.Spec{CommonName: "ignored", DNSNames: []string{"db.example.test"}, IPAddresses: []net.IP{ip("127.0.0.1")}},
			[]check{{"127.0.0.1", true}, {"127.1", true}, {"0x7f.1", false}, {"0x7f000001", false}, {"2130706433", false}, {"0177.0.0.1", false}, {"127.0.1", false}, {"127.0.0.2", false}, {"127.0.0.1.", false}, {" 127.0.0.1", false}, {"db.example.test", false}, {"::ffff:127.0.0.1", false}}},
		{"ip4-cn", "CN 127.0.0.1, no SAN", testpki.Spec{CommonName: "127.0.0.1"},
			[]check{{"127.0.0.1", true}, {"127.1", false}}},
		{"ip4-cn-dns-san", "CN 127.0.0.1, SAN dNSName db.example.test", testpki.Spec{CommonName: "127.0.0.1", DNSNames: []string{"db.example.test"}},
			[]check{{"127.0.0.1", true}, {"db.example.test", false}}},
		{"ip4-cn-ip-san", "CN 127.0.0.1, SAN iPAddress 10.0.0.1", testpki.Spec{CommonName: "127.0.0.1", IPAddresses: []net.IP{ip("10.0.0.1")}},
			[]check{{"127.0.0.1", true}, {"10.0.0.1", false}}},
		{"ip4-as-dns", "SAN dNSName 127.0.0.1", testpki.Spec{CommonName: "ignored", DNSNames: []string{"127.0.0.1"}},
			[]check{{"127.0.0.1", true}, {"127.1", false}}},
		{"ip6-san", "SAN iPAddress ::1", testpki.Spec{CommonName: "ignored", IPAddresses: []net.IP{ip("::1")}},
			[]check{{"::1", true}, {"0:0:0:0:0:0:0:1", false}, {"0000:0000:0000:0000:0000:0000:0000:0001", false}, {"::0:1", false}, {"::1%lo", true}, {"::2", false}, {"localhost", false}}},
		{"ip6-san-full", "SAN iPAddress 2001:db8::10", testpki.Spec{CommonName: "ignored", IPAddresses: []net.IP{ip("2001:db8::10")}},
			[]check{{"2001:db8::10", false}, {"2001:DB8:0:0:0:0:0:10", false}, {"2001:db8::1:0", false}}},
		{"ip6-mapped", "SAN iPAddress ::ffff:127.0.0.1 (stored as 4 bytes)", testpki.Spec{CommonName: "ignored", IPAddresses: []net.IP{ip("::ffff:127.0.0.1")}},
			[]check{{"::ffff:127.0.0.1", false}, {"127.0.0.1", false}}},
		{"ip6-as-dns", "SAN dNSName ::1", testpki.Spec{CommonName: "ignored", DNSNames: []string{"::1"}},
			[]check{{"::1", false}, {"0::1", false}}},
		{"ip6-cn", "CN ::1, no SAN", testpki.Spec{CommonName: "::1"},
			[]check{{"::1", false}}},
	}
	for _, c := range certs {
		leaf := g.b.issue(inter, c.spec)
		srv := g.server("names-"+c.name, testpki.ChainPEM(leaf, inter), leaf.KeyPEM, "both", nil, nil)
		for _, h := range c.hosts {
			g.add(Case{
				ID:     fmt.Sprintf("%s/%s/%s", GroupHostname, c.name, hostID(h.host)),
				Group:  GroupHostname,
				Desc:   fmt.Sprintf("%s; host %s", c.desc, showHost(h.host)),
				Server: srv, Files: files,
				DSN:  dsn(h.host, "sslmode=verify-full"),
				Fast: h.fast,
			})
		}
	}
	// verify-ca never looks at names; hostaddr alone leaves verify-full
	// without a host name.
	leaf := g.b.issue(inter, testpki.Spec{CommonName: "db.example.test", IPAddresses: []net.IP{ip("127.0.0.1")}})
	srv := g.server("names-verify-ca", testpki.ChainPEM(leaf, inter), leaf.KeyPEM, "both", nil, nil)
	add := func(id, desc, d string, fast bool) {
		g.add(Case{ID: GroupHostname + "/" + id, Group: GroupHostname, Desc: desc, Server: srv, Files: files, DSN: d, Fast: fast})
	}
	add("verify-ca/other-name", "verify-ca, host name not in the certificate", dsn("other.test", "sslmode=verify-ca"), true)
	add("verify-ca/no-names-check", "verify-ca, hostaddr only", "hostaddr=127.0.0.1 "+base+" sslmode=verify-ca", false)
	add("hostaddr-only/verify-full", "verify-full with hostaddr only (IP in SAN)", "hostaddr=127.0.0.1 "+base+" sslmode=verify-full", true)
	add("host-ip/verify-full", "verify-full, host=127.0.0.1 without hostaddr", "host=127.0.0.1 "+base+" sslmode=verify-full", false)
	add("require/wrong-name", "require with a root file, host name not in the certificate", dsn("other.test", "sslmode=require"), false)
	add("empty-host/verify-full", "verify-full, host='' hostaddr=127.0.0.1", "host='' hostaddr=127.0.0.1 "+base+" sslmode=verify-full", false)
}

var oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}

// hostID makes a host name usable in a case ID.
func hostID(h string) string {
	var b strings.Builder
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r) // case is part of what is tested
		case r == ':':
			b.WriteString("_")
		case r == '*':
			b.WriteString("star")
		default:
			fmt.Fprintf(&b, "%%%02x", string(r))
		}
	}
	if b.Len() == 0 {
		return "empty"
	}
	return b.String()
}

// showHost quotes a host name for a description.
func showHost(h string) string { return "`" + h + "`" }

// General names for hand-made subjectAltName extensions.
func uriName(s string) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(s)}
}

func emailName(s string) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, Bytes: []byte(s)}
}

var oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}

func sanExt(g *gen, names ...asn1.RawValue) pkix.Extension {
	der, err := asn1.Marshal(names)
	g.b.fail(err)
	return pkix.Extension{Id: oidSAN, Value: der}
}

// chains: which certificates anchor a chain, where intermediates come
// from, cross-signing, extra certificates, validity periods.
func (g *gen) chains() {
	now := g.now
	past := testpki.Spec{NotBefore: now.Add(-72 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}
	future := testpki.Spec{NotBefore: now.Add(24 * time.Hour), NotAfter: now.Add(72 * time.Hour)}

	rootA := g.b.root(testpki.Spec{CommonName: "Chain Root A"})
	rootAKey := rootA.Key
	interA := g.b.issue(rootA, testpki.Spec{CommonName: "Chain Intermediate A", IsCA: true})
	rootB := g.b.root(testpki.Spec{CommonName: "Chain Root B"})
	// interA signed by root B instead: same name and key.
	interAbyB := g.b.issue(rootB, testpki.Spec{CommonName: "Chain Intermediate A", IsCA: true, Key: interA.Key})
	leaf := g.b.issue(interA, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	direct := g.b.issue(rootA, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	// Two intermediates: rootA -> i1 -> i2 -> leaf2.
	i1 := g.b.issue(rootA, testpki.Spec{CommonName: "Chain Level 1", IsCA: true})
	i2 := g.b.issue(i1, testpki.Spec{CommonName: "Chain Level 2", IsCA: true})
	leaf2 := g.b.issue(i2, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	self := g.b.selfSigned(testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	selfCA := g.b.selfSigned(testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}, IsCA: true})
	// Root B cross-signed by root A; an intermediate and leaf under root B.
	rootBbyA := g.b.issue(rootA, testpki.Spec{CommonName: "Chain Root B", IsCA: true, Key: rootB.Key})
	interB := g.b.issue(rootB, testpki.Spec{CommonName: "Chain Intermediate B", IsCA: true})
	leafB := g.b.issue(interB, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	// Validity variants.
	sp := func(base testpki.Spec, s testpki.Spec) testpki.Spec {
		s.NotBefore, s.NotAfter = base.NotBefore, base.NotAfter
		return s
	}
	leafExpired := g.b.issue(interA, sp(past, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}}))
	leafFuture := g.b.issue(interA, sp(future, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}}))
	interExpired := g.b.issue(rootA, sp(past, testpki.Spec{CommonName: "Chain Intermediate A", IsCA: true, Key: interA.Key}))
	interFuture := g.b.issue(rootA, sp(future, testpki.Spec{CommonName: "Chain Intermediate A", IsCA: true, Key: interA.Key}))
	rootExpired := g.b.root(sp(past, testpki.Spec{CommonName: "Chain Root A", Key: rootAKey}))
	rootFuture := g.b.root(sp(future, testpki.Spec{CommonName: "Chain Root A", Key: rootAKey}))
	leafSelfExpired := g.b.selfSigned(sp(past, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}}))

	type cs struct {
		id, desc  string
		leaf      *testpki.Cert
		sent      []*testpki.Cert // after the leaf
		roots     []*testpki.Cert
		mode      string // "" = verify-ca
		hba       string
		fast      bool
		noRootMsg bool
	}
	list := []cs{
		{"anchor-root/standard", "root in root file, server sends leaf and intermediate", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "", "", true, false},
		{"anchor-root/direct", "leaf issued by the root directly", direct, nil, []*testpki.Cert{rootA}, "", "", false, false},
		{"anchor-root/server-sends-root-too", "server sends leaf, intermediate and root", leaf, []*testpki.Cert{interA, rootA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"anchor-intermediate/only", "root file holds only the intermediate", leaf, []*testpki.Cert{interA}, []*testpki.Cert{interA}, "", "", true, false},
		{"anchor-intermediate/only-leaf-sent", "root file holds only the intermediate, server sends the leaf alone", leaf, nil, []*testpki.Cert{interA}, "", "", false, false},
		{"anchor-intermediate/server-sends-root", "root file holds only the intermediate, server sends leaf, intermediate, root", leaf, []*testpki.Cert{interA, rootA}, []*testpki.Cert{interA}, "", "", false, false},
		{"anchor-leaf/not-self-signed", "root file holds the (CA-issued) leaf itself", leaf, []*testpki.Cert{interA}, []*testpki.Cert{leaf}, "", "", false, false},
		{"anchor-self-signed/in-root-file", "self-signed leaf, in the root file", self, nil, []*testpki.Cert{self}, "", "", true, false},
		{"anchor-self-signed/ca-in-root-file", "self-signed leaf with CA:TRUE, in the root file", selfCA, nil, []*testpki.Cert{selfCA}, "", "", false, false},
		{"anchor-self-signed/not-in-root-file", "self-signed leaf, root file holds another CA", self, nil, []*testpki.Cert{rootA}, "", "", true, false},
		{"anchor-self-signed/expired", "expired self-signed leaf, in the root file", leafSelfExpired, nil, []*testpki.Cert{leafSelfExpired}, "", "", false, false},
		{"anchor-self-signed/require-no-root", "self-signed leaf, require without root file", self, nil, nil, "require", "", false, true},
		{"anchor-self-signed/verify-full", "self-signed leaf in the root file, verify-full", self, nil, []*testpki.Cert{self}, "verify-full", "", false, false},
		{"intermediate/in-root-file-only", "intermediate in the root file, server sends the leaf alone", leaf, nil, []*testpki.Cert{rootA, interA}, "", "", true, false},
		{"intermediate/in-both", "intermediate in the root file and sent by the server", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootA, interA}, "", "", false, false},
		{"intermediate/missing", "intermediate neither sent nor in the root file", leaf, nil, []*testpki.Cert{rootA}, "", "", true, false},
		{"intermediate/missing-require", "intermediate missing, require with a root file", leaf, nil, []*testpki.Cert{rootA}, "require", "", false, false},
		{"intermediate/missing-prefer", "intermediate missing, prefer with a root file", leaf, nil, []*testpki.Cert{rootA}, "prefer", "", false, false},
		{"intermediate/missing-require-no-root", "intermediate missing, require without root file", leaf, nil, nil, "require", "", false, true},
		{"two-levels/sent", "two intermediates, both sent", leaf2, []*testpki.Cert{i2, i1}, []*testpki.Cert{rootA}, "", "", false, false},
		{"two-levels/sent-reversed", "two intermediates sent in reverse order", leaf2, []*testpki.Cert{i1, i2}, []*testpki.Cert{rootA}, "", "", false, false},
		{"two-levels/upper-in-root-file", "upper intermediate in the root file, lower one sent", leaf2, []*testpki.Cert{i2}, []*testpki.Cert{rootA, i1}, "", "", false, false},
		{"two-levels/lower-in-root-file", "lower intermediate in the root file, upper one sent", leaf2, []*testpki.Cert{i1}, []*testpki.Cert{rootA, i2}, "", "", false, false},
		{"two-levels/upper-missing", "upper intermediate missing", leaf2, []*testpki.Cert{i2}, []*testpki.Cert{rootA}, "", "", false, false},
		{"two-levels/anchor-upper-intermediate", "root file holds only the upper intermediate", leaf2, []*testpki.Cert{i2, i1}, []*testpki.Cert{i1}, "", "", false, false},
		{"roots/two-right-second", "root file holds another CA, then the right one", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootB, rootA}, "", "", false, false},
		{"roots/wrong-only", "root file holds another CA only", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootB}, "", "", true, false},
		{"extra/unrelated-after", "server also sends an unrelated root after the chain", leaf, []*testpki.Cert{interA, rootB}, []*testpki.Cert{rootA}, "", "", false, false},
		{"extra/unrelated-between", "server sends an unrelated certificate between leaf and intermediate", leaf, []*testpki.Cert{rootB, interA}, []*testpki.Cert{rootA}, "", "", true, false},
		{"extra/duplicate-intermediate", "server sends the intermediate twice", leaf, []*testpki.Cert{interA, interA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"extra/leaf-twice", "server sends the leaf twice", leaf, []*testpki.Cert{leaf, interA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"cross/sent-other-path-root-trusted", "intermediate cross-signed by root B sent, root file holds root A", leaf, []*testpki.Cert{interAbyB}, []*testpki.Cert{rootA}, "", "", true, false},
		{"cross/sent-other-path-both-trusted", "intermediate cross-signed by root B sent, root file holds A and B", leaf, []*testpki.Cert{interAbyB}, []*testpki.Cert{rootA, rootB}, "", "", false, false},
		{"cross/both-sent-first-trusted", "both versions of the intermediate sent (A's first), root file holds A", leaf, []*testpki.Cert{interA, interAbyB}, []*testpki.Cert{rootA}, "", "", false, false},
		{"cross/both-sent-second-trusted", "both versions of the intermediate sent (A's first), root file holds B", leaf, []*testpki.Cert{interA, interAbyB}, []*testpki.Cert{rootB}, "", "", true, false},
		{"cross/both-sent-reversed", "both versions of the intermediate sent (B's first), root file holds A", leaf, []*testpki.Cert{interAbyB, interA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"cross/intermediate-in-root-file", "B's version sent, A's version and root A in the root file", leaf, []*testpki.Cert{interAbyB}, []*testpki.Cert{rootA, interA}, "", "", false, false},
		{"cross/root-cross-signed-trust-A", "chain to root B cross-signed by A sent, root file holds A", leafB, []*testpki.Cert{interB, rootBbyA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"cross/root-cross-signed-trust-B", "chain to root B cross-signed by A sent, root file holds B", leafB, []*testpki.Cert{interB, rootBbyA}, []*testpki.Cert{rootB}, "", "", false, false},
		{"cross/root-cross-signed-not-sent", "chain to root B without the cross certificate, root file holds A", leafB, []*testpki.Cert{interB}, []*testpki.Cert{rootA}, "", "", false, false},
		{"validity/leaf-expired", "expired leaf", leafExpired, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "", "", true, false},
		{"validity/leaf-not-yet-valid", "leaf not yet valid", leafFuture, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"validity/intermediate-expired", "expired intermediate", leaf, []*testpki.Cert{interExpired}, []*testpki.Cert{rootA}, "", "", true, false},
		{"validity/intermediate-not-yet-valid", "intermediate not yet valid", leaf, []*testpki.Cert{interFuture}, []*testpki.Cert{rootA}, "", "", false, false},
		{"validity/intermediate-expired-and-valid-sent", "expired and valid versions of the intermediate sent (expired first)", leaf, []*testpki.Cert{interExpired, interA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"validity/root-expired", "expired root in the root file", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootExpired}, "", "", true, false},
		{"validity/root-not-yet-valid", "root not yet valid", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootFuture}, "", "", false, false},
		{"validity/root-expired-and-valid", "root file holds an expired and a valid version of the root", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootExpired, rootA}, "", "", false, false},
		{"validity/leaf-expired-require-no-root", "expired leaf, require without root file", leafExpired, []*testpki.Cert{interA}, nil, "require", "", false, true},
		{"validity/leaf-expired-require-root", "expired leaf, require with a root file", leafExpired, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "require", "", false, false},
		{"validity/leaf-expired-prefer-root", "expired leaf, prefer with a root file", leafExpired, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "prefer", "", false, false},
		{"validity/leaf-expired-prefer-root-tls-only", "expired leaf, prefer with a root file, TLS-only server", leafExpired, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "prefer", "tls", false, false},
		{"validity/leaf-expired-allow-root-tls-only", "expired leaf, allow with a root file, TLS-only server", leafExpired, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "allow", "tls", false, false},
	}
	for _, c := range list {
		hba := c.hba
		if hba == "" {
			hba = "both"
		}
		chain := testpki.ChainPEM(append([]*testpki.Cert{c.leaf}, c.sent...)...)
		name := "chain-" + strings.ReplaceAll(c.id, "/", "-") + "-" + hba
		srv := g.server(name, chain, c.leaf.KeyPEM, hba, nil, nil)
		var files []File
		if len(c.roots) > 0 {
			files = []File{rootFile(c.roots...)}
		}
		mode := c.mode
		if mode == "" {
			mode = "verify-ca"
		}
		g.add(Case{
			ID: GroupChain + "/" + c.id, Group: GroupChain,
			Desc:   c.desc + ", " + mode,
			Server: srv, Files: files,
			DSN:  dsn("localhost", "sslmode="+mode),
			Fast: c.fast,
		})
	}
}

// extensions: basic constraints, path lengths, key usage, extended key
// usage, name constraints, unknown critical extensions, X.509 v1.
func (g *gen) extensions() {
	root := g.b.root(testpki.Spec{CommonName: "Extension Root"})
	type ext struct {
		id, desc string
		root     *testpki.Cert // nil = root
		inters   []testpki.Spec
		leaf     testpki.Spec
		fast     bool
		mode     string
	}
	leafSpec := func(s testpki.Spec) testpki.Spec {
		if s.CommonName == "" && s.Subject == nil {
			s.CommonName = "localhost"
		}
		if s.DNSNames == nil && s.IPAddresses == nil && s.ExtraExtensions == nil {
			s.DNSNames = []string{"localhost"}
		}
		return s
	}
	ca := func(name string, s testpki.Spec) testpki.Spec {
		s.CommonName = "Extension " + name
		return s
	}
	unknownCrit := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}, Critical: true, Value: []byte{0x05, 0x00}}
	unknownNonCrit := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 2}, Critical: false, Value: []byte{0x05, 0x00}}
	inter := func(s testpki.Spec) []testpki.Spec { return []testpki.Spec{ca("Intermediate", s)} }
	std := inter(testpki.Spec{IsCA: true})
	ipnet := func(s string) *net.IPNet {
		_, n, err := net.ParseCIDR(s)
		g.b.fail(err)
		return n
	}

	// Roots with unusual extensions get their own root certificates.
	rootNoBCwithKU := g.b.selfSigned(testpki.Spec{CommonName: "Extension Root no BC", NoBasicConstraints: true, IsCA: true})
	rootNoBCnoKU := g.b.selfSigned(testpki.Spec{CommonName: "Extension Root no BC no KU", NoBasicConstraints: true, NoKeyUsage: true})
	rootCAFalse := g.b.selfSigned(testpki.Spec{CommonName: "Extension Root CA false", KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
	rootPath0 := g.b.root(testpki.Spec{CommonName: "Extension Root pathlen 0", MaxPathLen: 0, MaxPathLenZero: true})
	rootPath1 := g.b.root(testpki.Spec{CommonName: "Extension Root pathlen 1", MaxPathLen: 1})
	rootClientEKU := g.b.root(testpki.Spec{CommonName: "Extension Root clientAuth", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	rootCrit := g.b.root(testpki.Spec{CommonName: "Extension Root critical", ExtraExtensions: []pkix.Extension{unknownCrit}})
	rootNoCertSign := g.b.root(testpki.Spec{CommonName: "Extension Root no certSign", KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign})
	rootV1 := g.b.root(testpki.Spec{CommonName: "Extension Root v1", Version1: true})
	rootNC := g.b.root(testpki.Spec{CommonName: "Extension Root constrained", PermittedDNSDomains: []string{"example.test"}})

	list := []ext{
		{id: "baseline", desc: "root, intermediate, leaf with default extensions", inters: std, fast: true},
		{id: "eku/leaf-serverAuth", desc: "leaf EKU serverAuth", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}},
		{id: "eku/leaf-clientAuth", desc: "leaf EKU clientAuth only", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, fast: true},
		{id: "eku/leaf-clientAuth-require-no-root", desc: "leaf EKU clientAuth only, require without root file", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, mode: "require-noroot"},
		{id: "eku/leaf-server-and-client", desc: "leaf EKU serverAuth and clientAuth", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}},
		{id: "eku/leaf-any", desc: "leaf EKU anyExtendedKeyUsage only", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}, fast: true},
		{id: "eku/leaf-codeSigning", desc: "leaf EKU codeSigning only", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}},
		{id: "eku/leaf-nsSGC", desc: "leaf EKU Netscape server gated crypto only", inters: std, leaf: testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageNetscapeServerGatedCrypto}}},
		{id: "eku/leaf-unknown", desc: "leaf EKU with an unknown purpose only", inters: std, leaf: testpki.Spec{UnknownExtKeyUsage: []asn1.ObjectIdentifier{{1, 3, 6, 1, 4, 1, 55555, 9}}}},
		{id: "eku/intermediate-serverAuth", desc: "intermediate EKU serverAuth", inters: inter(testpki.Spec{IsCA: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})},
		{id: "eku/intermediate-clientAuth", desc: "intermediate EKU clientAuth only", inters: inter(testpki.Spec{IsCA: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}), fast: true},
		{id: "eku/intermediate-any", desc: "intermediate EKU anyExtendedKeyUsage only", inters: inter(testpki.Spec{IsCA: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})},
		{id: "eku/intermediate-codeSigning", desc: "intermediate EKU codeSigning only", inters: inter(testpki.Spec{IsCA: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})},
		{id: "eku/root-clientAuth", desc: "trusted root EKU clientAuth only", root: rootClientEKU, inters: std},
		{id: "ku/leaf-digitalSignature", desc: "leaf keyUsage digitalSignature", inters: std, leaf: testpki.Spec{KeyUsage: x509.KeyUsageDigitalSignature}},
		{id: "ku/leaf-keyEncipherment", desc: "ECDSA leaf keyUsage keyEncipherment only", inters: std, leaf: testpki.Spec{KeyUsage: x509.KeyUsageKeyEncipherment}},
		{id: "ku/leaf-keyEncipherment-rsa", desc: "RSA leaf keyUsage keyEncipherment only", inters: std, leaf: testpki.Spec{KeyUsage: x509.KeyUsageKeyEncipherment, KeyType: testpki.RSA2048}},
		{id: "ku/leaf-keyAgreement", desc: "ECDSA leaf keyUsage keyAgreement only", inters: std, leaf: testpki.Spec{KeyUsage: x509.KeyUsageKeyAgreement}},
		{id: "ku/leaf-keyCertSign", desc: "leaf keyUsage keyCertSign only", inters: std, leaf: testpki.Spec{KeyUsage: x509.KeyUsageCertSign}, fast: true},
		{id: "ku/leaf-absent", desc: "leaf without keyUsage", inters: std, leaf: testpki.Spec{NoKeyUsage: true}},
		{id: "ku/intermediate-no-certSign", desc: "intermediate keyUsage without keyCertSign", inters: inter(testpki.Spec{IsCA: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign}), fast: true},
		{id: "ku/intermediate-absent", desc: "intermediate without keyUsage", inters: inter(testpki.Spec{IsCA: true, NoKeyUsage: true})},
		{id: "ku/root-no-certSign", desc: "trusted root keyUsage without keyCertSign", root: rootNoCertSign, inters: std},
		{id: "bc/intermediate-ca-false", desc: "intermediate with basicConstraints CA:FALSE", inters: inter(testpki.Spec{IsCA: false, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}), fast: true},
		{id: "bc/intermediate-absent", desc: "intermediate without basicConstraints (keyCertSign set)", inters: inter(testpki.Spec{IsCA: true, NoBasicConstraints: true})},
		{id: "bc/intermediate-absent-no-ku", desc: "intermediate without basicConstraints or keyUsage", inters: inter(testpki.Spec{IsCA: true, NoBasicConstraints: true, NoKeyUsage: true})},
		{id: "bc/root-absent", desc: "trusted root without basicConstraints (keyCertSign set)", root: rootNoBCwithKU, inters: std},
		{id: "bc/root-absent-no-ku", desc: "trusted root without basicConstraints or keyUsage", root: rootNoBCnoKU, inters: std},
		{id: "bc/root-ca-false", desc: "trusted self-signed root with CA:FALSE", root: rootCAFalse, inters: std},
		{id: "bc/leaf-ca-true", desc: "leaf with CA:TRUE", inters: std, leaf: testpki.Spec{IsCA: true}},
		{id: "pathlen/root-0-one-intermediate", desc: "root pathlen 0 above an intermediate", root: rootPath0, inters: std, fast: true},
		{id: "pathlen/root-0-direct", desc: "root pathlen 0 issuing the leaf directly", root: rootPath0},
		{id: "pathlen/root-1-two-intermediates", desc: "root pathlen 1 above two intermediates", root: rootPath1,
			inters: []testpki.Spec{ca("Level 1", testpki.Spec{IsCA: true}), ca("Level 2", testpki.Spec{IsCA: true})}},
		{id: "pathlen/root-1-one-intermediate", desc: "root pathlen 1 above one intermediate", root: rootPath1, inters: std},
		{id: "pathlen/intermediate-0-leaf", desc: "intermediate pathlen 0 issuing the leaf", inters: inter(testpki.Spec{IsCA: true, MaxPathLenZero: true})},
		{id: "pathlen/intermediate-0-sub-ca", desc: "intermediate pathlen 0 above another intermediate",
			inters: []testpki.Spec{ca("Level 1", testpki.Spec{IsCA: true, MaxPathLenZero: true}), ca("Level 2", testpki.Spec{IsCA: true})}},
		{id: "pathlen/intermediate-0-self-issued", desc: "intermediate pathlen 0 above a self-issued intermediate (same name, new key)",
			inters: []testpki.Spec{ca("Rollover", testpki.Spec{IsCA: true, MaxPathLenZero: true}), ca("Rollover", testpki.Spec{IsCA: true})}},
		{id: "v1/root", desc: "X.509 v1 root", root: rootV1, inters: std, fast: true},
		{id: "v1/intermediate", desc: "X.509 v1 intermediate", inters: inter(testpki.Spec{IsCA: true, Version1: true}), fast: true},
		{id: "v1/leaf", desc: "X.509 v1 leaf (CN localhost)", inters: std, leaf: testpki.Spec{Version1: true}},
		{id: "critical/leaf-unknown", desc: "leaf with an unknown critical extension", inters: std, leaf: testpki.Spec{ExtraExtensions: []pkix.Extension{unknownCrit}, DNSNames: []string{"localhost"}}, fast: true},
		{id: "critical/leaf-unknown-require-no-root", desc: "leaf with an unknown critical extension, require without root file", inters: std, leaf: testpki.Spec{ExtraExtensions: []pkix.Extension{unknownCrit}, DNSNames: []string{"localhost"}}, mode: "require-noroot"},
		{id: "critical/intermediate-unknown", desc: "intermediate with an unknown critical extension", inters: inter(testpki.Spec{IsCA: true, ExtraExtensions: []pkix.Extension{unknownCrit}})},
		{id: "critical/root-unknown", desc: "trusted root with an unknown critical extension", root: rootCrit, inters: std},
		{id: "critical/leaf-unknown-noncritical", desc: "leaf with an unknown non-critical extension", inters: std, leaf: testpki.Spec{ExtraExtensions: []pkix.Extension{unknownNonCrit}, DNSNames: []string{"localhost"}}},
		{id: "nc/permitted-dns-inside", desc: "intermediate permits DNS example.test, leaf SAN db.example.test",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{"example.test"}}), leaf: testpki.Spec{CommonName: "db.example.test", DNSNames: []string{"db.example.test"}}, fast: true},
		{id: "nc/permitted-dns-outside", desc: "intermediate permits DNS example.test, leaf SAN localhost",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{"example.test"}}), fast: true},
		{id: "nc/permitted-dns-suffix-trick", desc: "intermediate permits DNS example.test, leaf SAN db.badexample.test",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{"example.test"}}), leaf: testpki.Spec{CommonName: "db.example.test", DNSNames: []string{"db.badexample.test"}}},
		{id: "nc/permitted-dns-leading-dot", desc: "intermediate permits DNS .example.test, leaf SAN example.test",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{".example.test"}}), leaf: testpki.Spec{CommonName: "example.test", DNSNames: []string{"example.test"}}},
		{id: "nc/permitted-dns-cn-only-inside", desc: "intermediate permits DNS example.test, leaf CN db.example.test, no SAN",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{"example.test"}}), leaf: testpki.Spec{CommonName: "db.example.test", ExtraExtensions: []pkix.Extension{}}},
		{id: "nc/permitted-dns-cn-only-outside", desc: "intermediate permits DNS example.test, leaf CN localhost, no SAN",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{"example.test"}}), leaf: testpki.Spec{CommonName: "localhost", ExtraExtensions: []pkix.Extension{}}, fast: true},
		{id: "nc/permitted-dns-cn-not-hostname", desc: "intermediate permits DNS example.test, leaf CN 'Database Server', no SAN",
			inters: inter(testpki.Spec{IsCA: true, PermittedDNSDomains: []string{"example.test"}}), leaf: testpki.Spec{CommonName: "Database Server", ExtraExtensions: []pkix.Extension{}}},
		{id: "nc/excluded-dns-inside", desc: "intermediate excludes DNS bad.example.test, leaf SAN db.bad.example.test",
			inters: inter(testpki.Spec{IsCA: true, ExcludedDNSDomains: []string{"bad.example.test"}}), leaf: testpki.Spec{CommonName: "db.bad.example.test", DNSNames: []string{"db.bad.example.test"}}},
		{id: "nc/excluded-dns-outside", desc: "intermediate excludes DNS bad.example.test, leaf SAN localhost",
			inters: inter(testpki.Spec{IsCA: true, ExcludedDNSDomains: []string{"bad.example.test"}})},
		{id: "nc/permitted-ip-inside", desc: "intermediate permits IP 127.0.0.0/8, leaf SAN IP 127.0.0.1",
			inters: inter(testpki.Spec{IsCA: true, PermittedIPRanges: []*net.IPNet{ipnet("127.0.0.0/8")}}), leaf: testpki.Spec{CommonName: "localhost", IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}},
		{id: "nc/permitted-ip-outside", desc: "intermediate permits IP 10.0.0.0/8, leaf SAN IP 127.0.0.1",
			inters: inter(testpki.Spec{IsCA: true, PermittedIPRanges: []*net.IPNet{ipnet("10.0.0.0/8")}}), leaf: testpki.Spec{CommonName: "localhost", IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}, fast: true},
		{id: "nc/excluded-ip-inside", desc: "intermediate excludes IP 127.0.0.0/8, leaf SAN IP 127.0.0.1",
			inters: inter(testpki.Spec{IsCA: true, ExcludedIPRanges: []*net.IPNet{ipnet("127.0.0.0/8")}}), leaf: testpki.Spec{CommonName: "localhost", IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}},
		{id: "nc/permitted-ip-dns-leaf", desc: "intermediate permits IP 10.0.0.0/8 only, leaf SAN dNSName localhost",
			inters: inter(testpki.Spec{IsCA: true, PermittedIPRanges: []*net.IPNet{ipnet("10.0.0.0/8")}})},
		{id: "nc/permitted-ip-cn-ip", desc: "intermediate permits IP 10.0.0.0/8, leaf CN 127.0.0.1, no SAN",
			inters: inter(testpki.Spec{IsCA: true, PermittedIPRanges: []*net.IPNet{ipnet("10.0.0.0/8")}}), leaf: testpki.Spec{CommonName: "127.0.0.1", ExtraExtensions: []pkix.Extension{}}},
		{id: "nc/root-permitted-dns-outside", desc: "trusted root permits DNS example.test, leaf SAN localhost", root: rootNC, inters: std},
	}
	for _, e := range list {
		r := e.root
		if r == nil {
			r = root
		}
		issuer := r
		var sent []*testpki.Cert
		for _, s := range e.inters {
			if s.CommonName == issuer.Cert.Subject.CommonName {
				// Self-issued: crypto/x509 writes no authority key id
				// then, which would make it look self-signed.
				s.AuthorityKeyId = issuer.Cert.SubjectKeyId
			}
			c := g.b.issue(issuer, s)
			sent = append([]*testpki.Cert{c}, sent...)
			issuer = c
		}
		ls := e.leaf
		if len(ls.ExtraExtensions) == 0 && ls.ExtraExtensions != nil {
			// An empty, non-nil list marks a leaf without SAN.
			ls.ExtraExtensions = nil
			if ls.CommonName == "" {
				ls.CommonName = "localhost"
			}
		} else {
			ls = leafSpec(ls)
		}
		leaf := g.b.issue(issuer, ls)
		chain := testpki.ChainPEM(append([]*testpki.Cert{leaf}, sent...)...)
		srv := g.server("ext-"+strings.ReplaceAll(e.id, "/", "-"), chain, leaf.KeyPEM, "both", nil, nil)
		files := []File{rootFile(r)}
		mode := "verify-ca"
		if e.mode == "require-noroot" {
			files, mode = nil, "require"
		}
		g.add(Case{
			ID: GroupExtension + "/" + e.id, Group: GroupExtension,
			Desc:   e.desc + ", " + mode,
			Server: srv, Files: files,
			DSN:  dsn("localhost", "sslmode="+mode),
			Fast: e.fast,
		})
	}
}

// algorithms: key types and sizes, signature algorithms, serial numbers.
func (g *gen) algorithms() {
	type alg struct {
		id, desc       string
		rootSpec       testpki.Spec
		interSpec      testpki.Spec
		leafSpec       testpki.Spec
		negativeSerial bool
		interInRoot    bool // the server sends the leaf alone
		direct         bool // the root issues the leaf
		modes          []string
		fast           bool
	}
	// The server refuses to load a leaf or intermediate that OpenSSL's
	// security level 2 rejects (RSA-1024 keys, SHA-1 signatures): such
	// certificates are placed in the root file instead (interInRoot), where
	// only the clients judge them.
	list := []alg{
		{id: "leaf-rsa2048", desc: "RSA-2048 leaf", leafSpec: testpki.Spec{KeyType: testpki.RSA2048}, modes: []string{"verify-ca"}},
		{id: "leaf-rsa4096", desc: "RSA-4096 leaf", leafSpec: testpki.Spec{KeyType: testpki.RSA4096}, modes: []string{"verify-ca"}},
		{id: "leaf-p256", desc: "ECDSA P-256 leaf", leafSpec: testpki.Spec{KeyType: testpki.P256}, modes: []string{"verify-ca"}},
		{id: "leaf-p384", desc: "ECDSA P-384 leaf", leafSpec: testpki.Spec{KeyType: testpki.P384}, modes: []string{"verify-ca"}},
		{id: "leaf-ed25519", desc: "Ed25519 leaf", leafSpec: testpki.Spec{KeyType: testpki.Ed25519}, modes: []string{"verify-ca", "require"}, fast: true},
		{id: "intermediate-rsa1024", desc: "RSA-1024 intermediate (in the root file)", interSpec: testpki.Spec{KeyType: testpki.RSA1024}, interInRoot: true, modes: []string{"verify-ca"}, fast: true},
		{id: "root-rsa1024", desc: "RSA-1024 root", rootSpec: testpki.Spec{KeyType: testpki.RSA1024}, modes: []string{"verify-ca", "require"}},
		{id: "root-rsa1024-direct", desc: "RSA-1024 root issuing the leaf directly", rootSpec: testpki.Spec{KeyType: testpki.RSA1024}, direct: true, modes: []string{"verify-ca"}},
		{id: "all-rsa2048", desc: "RSA-2048 root, intermediate and leaf", rootSpec: testpki.Spec{KeyType: testpki.RSA2048}, interSpec: testpki.Spec{KeyType: testpki.RSA2048}, leafSpec: testpki.Spec{KeyType: testpki.RSA2048}, modes: []string{"verify-full"}},
		{id: "all-rsa4096", desc: "RSA-4096 root, intermediate and leaf", rootSpec: testpki.Spec{KeyType: testpki.RSA4096}, interSpec: testpki.Spec{KeyType: testpki.RSA4096}, leafSpec: testpki.Spec{KeyType: testpki.RSA4096}, modes: []string{"verify-full"}},
		{id: "all-p384", desc: "ECDSA P-384 root, intermediate and leaf", rootSpec: testpki.Spec{KeyType: testpki.P384}, interSpec: testpki.Spec{KeyType: testpki.P384}, leafSpec: testpki.Spec{KeyType: testpki.P384}, modes: []string{"verify-full"}},
		{id: "all-ed25519", desc: "Ed25519 root, intermediate and leaf", rootSpec: testpki.Spec{KeyType: testpki.Ed25519}, interSpec: testpki.Spec{KeyType: testpki.Ed25519}, leafSpec: testpki.Spec{KeyType: testpki.Ed25519}, modes: []string{"verify-full"}},
		{id: "mixed-rsa-root-ec-leaf", desc: "RSA-4096 root, RSA-2048 intermediate, P-256 leaf", rootSpec: testpki.Spec{KeyType: testpki.RSA4096}, interSpec: testpki.Spec{KeyType: testpki.RSA2048}, modes: []string{"verify-full"}},
		{id: "mixed-ec-root-rsa-leaf", desc: "P-384 root, Ed25519 intermediate, RSA-2048 leaf", rootSpec: testpki.Spec{KeyType: testpki.P384}, interSpec: testpki.Spec{KeyType: testpki.Ed25519}, leafSpec: testpki.Spec{KeyType: testpki.RSA2048}, modes: []string{"verify-full"}},
		{id: "sig-sha1-intermediate", desc: "intermediate signed with SHA-1 (RSA), in the root file", rootSpec: testpki.Spec{KeyType: testpki.RSA2048}, interSpec: testpki.Spec{SignatureAlgorithm: x509.SHA1WithRSA}, interInRoot: true, modes: []string{"verify-ca"}, fast: true},
		{id: "sig-ecdsa-sha1-intermediate", desc: "intermediate signed with ECDSA-SHA1, in the root file", interSpec: testpki.Spec{SignatureAlgorithm: x509.ECDSAWithSHA1}, interInRoot: true, modes: []string{"verify-ca"}},
		{id: "sig-sha1-root-self", desc: "root self-signed with SHA-1 (RSA)", rootSpec: testpki.Spec{KeyType: testpki.RSA2048, SignatureAlgorithm: x509.SHA1WithRSA}, modes: []string{"verify-ca"}},
		{id: "sig-sha1-root-self-direct", desc: "root self-signed with SHA-1 (RSA) issuing the leaf directly", rootSpec: testpki.Spec{KeyType: testpki.RSA2048, SignatureAlgorithm: x509.SHA1WithRSA}, direct: true, modes: []string{"verify-ca"}},
		{id: "sig-sha256-rsa", desc: "leaf signed with SHA-256 (RSA)", interSpec: testpki.Spec{KeyType: testpki.RSA2048}, leafSpec: testpki.Spec{SignatureAlgorithm: x509.SHA256WithRSA}, modes: []string{"verify-ca"}},
		{id: "sig-sha512-rsa", desc: "leaf signed with SHA-512 (RSA)", interSpec: testpki.Spec{KeyType: testpki.RSA2048}, leafSpec: testpki.Spec{SignatureAlgorithm: x509.SHA512WithRSA}, modes: []string{"verify-ca"}},
		{id: "sig-rsa-pss-leaf", desc: "leaf signed with RSA-PSS SHA-256", interSpec: testpki.Spec{KeyType: testpki.RSA2048}, leafSpec: testpki.Spec{SignatureAlgorithm: x509.SHA256WithRSAPSS}, modes: []string{"verify-ca"}, fast: true},
		{id: "sig-rsa-pss-chain", desc: "intermediate and leaf signed with RSA-PSS SHA-384", rootSpec: testpki.Spec{KeyType: testpki.RSA2048}, interSpec: testpki.Spec{KeyType: testpki.RSA2048, SignatureAlgorithm: x509.SHA384WithRSAPSS}, leafSpec: testpki.Spec{SignatureAlgorithm: x509.SHA384WithRSAPSS}, modes: []string{"verify-ca"}},
		{id: "sig-ecdsa-sha384", desc: "leaf signed with ECDSA-SHA384", leafSpec: testpki.Spec{SignatureAlgorithm: x509.ECDSAWithSHA384}, modes: []string{"verify-ca"}},
		{id: "sig-ecdsa-sha512", desc: "leaf signed with ECDSA-SHA512 by a P-384 intermediate", interSpec: testpki.Spec{KeyType: testpki.P384}, leafSpec: testpki.Spec{SignatureAlgorithm: x509.ECDSAWithSHA512}, modes: []string{"verify-ca"}},
		{id: "serial-zero", desc: "leaf with serial number 0", leafSpec: testpki.Spec{SerialNumber: big.NewInt(0)}, modes: []string{"verify-ca", "require"}},
		{id: "serial-one", desc: "leaf with serial number 1", leafSpec: testpki.Spec{SerialNumber: big.NewInt(1)}, modes: []string{"verify-ca"}},
		{id: "serial-20-bytes", desc: "leaf with a 20-byte serial number", leafSpec: testpki.Spec{SerialNumber: new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 159), big.NewInt(1))}, modes: []string{"verify-ca"}},
		{id: "serial-negative", desc: "leaf with a negative serial number", negativeSerial: true, modes: []string{"verify-ca", "require"}, fast: true},
	}
	for _, a := range list {
		rs := a.rootSpec
		rs.CommonName = "Algorithm Root " + a.id
		root := g.b.root(rs)
		is := a.interSpec
		is.CommonName, is.IsCA = "Algorithm Intermediate "+a.id, true
		inter := g.b.issue(root, is)
		if a.direct {
			inter = root
		}
		ls := a.leafSpec
		ls.CommonName, ls.DNSNames = "localhost", []string{"localhost"}
		leaf := g.b.issue(inter, ls)
		if a.negativeSerial {
			leaf = g.b.withSerial(leaf, big.NewInt(-1234567), inter.Key)
		}
		chain, roots := testpki.ChainPEM(leaf, inter), rootFile(root)
		switch {
		case a.direct:
			chain = leaf.CertPEM
		case a.interInRoot:
			chain, roots = leaf.CertPEM, rootFile(root, inter)
		}
		srv := g.server("alg-"+a.id, chain, leaf.KeyPEM, "both", nil, nil)
		for i, m := range a.modes {
			var files []File
			if m != "require" {
				files = []File{roots}
			}
			desc := a.desc + ", " + m
			if m == "require" {
				desc += " without root file"
			}
			g.add(Case{
				ID: fmt.Sprintf("%s/%s/%s", GroupAlgorithm, a.id, m), Group: GroupAlgorithm,
				Desc: desc, Server: srv, Files: files,
				DSN:  dsn("localhost", "sslmode="+m),
				Fast: a.fast && i == 0,
			})
		}
	}
}

// revocation: CRLs for each level of two chain shapes, delivered through
// sslcrl, sslcrldir (hashed names right and wrong) and ~/.postgresql/root.crl.
func (g *gen) revocation() {
	now := g.now
	root := g.b.root(testpki.Spec{CommonName: "Revocation Root"})
	inter := g.b.issue(root, testpki.Spec{CommonName: "Revocation Intermediate", IsCA: true})
	leaf3 := g.b.issue(inter, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	leaf2 := g.b.issue(root, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	other := g.b.root(testpki.Spec{CommonName: "Revocation Other CA"})
	// A CA with the root's name but another key: its CRLs look like the
	// root's but their signatures do not verify.
	impostor := g.b.root(testpki.Spec{CommonName: "Revocation Root"})

	rootHash, interHash, otherHash := g.b.crlHash(root), g.b.crlHash(inter), g.b.crlHash(other)
	var (
		rootEmpty       = g.b.crl(root, nil, time.Time{}, time.Time{})
		rootRevInter    = g.b.crl(root, testpki.Serials(inter), time.Time{}, time.Time{})
		rootRevLeaf2    = g.b.crl(root, testpki.Serials(leaf2), time.Time{}, time.Time{})
		rootExpired     = g.b.crl(root, nil, now.Add(-72*time.Hour), now.Add(-24*time.Hour))
		rootFuture      = g.b.crl(root, nil, now.Add(24*time.Hour), now.Add(72*time.Hour))
		rootByImpostor  = g.b.crl(impostor, nil, time.Time{}, time.Time{})
		interEmpty      = g.b.crl(inter, nil, time.Time{}, time.Time{})
		interRevLeaf3   = g.b.crl(inter, testpki.Serials(leaf3), time.Time{}, time.Time{})
		interExpired    = g.b.crl(inter, nil, now.Add(-72*time.Hour), now.Add(-24*time.Hour))
		interExpiredRev = g.b.crl(inter, testpki.Serials(leaf3), now.Add(-72*time.Hour), now.Add(-24*time.Hour))
		otherEmpty      = g.b.crl(other, nil, time.Time{}, time.Time{})
		otherRevLeaf3   = g.b.crl(other, testpki.Serials(leaf3), time.Time{}, time.Time{})
	)
	type crl struct {
		pem  []byte
		hash string
	}
	r := func(pem []byte) crl { return crl{pem, rootHash} }
	i := func(pem []byte) crl { return crl{pem, interHash} }
	o := func(pem []byte) crl { return crl{pem, otherHash} }

	type variant struct {
		id, desc string
		shape    int // 2: root -> leaf; 3: root -> intermediate -> leaf
		crls     []crl
		fast     bool
	}
	variants := []variant{
		{"all-levels-clean", "CRLs of every issuer, nothing revoked", 3, []crl{r(rootEmpty), i(interEmpty)}, true},
		{"leaf-revoked", "leaf revoked by the intermediate's CRL", 3, []crl{r(rootEmpty), i(interRevLeaf3)}, true},
		{"intermediate-revoked", "intermediate revoked by the root's CRL", 3, []crl{r(rootRevInter), i(interEmpty)}, false},
		{"root-crl-missing", "only the intermediate's CRL", 3, []crl{i(interEmpty)}, true},
		{"intermediate-crl-missing", "only the root's CRL", 3, []crl{r(rootEmpty)}, false},
		{"other-ca-only", "only a CRL of an unrelated CA", 3, []crl{o(otherEmpty)}, false},
		{"other-ca-revokes-serial", "unrelated CA's CRL lists the leaf's serial, chain CRLs clean", 3, []crl{r(rootEmpty), i(interEmpty), o(otherRevLeaf3)}, false},
		{"intermediate-crl-expired", "the intermediate's CRL has expired", 3, []crl{r(rootEmpty), i(interExpired)}, true},
		{"intermediate-crl-expired-revoked", "expired intermediate CRL revoking the leaf", 3, []crl{r(rootEmpty), i(interExpiredRev)}, false},
		{"root-crl-not-yet-valid", "the root's CRL is not yet valid", 3, []crl{r(rootFuture), i(interEmpty)}, false},
		{"root-crl-bad-signature", "root's CRL signed by another key under the root's name", 3, []crl{r(rootByImpostor), i(interEmpty)}, false},
		{"direct-clean", "root's CRL, nothing revoked", 2, []crl{r(rootEmpty)}, true},
		{"direct-leaf-revoked", "leaf revoked by the root's CRL", 2, []crl{r(rootRevLeaf2)}, false},
		{"direct-root-crl-expired", "the root's CRL has expired", 2, []crl{r(rootExpired)}, false},
		{"direct-other-ca-only", "only a CRL of an unrelated CA", 2, []crl{o(otherEmpty)}, false},
	}
	srv3 := g.server("crl-3", testpki.ChainPEM(leaf3, inter), leaf3.KeyPEM, "both", nil, nil)
	srv2 := g.server("crl-2", leaf2.CertPEM, leaf2.KeyPEM, "both", nil, nil)
	srvFor := func(shape int) *Server {
		if shape == 2 {
			return srv2
		}
		return srv3
	}
	roots := rootFile(root)
	cat := func(cs []crl) []byte {
		var b []byte
		for _, c := range cs {
			b = append(b, c.pem...)
		}
		return b
	}
	dirFiles := func(cs []crl, wrong bool) []File {
		files := []File{{Path: "crls", Dir: true}}
		n := map[string]int{}
		for k, c := range cs {
			name := fmt.Sprintf("%s.r%d", c.hash, n[c.hash])
			n[c.hash]++
			if wrong {
				name = fmt.Sprintf("crl%d.pem", k)
			}
			files = append(files, File{Path: "crls/" + name, Data: c.pem, Mode: 0o644})
		}
		return files
	}
	for _, v := range variants {
		srv := srvFor(v.shape)
		shape := fmt.Sprintf("%d-level chain", v.shape)
		deliveries := []struct {
			id, desc string
			files    []File
			param    string
		}{
			{"sslcrl", "in the sslcrl file", []File{{Path: "crl.pem", Data: cat(v.crls), Mode: 0o644}}, "sslcrl={home}/crl.pem"},
			{"sslcrldir", "in sslcrldir under hashed names", dirFiles(v.crls, false), "sslcrldir={home}/crls"},
			{"sslcrldir-wrong-names", "in sslcrldir under other names", dirFiles(v.crls, true), "sslcrldir={home}/crls"},
			{"default-root-crl", "in ~/.postgresql/root.crl", []File{{Path: rootCrl, Data: cat(v.crls), Mode: 0o644}}, ""},
		}
		for k, d := range deliveries {
			extra := "sslmode=verify-ca"
			if d.param != "" {
				extra += " " + d.param
			}
			g.add(Case{
				ID: fmt.Sprintf("%s/%s/%s", GroupRevocation, v.id, d.id), Group: GroupRevocation,
				Desc:   fmt.Sprintf("%s: %s, %s, verify-ca", shape, v.desc, d.desc),
				Server: srv, Files: append([]File{roots}, d.files...),
				DSN:  dsn("localhost", extra),
				Fast: v.fast && (k == 0 || (k == 1 && v.id == "leaf-revoked")),
			})
		}
	}

	clean3 := cat([]crl{r(rootEmpty), i(interEmpty)})
	revoked3 := cat([]crl{r(rootEmpty), i(interRevLeaf3)})
	add := func(id, desc string, srv *Server, files []File, extra string, fast bool) {
		g.add(Case{ID: GroupRevocation + "/" + id, Group: GroupRevocation, Desc: desc, Server: srv, Files: files,
			DSN: dsn("localhost", extra), Fast: fast})
	}
	add("none/no-crl", "3-level chain, no CRL anywhere, verify-ca", srv3, []File{roots}, "sslmode=verify-ca", true)
	add("unreadable/sslcrl-missing-file", "sslcrl names a missing file, verify-ca", srv3, []File{roots}, "sslmode=verify-ca sslcrl={home}/missing.crl", true)
	add("unreadable/sslcrl-directory", "sslcrl names a directory, verify-ca", srv3, []File{roots, {Path: "crldir", Dir: true}}, "sslmode=verify-ca sslcrl={home}/crldir", false)
	add("unreadable/sslcrl-garbage", "sslcrl holds no CRL, verify-ca", srv3, []File{roots, {Path: "crl.pem", Data: []byte("garbage\n"), Mode: 0o644}}, "sslmode=verify-ca sslcrl={home}/crl.pem", false)
	add("unreadable/sslcrl-empty", "sslcrl is an empty file, verify-ca", srv3, []File{roots, {Path: "crl.pem", Data: []byte{}, Mode: 0o644}}, "sslmode=verify-ca sslcrl={home}/crl.pem", false)
	add("unreadable/sslcrl-certificate", "sslcrl holds a certificate instead of a CRL, verify-ca", srv3, []File{roots, {Path: "crl.pem", Data: root.CertPEM, Mode: 0o644}}, "sslmode=verify-ca sslcrl={home}/crl.pem", false)
	add("unreadable/sslcrldir-missing", "sslcrldir names a missing directory, verify-ca", srv3, []File{roots}, "sslmode=verify-ca sslcrldir={home}/missing", true)
	add("unreadable/sslcrldir-empty", "sslcrldir names an empty directory, verify-ca", srv3, []File{roots, {Path: "crls", Dir: true}}, "sslmode=verify-ca sslcrldir={home}/crls", false)
	add("unreadable/sslcrl-missing-and-sslcrldir", "sslcrl names a missing file, sslcrldir holds a revoking CRL, verify-ca", srv3,
		append([]File{roots}, dirFiles([]crl{r(rootEmpty), i(interRevLeaf3)}, false)...), "sslmode=verify-ca sslcrl={home}/missing.crl sslcrldir={home}/crls", false)
	add("both/sslcrl-and-sslcrldir", "sslcrl holds the root's CRL, sslcrldir the intermediate's, verify-ca", srv3,
		append([]File{roots, {Path: "crl.pem", Data: rootEmpty, Mode: 0o644}}, dirFiles([]crl{i(interEmpty)}, false)...), "sslmode=verify-ca sslcrl={home}/crl.pem sslcrldir={home}/crls", false)
	add("both/sslcrl-and-sslcrldir-revoked", "sslcrl holds the root's CRL, sslcrldir the intermediate's revoking the leaf, verify-ca", srv3,
		append([]File{roots, {Path: "crl.pem", Data: rootEmpty, Mode: 0o644}}, dirFiles([]crl{i(interRevLeaf3)}, false)...), "sslmode=verify-ca sslcrl={home}/crl.pem sslcrldir={home}/crls", false)
	add("mode/require-no-root-revoked", "leaf revoked, require without root file", srv3, []File{{Path: "crl.pem", Data: revoked3, Mode: 0o644}}, "sslmode=require sslcrl={home}/crl.pem", true)
	add("mode/require-root-revoked", "leaf revoked, require with a root file", srv3, []File{roots, {Path: "crl.pem", Data: revoked3, Mode: 0o644}}, "sslmode=require sslcrl={home}/crl.pem", false)
	add("mode/prefer-root-revoked", "leaf revoked, prefer with a root file", srv3, []File{roots, {Path: "crl.pem", Data: revoked3, Mode: 0o644}}, "sslmode=prefer sslcrl={home}/crl.pem", false)
	add("mode/verify-full-revoked", "leaf revoked, verify-full", srv3, []File{roots, {Path: "crl.pem", Data: revoked3, Mode: 0o644}}, "sslmode=verify-full sslcrl={home}/crl.pem", false)
	add("mode/verify-full-clean", "CRLs clean, verify-full", srv3, []File{roots, {Path: "crl.pem", Data: clean3, Mode: 0o644}}, "sslmode=verify-full sslcrl={home}/crl.pem", false)
	add("crl-in-root-file/no-sslcrl", "revoking CRLs in the root file, no sslcrl, verify-ca", srv3,
		[]File{{Path: rootCrt, Data: append(append([]byte{}, root.CertPEM...), revoked3...), Mode: 0o644}}, "sslmode=verify-ca", false)
	add("crl-in-root-file/with-sslcrl", "revoking CRLs in the root file, sslcrl holds an unrelated CA's CRL, verify-ca", srv3,
		[]File{{Path: rootCrt, Data: append(append([]byte{}, root.CertPEM...), revoked3...), Mode: 0o644}, {Path: "crl.pem", Data: otherEmpty, Mode: 0o644}},
		"sslmode=verify-ca sslcrl={home}/crl.pem", false)
	derOf := func(p []byte) []byte {
		b, _ := pem.Decode(p)
		return b.Bytes
	}
	add("der/sslcrl-der-clean", "sslcrl is a DER file: the root's CRL, nothing revoked, 2-level chain, verify-ca", srv2,
		[]File{roots, {Path: "crl.der", Data: derOf(rootEmpty), Mode: 0o644}}, "sslmode=verify-ca sslcrl={home}/crl.der", false)
	add("der/sslcrl-der-revoked", "sslcrl is a DER file revoking the leaf, 2-level chain, verify-ca", srv2,
		[]File{roots, {Path: "crl.der", Data: derOf(rootRevLeaf2), Mode: 0o644}}, "sslmode=verify-ca sslcrl={home}/crl.der", true)
	add("env/PGSSLCRL", "PGSSLCRL names a CRL file revoking the leaf, verify-ca", srv3, []File{roots, {Path: "crl.pem", Data: revoked3, Mode: 0o644}}, "sslmode=verify-ca", false)
	g.cases[len(g.cases)-1].Env = map[string]string{"PGSSLCRL": "{home}/crl.pem"}
	add("env/PGSSLCRLDIR", "PGSSLCRLDIR names a hashed directory revoking the leaf, verify-ca", srv3,
		append([]File{roots}, dirFiles([]crl{r(rootEmpty), i(interRevLeaf3)}, false)...), "sslmode=verify-ca", false)
	g.cases[len(g.cases)-1].Env = map[string]string{"PGSSLCRLDIR": "{home}/crls"}
	add("default-root-crl/overridden-by-sslcrl", "~/.postgresql/root.crl revokes the leaf, sslcrl names a clean file, verify-ca", srv3,
		[]File{roots, {Path: rootCrl, Data: revoked3, Mode: 0o644}, {Path: "crl.pem", Data: clean3, Mode: 0o644}}, "sslmode=verify-ca sslcrl={home}/crl.pem", false)
	add("default-root-crl/overridden-by-sslcrldir", "~/.postgresql/root.crl revokes the leaf, sslcrldir holds clean CRLs, verify-ca", srv3,
		append([]File{roots, {Path: rootCrl, Data: revoked3, Mode: 0o644}}, dirFiles([]crl{r(rootEmpty), i(interEmpty)}, false)...), "sslmode=verify-ca sslcrldir={home}/crls", false)
}

// client: client certificates from the default files and from parameters,
// against servers that do and do not ask for one, and sslcertmode.
func (g *gen) client() {
	p := g.std()
	croot := g.b.root(testpki.Spec{CommonName: "Client Root"})
	cinter := g.b.issue(croot, testpki.Spec{CommonName: "Client Intermediate", IsCA: true})
	cleaf := g.b.issue(cinter, testpki.Spec{CommonName: "postgres", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	otherUser := g.b.issue(cinter, testpki.Spec{CommonName: "somebody-else", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	stranger := g.b.root(testpki.Spec{CommonName: "postgres"}) // self-signed, unknown to the server
	otherKey := g.b.issue(cinter, testpki.Spec{CommonName: "postgres"})

	chain := testpki.ChainPEM(cleaf, cinter)
	asks := g.server("client-asks-trust", p.chain, p.leaf.KeyPEM, "both", croot.CertPEM, nil)
	needs := g.server("client-asks-cert", p.chain, p.leaf.KeyPEM, "cert", croot.CertPEM, nil)
	quiet := g.existing("std-both")

	type setup struct {
		id, desc string
		files    []File
	}
	crt := func(data []byte) File { return File{Path: userCrt, Data: data, Mode: 0o644} }
	key := func(data []byte, mode ...int) File {
		m := 0o600
		if len(mode) > 0 {
			m = mode[0]
		}
		return File{Path: userKey, Data: data, Mode: os.FileMode(m)}
	}
	setups := []setup{
		{"chain", "client chain (leaf and intermediate) in ~/.postgresql", []File{crt(chain), key(cleaf.KeyPEM)}},
		{"leaf-only", "client leaf without its intermediate", []File{crt(cleaf.CertPEM), key(cleaf.KeyPEM)}},
		{"none", "no client certificate", nil},
		{"other-user", "client certificate for another user name", []File{crt(testpki.ChainPEM(otherUser, cinter)), key(otherUser.KeyPEM)}},
		{"unknown-ca", "self-signed client certificate unknown to the server", []File{crt(stranger.CertPEM), key(stranger.KeyPEM)}},
		{"key-0644", "client key readable by everyone", []File{crt(chain), key(cleaf.KeyPEM, 0o644)}},
		{"key-0640", "client key readable by the group", []File{crt(chain), key(cleaf.KeyPEM, 0o640)}},
		{"key-missing", "client certificate without a key file", []File{crt(chain)}},
		{"key-mismatch", "client key of another certificate", []File{crt(chain), key(otherKey.KeyPEM)}},
		{"key-garbage", "client key file holds no key", []File{crt(chain), key([]byte("not a key\n"))}},
		{"cert-garbage", "client certificate file holds no certificate", []File{crt([]byte("not a certificate\n")), key(cleaf.KeyPEM)}},
	}
	servers := []struct {
		id, desc string
		srv      *Server
	}{
		{"asks-trust", "server asks for a certificate, trust authentication", asks},
		{"asks-cert", "server asks for a certificate, cert authentication", needs},
		{"no-ask", "server does not ask for a certificate", quiet},
	}
	for _, s := range servers {
		for _, c := range setups {
			fast := (c.id == "chain" || c.id == "none") && s.id != "no-ask" || c.id == "key-0644" && s.id == "no-ask"
			// With TLS 1.3 the server judges the client's certificate
			// after the client has finished its handshake.
			race := s.srv.ClientCA != nil && (c.id == "leaf-only" || c.id == "unknown-ca")
			g.add(Case{
				ID: fmt.Sprintf("%s/%s/%s", GroupClient, s.id, c.id), Group: GroupClient,
				Desc:   fmt.Sprintf("%s; %s, require", s.desc, c.desc),
				Server: s.srv, Files: c.files,
				DSN:       dsn("localhost", "sslmode=require"),
				Fast:      fast,
				AlertRace: race,
			})
		}
	}
	// Under TLS 1.2 the server rejects a client certificate during the
	// handshake, so every client reports the server's alert.
	asks12 := g.server("client-asks-trust-tls12", p.chain, p.leaf.KeyPEM, "both", croot.CertPEM, map[string]string{"ssl_max_protocol_version": "TLSv1.2"})
	for _, c := range setups {
		if c.id != "leaf-only" && c.id != "unknown-ca" && c.id != "chain" {
			continue
		}
		g.add(Case{
			ID: fmt.Sprintf("%s/asks-trust-tls12/%s", GroupClient, c.id), Group: GroupClient,
			Desc:   fmt.Sprintf("server limited to TLS 1.2 asks for a certificate, trust authentication; %s, require", c.desc),
			Server: asks12, Files: c.files,
			DSN:  dsn("localhost", "sslmode=require"),
			Fast: c.id == "unknown-ca",
		})
	}
	params := []File{
		{Path: "client/me.crt", Data: chain, Mode: 0o644},
		{Path: "client/me.key", Data: cleaf.KeyPEM, Mode: 0o600},
	}
	add := func(id, desc string, srv *Server, files []File, extra string, env map[string]string, fast bool) {
		g.add(Case{ID: GroupClient + "/" + id, Group: GroupClient, Desc: desc, Server: srv, Files: files,
			DSN: dsn("localhost", extra), Env: env, Fast: fast})
	}
	add("params/sslcert-sslkey", "sslcert and sslkey name the client files, cert authentication", needs, params,
		"sslmode=require sslcert={home}/client/me.crt sslkey={home}/client/me.key", nil, true)
	add("params/sslcert-missing", "sslcert names a missing file, cert authentication", needs, params,
		"sslmode=require sslcert={home}/client/missing.crt sslkey={home}/client/me.key", nil, false)
	add("params/sslcert-missing-trust", "sslcert names a missing file, trust authentication", asks, params,
		"sslmode=require sslcert={home}/client/missing.crt sslkey={home}/client/me.key", nil, false)
	add("params/sslkey-missing", "sslkey names a missing file", asks, params,
		"sslmode=require sslcert={home}/client/me.crt sslkey={home}/client/missing.key", nil, false)
	add("params/env-PGSSLCERT", "PGSSLCERT and PGSSLKEY name the client files, cert authentication", needs, params,
		"sslmode=require", map[string]string{"PGSSLCERT": "{home}/client/me.crt", "PGSSLKEY": "{home}/client/me.key"}, false)
	add("params/sslcert-empty", "sslcert set to the empty string, default files present, cert authentication", needs,
		[]File{crt(chain), key(cleaf.KeyPEM)}, "sslmode=require sslcert=''", nil, false)
	add("params/plaintext-ignores-key", "key readable by everyone, sslmode disable", quiet,
		[]File{crt(chain), key(cleaf.KeyPEM, 0o644)}, "sslmode=disable", nil, false)
	add("params/prefer-bad-key", "key readable by everyone, sslmode prefer", quiet,
		[]File{crt(chain), key(cleaf.KeyPEM, 0o644)}, "sslmode=prefer", nil, false)

	// An encrypted key (legacy PEM encryption, AES-256-CBC).
	encKey := g.b.encryptedKey(cleaf, "correct horse")
	add("encrypted-key/right-password", "encrypted client key, right sslpassword, cert authentication", needs,
		[]File{crt(chain), key(encKey)}, "sslmode=require sslpassword='correct horse'", nil, true)
	add("encrypted-key/wrong-password", "encrypted client key, wrong sslpassword", needs,
		[]File{crt(chain), key(encKey)}, "sslmode=require sslpassword=wrong", nil, false)
	add("encrypted-key/no-password", "encrypted client key, no sslpassword (libpq cannot prompt without a terminal)", needs,
		[]File{crt(chain), key(encKey)}, "sslmode=require", nil, false)

	// sslcertmode (libpq 16): the local libpq rejects the keyword, so the
	// expected verdicts come from libpq 16's source (fe-auth.c,
	// check_expected_areq; fe-secure-openssl.c, cert_cb).
	ok := &Verdict{Outcome: TLS}
	needCert := &Verdict{Outcome: Fail, Message: `FATAL: connection requires a valid client certificate`}
	notRequested := &Verdict{Outcome: Fail, Message: "server did not request an SSL certificate"}
	notSent := &Verdict{Outcome: Fail, Message: "server accepted connection without a valid SSL certificate"}
	invalid := &Verdict{Outcome: Fail, Message: `invalid sslcertmode value: "sometimes"`}
	certmode := []struct {
		mode    string
		srv     string
		hasCert bool
		want    *Verdict
		fast    bool
	}{
		{"disable", "asks-trust", true, ok, false},
		{"disable", "asks-cert", true, needCert, true},
		{"disable", "no-ask", true, ok, false},
		{"allow", "asks-trust", true, ok, false},
		{"allow", "asks-cert", true, ok, false},
		{"allow", "asks-cert", false, needCert, false},
		{"allow", "no-ask", false, ok, false},
		{"require", "asks-trust", true, ok, false},
		{"require", "asks-trust", false, notSent, true},
		{"require", "asks-cert", true, ok, true},
		{"require", "asks-cert", false, needCert, false},
		{"require", "no-ask", true, notRequested, true},
		{"require", "no-ask", false, notRequested, false},
		{"sometimes", "no-ask", false, invalid, false},
	}
	srvByID := map[string]*Server{"asks-trust": asks, "asks-cert": needs, "no-ask": quiet}
	for _, c := range certmode {
		var files []File
		have := "no client certificate"
		id := "nocert"
		if c.hasCert {
			files, have, id = []File{crt(chain), key(cleaf.KeyPEM)}, "client chain present", "cert"
		}
		var sdesc string
		for _, s := range servers {
			if s.id == c.srv {
				sdesc = s.desc
			}
		}
		g.add(Case{
			ID: fmt.Sprintf("%s/sslcertmode-%s/%s/%s", GroupClient, c.mode, c.srv, id), Group: GroupClient,
			Desc:   fmt.Sprintf("sslcertmode=%s; %s; %s, require", c.mode, sdesc, have),
			Server: srvByID[c.srv], Files: files,
			DSN:      dsn("localhost", "sslmode=require sslcertmode="+c.mode),
			Fast:     c.fast,
			MinLibpq: 16, Expect: c.want,
			Note: "sslcertmode is new in libpq 16; expected verdict from libpq 16's source",
		})
	}
	g.add(Case{
		ID: GroupClient + "/env-PGSSLCERTMODE-require/no-ask", Group: GroupClient,
		Desc:   "PGSSLCERTMODE=require; server does not ask for a certificate; client chain present, require",
		Server: quiet, Files: []File{crt(chain), key(cleaf.KeyPEM)},
		DSN:      dsn("localhost", "sslmode=require"),
		Env:      map[string]string{"PGSSLCERTMODE": "require"},
		MinLibpq: 16, Expect: notRequested,
		Note: "libpq 15 ignores PGSSLCERTMODE; expected verdict from libpq 16's source",
	})
	g.add(Case{
		ID: GroupClient + "/sslcertmode-require/prefer-plaintext", Group: GroupClient,
		Desc:   "sslcertmode=require with sslmode=prefer against a plaintext-only server",
		Server: g.existing("std-plain"),
		DSN:    dsn("localhost", "sslmode=prefer sslcertmode=require"),
		// pg_hba.conf refuses the TLS session; prefer retries in plaintext,
		// where nothing asked for a certificate, so check_expected_areq
		// fails that session at AuthenticationOk.
		MinLibpq: 16, Expect: &Verdict{Outcome: Fail, Message: `FATAL: no pg_hba.conf entry for host "127.0.0.1", user "postgres", ` +
			`database "postgres", SSL encryption / server did not request an SSL certificate`},
		Note: "sslcertmode is new in libpq 16; expected verdict from libpq 16's source",
	})
}
