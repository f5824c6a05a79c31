// This file holds the generator: the report sections, the servers and
// the case list, and the standard PKI the sections share.

package conformance

import (
	"fmt"
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
