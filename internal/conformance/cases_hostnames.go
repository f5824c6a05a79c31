// This file holds the host name cases (verify-full) and their name helpers.

package conformance

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"net"
	"strings"

	"github.com/pqssl/pqssl/internal/oid"
	"github.com/pqssl/pqssl/internal/testpki"
)

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
				{Type: oid.CommonName, Value: "first.example.test"}, {Type: oid.CommonName, Value: "second.example.test"}}}},
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

// sanExt is a subjectAltName extension holding names.
func sanExt(g *gen, names ...asn1.RawValue) pkix.Extension {
	der, err := asn1.Marshal(names)
	g.b.fail(err)
	return pkix.Extension{Id: oid.SubjectAltName, Value: der}
}
