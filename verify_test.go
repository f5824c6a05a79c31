package pqssl

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/oid"

	"github.com/pqssl/pqssl/internal/cparse"
	"github.com/pqssl/pqssl/internal/testpki"
)

// ---------------------------------------------------------------------------
// Helpers

// rawGN is one GeneralName for sanExtension.
type rawGN struct {
	tag   int
	value []byte
}

func dnsGN(s string) rawGN { return rawGN{gnDNSName, []byte(s)} }
func ipGN(s string) rawGN {
	ip := net.ParseIP(s)
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	return rawGN{gnIPAddress, ip}
}

// sanExtension builds a subjectAltName extension with entries in the
// given order (crypto/x509 always writes dNSNames before iPAddresses).
func sanExtension(t testing.TB, names ...rawGN) pkix.Extension {
	t.Helper()
	var seq []asn1.RawValue
	for _, n := range names {
		seq = append(seq, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: n.tag, Bytes: n.value})
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oid.SubjectAltName, Value: der}
}

// rawName encodes a Name whose attributes have explicit string tags, one
// attribute per RDN.
func rawName(t testing.TB, attrs ...nameAttr) []byte {
	t.Helper()
	var rdns []byte
	for _, a := range attrs {
		oid, err := asn1.Marshal(a.oid)
		if err != nil {
			t.Fatal(err)
		}
		atv := derTLV(0x30, append(oid, derTLV(byte(a.tag), a.value)...))
		rdns = append(rdns, derTLV(0x31, atv)...)
	}
	return derTLV(0x30, rdns)
}

func bmp(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>8), byte(r))
	}
	return b
}

// tampered returns a copy of c whose signature no longer verifies.
func tampered(t testing.TB, c *testpki.Cert) *testpki.Cert {
	t.Helper()
	der := bytes.Clone(c.Cert.Raw)
	der[len(der)-3] ^= 0x55
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testpki.Cert{Cert: parsed, Key: c.Key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// subtree is one GeneralSubtree for ncExtension.
type subtree struct {
	base    rawGN
	minimum int
}

// ncExtension builds a critical nameConstraints extension, with name types
// and subtree options crypto/x509 cannot write.
func ncExtension(t testing.TB, permitted, excluded []subtree) pkix.Extension {
	t.Helper()
	enc := func(tag byte, sts []subtree) []byte {
		if len(sts) == 0 {
			return nil
		}
		var all []byte
		for _, st := range sts {
			base := derTLV(0x80|byte(st.base.tag), st.base.value)
			if st.base.tag == gnDirectoryName {
				base = derTLV(0xa4, st.base.value)
			}
			if st.minimum != 0 {
				base = append(base, derTLV(0x80, []byte{byte(st.minimum)})...)
			}
			all = append(all, derTLV(0x30, base)...)
		}
		return derTLV(tag, all)
	}
	value := derTLV(0x30, append(enc(0xa0, permitted), enc(0xa1, excluded)...))
	return pkix.Extension{Id: oid.NameConstraints, Critical: true, Value: value}
}

// trustedPEM encodes c as an OpenSSL TRUSTED CERTIFICATE with the given
// trust and reject purposes.
func trustedPEM(t testing.TB, c *testpki.Cert, trust, reject []asn1.ObjectIdentifier) []byte {
	t.Helper()
	aux, err := asn1.Marshal(struct {
		Trust  []asn1.ObjectIdentifier `asn1:"optional"`
		Reject []asn1.ObjectIdentifier `asn1:"optional,tag:0"`
	}{trust, reject})
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "TRUSTED CERTIFICATE", Bytes: append(bytes.Clone(c.Cert.Raw), aux...)})
}

func mustStore(t testing.TB, pemData []byte) *trustStore {
	t.Helper()
	s, err := loadTrustStore(string(pemData), true)
	if err != nil {
		t.Fatalf("loadTrustStore: %v", err)
	}
	return s
}

func certs(cs ...*testpki.Cert) []*x509.Certificate {
	out := make([]*x509.Certificate, len(cs))
	for i, c := range cs {
		out[i] = c.Cert
	}
	return out
}

// ---------------------------------------------------------------------------
// Host names

func TestVerifyHostname(t *testing.T) {
	root := testpki.MustRoot(t, testpki.Spec{CommonName: "Hostname Test Root"})
	leaf := func(spec testpki.Spec) *x509.Certificate {
		if spec.CommonName == "" && spec.Subject == nil && spec.RawSubject == nil {
			spec.Subject = &pkix.Name{}
		}
		return root.MustIssue(t, spec).Cert
	}
	cn := func(s string) testpki.Spec { return testpki.Spec{CommonName: s} }
	sans := func(names ...rawGN) testpki.Spec {
		return testpki.Spec{ExtraExtensions: []pkix.Extension{sanExtension(t, names...)}}
	}
	twoCNs := leaf(testpki.Spec{Subject: &pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: oid.CommonName, Value: "first.example.com"},
		{Type: oid.CommonName, Value: "second.example.com"},
	}}})
	mismatch := func(first, host string) string {
		return `server certificate for "` + first + `" does not match host name "` + host + `"`
	}

	tests := []struct {
		name string
		cert *x509.Certificate
		host string
		want string // "" for a match
	}{
		{"CN only", leaf(cn("db.example.com")), "db.example.com", ""},
		{"CN only, mismatch", leaf(cn("db.example.com")), "other.example.com", mismatch("db.example.com", "other.example.com")},
		{"several SANs, third", leaf(sans(dnsGN("a.example.com"), dnsGN("b.example.com"), dnsGN("c.example.com"))), "c.example.com", ""},
		{"several SANs, none", leaf(sans(dnsGN("a.example.com"), dnsGN("b.example.com"), dnsGN("c.example.com"))), "d.example.com",
			`server certificate for "a.example.com" (and 2 other names) does not match host name "d.example.com"`},
		{"two SANs, none", leaf(sans(dnsGN("a.example.com"), dnsGN("b.example.com"))), "d.example.com",
			`server certificate for "a.example.com" (and 1 other name) does not match host name "d.example.com"`},
		{"CN plus SANs: CN ignored", leaf(testpki.Spec{CommonName: "cn.example.com", DNSNames: []string{"san.example.com"}}), "cn.example.com",
			mismatch("san.example.com", "cn.example.com")},
		{"CN plus SANs: SAN", leaf(testpki.Spec{CommonName: "cn.example.com", DNSNames: []string{"san.example.com"}}), "san.example.com", ""},
		{"no names", leaf(testpki.Spec{}), "db.example.com", "could not get server's host name from server certificate"},
		{"no names, IP host", leaf(testpki.Spec{}), "127.0.0.1", "could not get server's host name from server certificate"},
		{"empty host", leaf(cn("db.example.com")), "", "host name must be specified for a verified SSL connection"},

		{"IPv4 SAN", leaf(testpki.Spec{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}), "127.0.0.1", ""},
		{"IPv4 SAN, host 127.1", leaf(testpki.Spec{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}), "127.1", ""},
		{"IPv4 SAN, host 0x7f.1", leaf(testpki.Spec{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}), "0x7f.1", ""},
		{"IPv4 SAN, octal host", leaf(testpki.Spec{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}), "0177.0.0.1", ""},
		{"IPv4 SAN, single number", leaf(testpki.Spec{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}), "2130706433", ""},
		{"IPv4 SAN, trailing text after space", leaf(testpki.Spec{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}), "127.0.0.1 x", ""},
		{"IPv4 SAN, other address", leaf(testpki.Spec{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}), "127.0.0.2", mismatch("127.0.0.1", "127.0.0.2")},
		{"IPv4 SAN, DNS host", leaf(testpki.Spec{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}), "localhost", mismatch("127.0.0.1", "localhost")},
		{"IPv6 SAN", leaf(testpki.Spec{IPAddresses: []net.IP{net.IPv6loopback}}), "::1", ""},
		{"IPv6 SAN, long form", leaf(testpki.Spec{IPAddresses: []net.IP{net.IPv6loopback}}), "0:0:0:0:0:0:0:1", ""},
		{"IPv6 SAN, IPv4 host", leaf(testpki.Spec{IPAddresses: []net.IP{net.IPv6loopback}}), "127.0.0.1", mismatch("::1", "127.0.0.1")},
		{"IPv6 SAN, printed compressed", leaf(testpki.Spec{IPAddresses: []net.IP{net.ParseIP("2001:db8:0:0:1:0:0:1")}}), "::1",
			mismatch("2001:db8::1:0:0:1", "::1")},
		{"IP in CN only", leaf(cn("127.0.0.1")), "127.0.0.1", ""},
		{"IP in CN only, other spelling", leaf(cn("127.0.0.1")), "127.1", mismatch("127.0.0.1", "127.1")},
		{"DNS SANs with IP in CN", leaf(testpki.Spec{CommonName: "127.0.0.1", DNSNames: []string{"localhost"}}), "127.0.0.1", ""},
		{"DNS SANs with IP in CN, names listed", leaf(testpki.Spec{CommonName: "127.0.0.1", DNSNames: []string{"localhost"}}), "10.0.0.1",
			`server certificate for "localhost" (and 1 other name) does not match host name "10.0.0.1"`},
		{"IP SAN hides IP CN", leaf(testpki.Spec{CommonName: "127.0.0.1", IPAddresses: []net.IP{net.IPv4(10, 0, 0, 1)}}), "127.0.0.1",
			mismatch("10.0.0.1", "127.0.0.1")},
		{"IP SAN, DNS host falls back to CN", leaf(testpki.Spec{CommonName: "localhost", IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}), "localhost", ""},
		{"IPv4 host, dNSName 127.0.0.1", leaf(testpki.Spec{DNSNames: []string{"127.0.0.1"}}), "127.0.0.1", ""},
		{"SAN order: IP before DNS", leaf(sans(ipGN("10.0.0.1"), dnsGN("db.example.com"))), "db.example.com", ""},
		{"SAN order: first name is IP", leaf(sans(ipGN("10.0.0.1"), dnsGN("db.example.com"))), "x.example.com",
			`server certificate for "10.0.0.1" (and 1 other name) does not match host name "x.example.com"`},

		{"wildcard, one label", leaf(testpki.Spec{DNSNames: []string{"*.example.com"}}), "db.example.com", ""},
		{"wildcard, two labels", leaf(testpki.Spec{DNSNames: []string{"*.example.com"}}), "a.db.example.com", mismatch("*.example.com", "a.db.example.com")},
		{"wildcard, bare domain", leaf(testpki.Spec{DNSNames: []string{"*.example.com"}}), "example.com", mismatch("*.example.com", "example.com")},
		{"wildcard, empty label", leaf(testpki.Spec{DNSNames: []string{"*.example.com"}}), ".example.com", mismatch("*.example.com", ".example.com")},
		{"wildcard, label then empty label", leaf(testpki.Spec{DNSNames: []string{"*.example.com"}}), "a..example.com", ""},
		{"wildcard in CN", leaf(cn("*.example.com")), "db.example.com", ""},
		{"partial wildcard", leaf(testpki.Spec{DNSNames: []string{"f*.example.com"}}), "foo.example.com", mismatch("f*.example.com", "foo.example.com")},
		{"wildcard suffix", leaf(testpki.Spec{DNSNames: []string{"db*.example.com"}}), "db1.example.com", mismatch("db*.example.com", "db1.example.com")},
		{"star alone", leaf(testpki.Spec{DNSNames: []string{"*"}}), "localhost", mismatch("*", "localhost")},
		{"star dot alone", leaf(testpki.Spec{DNSNames: []string{"*."}}), "a.", mismatch("*.", "a.")},
		{"wildcard not first", leaf(testpki.Spec{DNSNames: []string{"db.*.com"}}), "db.example.com", mismatch("db.*.com", "db.example.com")},
		{"wildcard, IP host", leaf(testpki.Spec{DNSNames: []string{"*.0.0.1"}}), "127.0.0.1", ""},

		{"upper case name", leaf(testpki.Spec{DNSNames: []string{"DB.Example.COM"}}), "db.example.com", ""},
		{"upper case host", leaf(testpki.Spec{DNSNames: []string{"db.example.com"}}), "DB.EXAMPLE.COM", ""},
		{"upper case wildcard", leaf(testpki.Spec{DNSNames: []string{"*.EXAMPLE.com"}}), "Db.example.COM", ""},
		{"trailing dot on host", leaf(testpki.Spec{DNSNames: []string{"db.example.com"}}), "db.example.com.", mismatch("db.example.com", "db.example.com.")},
		{"trailing dot on name", leaf(testpki.Spec{DNSNames: []string{"db.example.com."}}), "db.example.com", mismatch("db.example.com.", "db.example.com")},
		{"trailing dot on both", leaf(testpki.Spec{DNSNames: []string{"db.example.com."}}), "db.example.com.", ""},

		{"inet_aton: not an address", leaf(cn("08.0.0.1")), "08.0.0.1", ""},
		{"inet_aton: trailing dot is a name", leaf(testpki.Spec{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}), "127.0.0.1.",
			mismatch("127.0.0.1", "127.0.0.1.")},

		{"NUL in dNSName", leaf(testpki.Spec{DNSNames: []string{"db.example.com\x00.evil.com"}}), "db.example.com",
			"SSL certificate's name contains embedded null"},
		{"NUL in CN", leaf(testpki.Spec{RawSubject: rawName(t, nameAttr{oid.CommonName, tagUTF8String, []byte("db.example.com\x00x")})}), "db.example.com",
			"SSL certificate's name contains embedded null"},
		{"BMPString CN", leaf(testpki.Spec{RawSubject: rawName(t, nameAttr{oid.CommonName, tagBMPString, bmp("localhost")})}), "localhost",
			"SSL certificate's name contains embedded null"},
		{"NUL after a match", leaf(testpki.Spec{DNSNames: []string{"db.example.com", "x\x00"}}), "db.example.com", ""},
		{"first of several CNs", twoCNs, "first.example.com", ""},
		{"second of several CNs", twoCNs, "second.example.com", mismatch("first.example.com", "second.example.com")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verifyHostname(tt.cert, tt.host)
			got := ""
			if err != nil {
				got = libpqText(err)
				var he *HostnameError
				if !errors.As(err, &he) {
					t.Errorf("error %T is not a *HostnameError", err)
				}
			}
			if got != tt.want {
				t.Errorf("verifyHostname(%q)\n got: %s\nwant: %s", tt.host, got, tt.want)
			}
		})
	}
}

func TestHostnameErrorFields(t *testing.T) {
	root := testpki.MustRoot(t, testpki.Spec{})
	c := root.MustIssue(t, testpki.Spec{CommonName: "cn.example.com", IPAddresses: []net.IP{net.IPv4(10, 0, 0, 1)}}).Cert
	err := verifyHostname(c, "db.example.com")
	var he *HostnameError
	if !errors.As(err, &he) {
		t.Fatalf("got %v", err)
	}
	if he.Host != "db.example.com" || strings.Join(he.Names, ",") != "10.0.0.1,cn.example.com" {
		t.Errorf("Host %q, Names %q", he.Host, he.Names)
	}
	if _, err := matchIP(&HostnameError{}, []byte{1, 2, 3}, "1.2.3.4"); err == nil ||
		err.Error() != "certificate contains IP address with invalid length 3" {
		t.Errorf("matchIP: %v", err)
	}
}

func TestInetAton(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" if not an address
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0X7F.0.0.0X1", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"1.2.65535", "1.2.255.255"},
		{"1.2.65536", ""},
		{"1.16777215", "1.255.255.255"},
		{"256.0.0.1", ""},
		{"1.2.3.256", ""},
		{"1.2.3.4.5", ""},
		{"1.2.3.4.", ""},
		{"08.0.0.1", ""},
		{"0x", ""},
		{"", ""},
		{" 1.2.3.4", ""},
		{"1.2.3.4\tjunk", "1.2.3.4"},
		{"1..2", ""},
		{"4294967295", "255.255.255.255"},
		{"4294967296", ""},
		{"localhost", ""},
	}
	for _, tt := range tests {
		a, ok := cparse.Lenient(tt.in)
		got := ""
		if ok {
			got = net.IP(a[:]).String()
		}
		if got != tt.want {
			t.Errorf("cparse.Lenient(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for in, want := range map[string]bool{"::1": true, "fe80::1%eth0": false, "[::1]": false, "1.2.3.4": true, "::ffff:1.2.3.4": true, "db": false} {
		if got := isIPAddress(in); got != want {
			t.Errorf("isIPAddress(%q) = %v", in, got)
		}
	}
	for in, want := range map[string]string{
		"::1": "::1", "::ffff:1.2.3.4": "::ffff:1.2.3.4", "::1.2.3.4": "::1.2.3.4", "2001:db8::1": "2001:db8::1", "10.1.2.3": "10.1.2.3",
	} {
		ip := net.ParseIP(in)
		if v4 := ip.To4(); v4 != nil && !strings.Contains(in, ":") {
			ip = v4
		}
		if got := formatIP(ip); got != want {
			t.Errorf("formatIP(%s) = %q, want %q", in, got, want)
		}
	}
}

// ---------------------------------------------------------------------------
// Chains

type chainCase struct {
	name  string
	roots []byte          // root file content
	peer  []*testpki.Cert // as sent by the server, leaf first
	want  VerifyReason    // 0 for success
	depth int
	// chainLen is the expected length of the verified chain (0: not checked).
	chainLen int
}

var (
	oidServerAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	oidClientAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
)

func chainCases(t testing.TB) []chainCase {
	now := time.Now()
	past := func(d time.Duration) time.Time { return now.Add(-d) }
	root := testpki.MustRoot(t, testpki.Spec{CommonName: "Test Root"})
	inter := root.MustIssue(t, testpki.Spec{CommonName: "Test Inter", IsCA: true})
	leaf := inter.MustIssue(t, testpki.Spec{DNSNames: []string{"localhost"}})
	direct := root.MustIssue(t, testpki.Spec{DNSNames: []string{"localhost"}})
	other := testpki.MustRoot(t, testpki.Spec{CommonName: "Other Root"})

	// Same subject and key, one expired: the valid one must be chosen.
	key := root.Key
	expiredTwin := testpki.MustRoot(t, testpki.Spec{CommonName: "Test Root", Key: key, NotBefore: past(72 * time.Hour), NotAfter: past(48 * time.Hour)})

	expiredLeaf := inter.MustIssue(t, testpki.Spec{NotBefore: past(48 * time.Hour), NotAfter: past(24 * time.Hour)})
	futureLeaf := inter.MustIssue(t, testpki.Spec{NotBefore: now.Add(24 * time.Hour), NotAfter: now.Add(48 * time.Hour)})
	expiredInter := root.MustIssue(t, testpki.Spec{CommonName: "Expired Inter", IsCA: true, NotBefore: past(48 * time.Hour), NotAfter: past(time.Hour)})
	leafOfExpiredInter := expiredInter.MustIssue(t, testpki.Spec{NotBefore: past(72 * time.Hour)})
	expiredRoot := testpki.MustRoot(t, testpki.Spec{CommonName: "Expired Root", NotBefore: past(48 * time.Hour), NotAfter: past(time.Hour)})
	interOfExpiredRoot := expiredRoot.MustIssue(t, testpki.Spec{CommonName: "Inter of Expired Root", IsCA: true})
	leafOfExpiredRoot := interOfExpiredRoot.MustIssue(t, testpki.Spec{})
	expiredAll := interOfExpiredRoot.MustIssue(t, testpki.Spec{NotBefore: past(48 * time.Hour), NotAfter: past(24 * time.Hour)})

	notCA := root.MustIssue(t, testpki.Spec{CommonName: "Not a CA"})
	leafOfNotCA := notCA.MustIssue(t, testpki.Spec{})
	noBC := root.MustIssue(t, testpki.Spec{CommonName: "No BC Inter", IsCA: true, NoBasicConstraints: true})
	leafOfNoBC := noBC.MustIssue(t, testpki.Spec{})
	noBCRoot := testpki.MustRoot(t, testpki.Spec{CommonName: "No BC Root", NoBasicConstraints: true})
	leafOfNoBCRoot := noBCRoot.MustIssue(t, testpki.Spec{})
	bareRoot := testpki.MustRoot(t, testpki.Spec{CommonName: "Bare Root", NoBasicConstraints: true, NoKeyUsage: true})
	leafOfBareRoot := bareRoot.MustIssue(t, testpki.Spec{})
	v1Root := testpki.MustRoot(t, testpki.Spec{CommonName: "V1 Root", Version1: true})
	leafOfV1Root := v1Root.MustIssue(t, testpki.Spec{})
	v1Inter := root.MustIssue(t, testpki.Spec{CommonName: "V1 Inter", Version1: true})
	leafOfV1Inter := v1Inter.MustIssue(t, testpki.Spec{})

	pathRoot := testpki.MustRoot(t, testpki.Spec{CommonName: "Path Root"})
	path0 := pathRoot.MustIssue(t, testpki.Spec{CommonName: "Pathlen 0", IsCA: true, MaxPathLenZero: true})
	path0Sub := path0.MustIssue(t, testpki.Spec{CommonName: "Below Pathlen 0", IsCA: true})
	leafPathOK := path0.MustIssue(t, testpki.Spec{})
	leafPathBad := path0Sub.MustIssue(t, testpki.Spec{})
	// A self-issued intermediate (same name, new key) does not count
	// against path lengths.
	selfIssued := path0.MustIssue(t, testpki.Spec{CommonName: "Pathlen 0", IsCA: true, AuthorityKeyId: path0.Cert.SubjectKeyId})
	leafSelfIssued := selfIssued.MustIssue(t, testpki.Spec{})
	// Without an authority key identifier OpenSSL takes a self-issued
	// certificate for self-signed, without checking the signature.
	selfIssuedNoAKID := path0.MustIssue(t, testpki.Spec{CommonName: "Pathlen 0", IsCA: true})
	leafSelfIssuedNoAKID := selfIssuedNoAKID.MustIssue(t, testpki.Spec{})

	serverEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	clientEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	leafServer := inter.MustIssue(t, testpki.Spec{ExtKeyUsage: serverEKU})
	leafClient := inter.MustIssue(t, testpki.Spec{ExtKeyUsage: clientEKU})
	leafAny := inter.MustIssue(t, testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	leafSGC := inter.MustIssue(t, testpki.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageNetscapeServerGatedCrypto}})
	leafKUCertSign := inter.MustIssue(t, testpki.Spec{KeyUsage: x509.KeyUsageCertSign})
	leafKUAgreement := inter.MustIssue(t, testpki.Spec{KeyUsage: x509.KeyUsageKeyAgreement})
	interClient := root.MustIssue(t, testpki.Spec{CommonName: "Client Inter", IsCA: true, ExtKeyUsage: clientEKU})
	leafOfInterClient := interClient.MustIssue(t, testpki.Spec{ExtKeyUsage: serverEKU})
	interServer := root.MustIssue(t, testpki.Spec{CommonName: "Server Inter", IsCA: true, ExtKeyUsage: serverEKU})
	leafOfInterServer := interServer.MustIssue(t, testpki.Spec{})
	interAny := root.MustIssue(t, testpki.Spec{CommonName: "AnyEKU Inter", IsCA: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	leafOfInterAny := interAny.MustIssue(t, testpki.Spec{ExtKeyUsage: serverEKU})
	interNoCertSign := root.MustIssue(t, testpki.Spec{CommonName: "No CertSign Inter", IsCA: true, KeyUsage: x509.KeyUsageDigitalSignature})
	leafOfNoCertSign := interNoCertSign.MustIssue(t, testpki.Spec{})
	interNoKU := root.MustIssue(t, testpki.Spec{CommonName: "No KU Inter", IsCA: true, NoKeyUsage: true})
	leafOfNoKU := interNoKU.MustIssue(t, testpki.Spec{})

	_, tenNet, _ := net.ParseCIDR("10.0.0.0/8")
	ncInter := root.MustIssue(t, testpki.Spec{CommonName: "NC Inter", IsCA: true,
		PermittedDNSDomains: []string{"example.com"}, ExcludedDNSDomains: []string{"bad.example.com"}, PermittedIPRanges: []*net.IPNet{tenNet}})
	ncOK := ncInter.MustIssue(t, testpki.Spec{DNSNames: []string{"db.example.com"}, IPAddresses: []net.IP{net.IPv4(10, 1, 2, 3)}})
	ncBadDNS := ncInter.MustIssue(t, testpki.Spec{DNSNames: []string{"db.example.org"}})
	ncExcluded := ncInter.MustIssue(t, testpki.Spec{DNSNames: []string{"x.bad.example.com"}})
	ncBadIP := ncInter.MustIssue(t, testpki.Spec{DNSNames: []string{"db.example.com"}, IPAddresses: []net.IP{net.IPv4(192, 168, 0, 1)}})
	ncCNOnly := ncInter.MustIssue(t, testpki.Spec{CommonName: "db.example.org"})
	ncCNOneLabel := ncInter.MustIssue(t, testpki.Spec{CommonName: "localhost"})
	ncCNWithSAN := ncInter.MustIssue(t, testpki.Spec{CommonName: "db.example.org", DNSNames: []string{"db.example.com"}})

	critExt := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}
	nonCritExt := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Value: []byte{5, 0}}
	leafCrit := inter.MustIssue(t, testpki.Spec{ExtraExtensions: []pkix.Extension{critExt}})
	leafNonCrit := inter.MustIssue(t, testpki.Spec{ExtraExtensions: []pkix.Extension{nonCritExt}})
	interCrit := root.MustIssue(t, testpki.Spec{CommonName: "Critical Inter", IsCA: true, ExtraExtensions: []pkix.Extension{critExt}})
	leafOfInterCrit := interCrit.MustIssue(t, testpki.Spec{})

	selfSignedLeaf := testpki.MustSelfSigned(t, testpki.Spec{DNSNames: []string{"localhost"}})
	selfSignedCA := testpki.MustRoot(t, testpki.Spec{CommonName: "Self-signed CA leaf", KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign})

	rsaRoot := testpki.MustRoot(t, testpki.Spec{CommonName: "RSA Root", KeyType: testpki.RSA2048})
	sha1Leaf := rsaRoot.MustIssue(t, testpki.Spec{SignatureAlgorithm: x509.SHA1WithRSA})
	sha1Root := testpki.MustRoot(t, testpki.Spec{CommonName: "SHA-1 Root", KeyType: testpki.RSA2048, SignatureAlgorithm: x509.SHA1WithRSA})
	leafOfSHA1Root := sha1Root.MustIssue(t, testpki.Spec{})
	rsa1024Leaf := root.MustIssue(t, testpki.Spec{KeyType: testpki.RSA1024})
	rsa1024Root := testpki.MustRoot(t, testpki.Spec{CommonName: "RSA-1024 Root", KeyType: testpki.RSA1024})
	leafOfRSA1024Root := rsa1024Root.MustIssue(t, testpki.Spec{})
	p384Leaf := root.MustIssue(t, testpki.Spec{KeyType: testpki.P384, SignatureAlgorithm: x509.ECDSAWithSHA384})
	edRoot := testpki.MustRoot(t, testpki.Spec{CommonName: "Ed25519 Root", KeyType: testpki.Ed25519})
	edLeaf := edRoot.MustIssue(t, testpki.Spec{KeyType: testpki.Ed25519})

	badSig := tampered(t, leaf)

	// The leaf's issuer name differs from the intermediate's subject in
	// string type, case and spacing only: OpenSSL compares canonical forms.
	printableInter := root.MustIssue(t, testpki.Spec{IsCA: true, RawSubject: rawName(t,
		nameAttr{asn1.ObjectIdentifier{2, 5, 4, 10}, tagPrintableString, []byte("Canon  Org")},
		nameAttr{oid.CommonName, tagPrintableString, []byte("Canon Inter")})})
	fakeParent := *printableInter
	fakeCert := *printableInter.Cert
	fakeCert.RawSubject = rawName(t,
		nameAttr{asn1.ObjectIdentifier{2, 5, 4, 10}, tagUTF8String, []byte(" canon org ")},
		nameAttr{oid.CommonName, tagBMPString, bmp("CANON\tINTER")})
	fakeParent.Cert = &fakeCert
	leafCanon := fakeParent.MustIssue(t, testpki.Spec{})

	// Two intermediates with the same name and key, one expired, both sent.
	twinKey := inter.Key
	interExpiredTwin := root.MustIssue(t, testpki.Spec{CommonName: "Test Inter", IsCA: true, Key: twinKey,
		NotBefore: past(72 * time.Hour), NotAfter: past(48 * time.Hour)})

	long := []*testpki.Cert{root}
	for i := 0; i < 3; i++ {
		long = append(long, long[len(long)-1].MustIssue(t, testpki.Spec{IsCA: true}))
	}
	longLeaf := long[len(long)-1].MustIssue(t, testpki.Spec{})

	// Two roots with the same name: the authority key identifier decides.
	twinA := testpki.MustRoot(t, testpki.Spec{CommonName: "Twin Name"})
	twinB := testpki.MustRoot(t, testpki.Spec{CommonName: "Twin Name"})
	leafOfTwinB := twinB.MustIssue(t, testpki.Spec{})

	orgOID := asn1.ObjectIdentifier{2, 5, 4, 10}
	goodOrg := rawName(t, nameAttr{orgOID, tagPrintableString, []byte("Good Org")})
	ncDir := root.MustIssue(t, testpki.Spec{CommonName: "NC Dir", IsCA: true, ExtraExtensions: []pkix.Extension{
		ncExtension(t, []subtree{{base: rawGN{gnDirectoryName, goodOrg}}}, nil)}})
	ncDirOK := ncDir.MustIssue(t, testpki.Spec{RawSubject: rawName(t,
		nameAttr{orgOID, tagUTF8String, []byte("good  ORG")}, nameAttr{oid.CommonName, tagUTF8String, []byte("db")})})
	ncDirBad := ncDir.MustIssue(t, testpki.Spec{RawSubject: rawName(t,
		nameAttr{orgOID, tagUTF8String, []byte("Bad Org")}, nameAttr{oid.CommonName, tagUTF8String, []byte("db")})})
	ncMail := root.MustIssue(t, testpki.Spec{CommonName: "NC Mail", IsCA: true, ExtraExtensions: []pkix.Extension{
		ncExtension(t, []subtree{{base: rawGN{gnRFC822Name, []byte(".example.com")}}}, nil)}})
	ncMailOK := ncMail.MustIssue(t, testpki.Spec{RawSubject: rawName(t,
		nameAttr{oid.EmailAddress, tagIA5String, []byte("dba@db.example.com")}, nameAttr{oid.CommonName, tagUTF8String, []byte("db")})})
	ncMailBad := ncMail.MustIssue(t, testpki.Spec{RawSubject: rawName(t,
		nameAttr{oid.EmailAddress, tagIA5String, []byte("dba@example.org")}, nameAttr{oid.CommonName, tagUTF8String, []byte("db")})})
	ncMailSAN := ncMail.MustIssue(t, testpki.Spec{ExtraExtensions: []pkix.Extension{sanExtension(t, rawGN{gnRFC822Name, []byte("x@example.org")})}})
	ncURI := root.MustIssue(t, testpki.Spec{CommonName: "NC URI", IsCA: true, ExtraExtensions: []pkix.Extension{
		ncExtension(t, []subtree{{base: rawGN{gnURI, []byte(".example.com")}}}, nil)}})
	ncURIOK := ncURI.MustIssue(t, testpki.Spec{ExtraExtensions: []pkix.Extension{sanExtension(t, rawGN{gnURI, []byte("postgresql://db.example.com:5432/x")})}})
	ncURIBad := ncURI.MustIssue(t, testpki.Spec{ExtraExtensions: []pkix.Extension{sanExtension(t, rawGN{gnURI, []byte("postgresql://example.org/")})}})
	ncMin := root.MustIssue(t, testpki.Spec{CommonName: "NC Min", IsCA: true, ExtraExtensions: []pkix.Extension{
		ncExtension(t, []subtree{{base: dnsGN("example.com"), minimum: 1}}, nil)}})
	ncMinLeaf := ncMin.MustIssue(t, testpki.Spec{DNSNames: []string{"db.example.com"}})
	ncExclIP := root.MustIssue(t, testpki.Spec{CommonName: "NC Excluded IP", IsCA: true, ExtraExtensions: []pkix.Extension{
		ncExtension(t, nil, []subtree{{base: rawGN{gnIPAddress, []byte{10, 0, 0, 0, 255, 0, 0, 0}}}})}})
	ncExclIPLeaf := ncExclIP.MustIssue(t, testpki.Spec{IPAddresses: []net.IP{net.IPv4(10, 9, 8, 7)}})
	ncExclIPv6Leaf := ncExclIP.MustIssue(t, testpki.Spec{IPAddresses: []net.IP{net.IPv6loopback}})
	ncRID := root.MustIssue(t, testpki.Spec{CommonName: "NC RID", IsCA: true, ExtraExtensions: []pkix.Extension{
		ncExtension(t, []subtree{{base: rawGN{gnRegisteredID, []byte{0x2a, 0x03}}}}, nil)}})
	ridLeaf := ncRID.MustIssue(t, testpki.Spec{ExtraExtensions: []pkix.Extension{sanExtension(t, rawGN{gnRegisteredID, []byte{0x2a, 0x04}})}})
	ridFree := ncRID.MustIssue(t, testpki.Spec{DNSNames: []string{"db.example.com"}})

	nsType := func(bits byte) pkix.Extension {
		v, _ := asn1.Marshal(asn1.BitString{Bytes: []byte{bits}, BitLength: 8})
		return pkix.Extension{Id: oid.NetscapeCertType, Value: v}
	}
	nsSSLCARoot := testpki.MustRoot(t, testpki.Spec{CommonName: "Netscape SSL CA", NoBasicConstraints: true, NoKeyUsage: true,
		ExtraExtensions: []pkix.Extension{nsType(0x04)}})
	nsObjCARoot := testpki.MustRoot(t, testpki.Spec{CommonName: "Netscape ObjSign CA", NoBasicConstraints: true, NoKeyUsage: true,
		ExtraExtensions: []pkix.Extension{nsType(0x01)}})
	nsClientLeaf := inter.MustIssue(t, testpki.Spec{ExtraExtensions: []pkix.Extension{nsType(0x80)}})
	nsServerLeaf := inter.MustIssue(t, testpki.Spec{ExtraExtensions: []pkix.Extension{nsType(0x40)}})

	pems := testpki.ChainPEM
	return []chainCase{
		{name: "root signs leaf", roots: pems(root), peer: []*testpki.Cert{direct}, chainLen: 2},
		{name: "intermediate sent by server", roots: pems(root), peer: []*testpki.Cert{leaf, inter}, chainLen: 3},
		{name: "whole chain in root file", roots: pems(root, inter), peer: []*testpki.Cert{leaf}, chainLen: 3},
		{name: "whole chain in root file, reversed", roots: pems(inter, root), peer: []*testpki.Cert{leaf}, chainLen: 3},
		{name: "whole chain sent and in root file", roots: pems(root, inter), peer: []*testpki.Cert{leaf, inter, root}, chainLen: 3},
		{name: "server sends the root too", roots: pems(root), peer: []*testpki.Cert{leaf, inter, root}, chainLen: 3},
		{name: "intermediate only in root file", roots: pems(inter), peer: []*testpki.Cert{leaf}, want: UnableToGetIssuerCert, depth: 1},
		{name: "intermediate only in root file, chain sent", roots: pems(inter), peer: []*testpki.Cert{leaf, inter, root}, want: UnableToGetIssuerCert, depth: 1},
		{name: "wrong CA", roots: pems(other), peer: []*testpki.Cert{leaf, inter}, want: UnableToGetIssuerCertLocally, depth: 1},
		{name: "wrong CA, leaf only", roots: pems(other), peer: []*testpki.Cert{direct}, want: UnableToGetIssuerCertLocally, depth: 0},
		{name: "two CAs, right one first", roots: pems(root, other), peer: []*testpki.Cert{leaf, inter}},
		{name: "two CAs, right one second", roots: pems(other, root), peer: []*testpki.Cert{leaf, inter}},
		{name: "intermediate missing", roots: pems(root), peer: []*testpki.Cert{leaf}, want: UnableToGetIssuerCertLocally, depth: 0},
		{name: "root sent but not trusted", roots: pems(other), peer: []*testpki.Cert{leaf, inter, root}, want: SelfSignedCertInChain, depth: 2},
		{name: "valid twin root preferred", roots: pems(expiredTwin, root), peer: []*testpki.Cert{leaf, inter}},
		{name: "valid twin intermediate preferred", roots: pems(root), peer: []*testpki.Cert{leaf, interExpiredTwin, inter}},
		{name: "only expired twin root", roots: pems(expiredTwin), peer: []*testpki.Cert{leaf, inter}, want: CertHasExpired, depth: 2},

		{name: "expired leaf", roots: pems(root), peer: []*testpki.Cert{expiredLeaf, inter}, want: CertHasExpired, depth: 0},
		{name: "not yet valid leaf", roots: pems(root), peer: []*testpki.Cert{futureLeaf, inter}, want: CertNotYetValid, depth: 0},
		{name: "expired intermediate", roots: pems(root), peer: []*testpki.Cert{leafOfExpiredInter, expiredInter}, want: CertHasExpired, depth: 1},
		{name: "expired root", roots: pems(expiredRoot), peer: []*testpki.Cert{leafOfExpiredRoot, interOfExpiredRoot}, want: CertHasExpired, depth: 2},
		{name: "expired root and leaf: root first", roots: pems(expiredRoot), peer: []*testpki.Cert{expiredAll, interOfExpiredRoot}, want: CertHasExpired, depth: 2},
		{name: "expired leaf, missing issuer", roots: pems(root), peer: []*testpki.Cert{expiredLeaf}, want: UnableToGetIssuerCertLocally, depth: 0},

		{name: "CA:FALSE intermediate", roots: pems(root), peer: []*testpki.Cert{leafOfNotCA, notCA}, want: InvalidCA, depth: 1},
		{name: "intermediate without basicConstraints", roots: pems(root), peer: []*testpki.Cert{leafOfNoBC, noBC}, want: InvalidCA, depth: 1},
		{name: "root without basicConstraints, keyCertSign", roots: pems(noBCRoot), peer: []*testpki.Cert{leafOfNoBCRoot}},
		{name: "root without basicConstraints or keyUsage", roots: pems(bareRoot), peer: []*testpki.Cert{leafOfBareRoot}, want: InvalidCA, depth: 1},
		{name: "v1 root", roots: pems(v1Root), peer: []*testpki.Cert{leafOfV1Root}},
		{name: "v1 intermediate", roots: pems(root), peer: []*testpki.Cert{leafOfV1Inter, v1Inter}, want: InvalidCA, depth: 1},
		{name: "pathlen 0 respected", roots: pems(pathRoot), peer: []*testpki.Cert{leafPathOK, path0}},
		{name: "pathlen 0 exceeded", roots: pems(pathRoot), peer: []*testpki.Cert{leafPathBad, path0Sub, path0}, want: PathLengthExceeded, depth: 2},
		{name: "pathlen 0 and a self-issued intermediate", roots: pems(pathRoot), peer: []*testpki.Cert{leafSelfIssued, selfIssued, path0}, chainLen: 4},
		{name: "self-issued intermediate without key id", roots: pems(pathRoot), peer: []*testpki.Cert{leafSelfIssuedNoAKID, selfIssuedNoAKID, path0},
			want: SelfSignedCertInChain, depth: 1},
		{name: "long chain", roots: pems(root), peer: []*testpki.Cert{longLeaf, long[3], long[2], long[1]}, chainLen: 5},

		{name: "EKU serverAuth", roots: pems(root), peer: []*testpki.Cert{leafServer, inter}},
		{name: "EKU clientAuth only", roots: pems(root), peer: []*testpki.Cert{leafClient, inter}, want: InvalidPurpose, depth: 0},
		{name: "EKU anyExtendedKeyUsage only", roots: pems(root), peer: []*testpki.Cert{leafAny, inter}, want: InvalidPurpose, depth: 0},
		{name: "EKU Netscape SGC", roots: pems(root), peer: []*testpki.Cert{leafSGC, inter}},
		{name: "leaf keyUsage keyCertSign only", roots: pems(root), peer: []*testpki.Cert{leafKUCertSign, inter}, want: InvalidPurpose, depth: 0},
		{name: "leaf keyUsage keyAgreement", roots: pems(root), peer: []*testpki.Cert{leafKUAgreement, inter}},
		{name: "EKU clientAuth on intermediate", roots: pems(root), peer: []*testpki.Cert{leafOfInterClient, interClient}, want: InvalidPurpose, depth: 1},
		{name: "EKU serverAuth on intermediate", roots: pems(root), peer: []*testpki.Cert{leafOfInterServer, interServer}},
		{name: "EKU anyExtendedKeyUsage on intermediate", roots: pems(root), peer: []*testpki.Cert{leafOfInterAny, interAny}, want: InvalidPurpose, depth: 1},
		{name: "keyUsage without keyCertSign on intermediate", roots: pems(root), peer: []*testpki.Cert{leafOfNoCertSign, interNoCertSign}, want: InvalidCA, depth: 1},
		{name: "intermediate without keyUsage", roots: pems(root), peer: []*testpki.Cert{leafOfNoKU, interNoKU}},

		{name: "Netscape SSL CA root", roots: pems(nsSSLCARoot), peer: []*testpki.Cert{nsSSLCARoot.MustIssue(t, testpki.Spec{})}},
		{name: "Netscape object signing CA root", roots: pems(nsObjCARoot), peer: []*testpki.Cert{nsObjCARoot.MustIssue(t, testpki.Spec{})},
			want: InvalidPurpose, depth: 1},
		{name: "Netscape client type leaf", roots: pems(root), peer: []*testpki.Cert{nsClientLeaf, inter}, want: InvalidPurpose, depth: 0},
		{name: "Netscape server type leaf", roots: pems(root), peer: []*testpki.Cert{nsServerLeaf, inter}},

		{name: "name constraints satisfied", roots: pems(root), peer: []*testpki.Cert{ncOK, ncInter}},
		{name: "name constraints: DNS outside", roots: pems(root), peer: []*testpki.Cert{ncBadDNS, ncInter}, want: PermittedSubtreeViolation, depth: 0},
		{name: "name constraints: DNS excluded", roots: pems(root), peer: []*testpki.Cert{ncExcluded, ncInter}, want: ExcludedSubtreeViolation, depth: 0},
		{name: "name constraints: IP outside", roots: pems(root), peer: []*testpki.Cert{ncBadIP, ncInter}, want: PermittedSubtreeViolation, depth: 0},
		{name: "name constraints: CN checked without SAN", roots: pems(root), peer: []*testpki.Cert{ncCNOnly, ncInter}, want: PermittedSubtreeViolation, depth: 0},
		{name: "name constraints: one-label CN ignored", roots: pems(root), peer: []*testpki.Cert{ncCNOneLabel, ncInter}},
		{name: "name constraints: CN ignored with dNSName", roots: pems(root), peer: []*testpki.Cert{ncCNWithSAN, ncInter}},

		{name: "name constraints: directoryName, canonical match", roots: pems(root), peer: []*testpki.Cert{ncDirOK, ncDir}},
		{name: "name constraints: directoryName outside", roots: pems(root), peer: []*testpki.Cert{ncDirBad, ncDir}, want: PermittedSubtreeViolation, depth: 0},
		{name: "name constraints: subject email inside", roots: pems(root), peer: []*testpki.Cert{ncMailOK, ncMail}},
		{name: "name constraints: subject email outside", roots: pems(root), peer: []*testpki.Cert{ncMailBad, ncMail}, want: PermittedSubtreeViolation, depth: 0},
		{name: "name constraints: rfc822Name outside", roots: pems(root), peer: []*testpki.Cert{ncMailSAN, ncMail}, want: PermittedSubtreeViolation, depth: 0},
		{name: "name constraints: URI inside", roots: pems(root), peer: []*testpki.Cert{ncURIOK, ncURI}},
		{name: "name constraints: URI outside", roots: pems(root), peer: []*testpki.Cert{ncURIBad, ncURI}, want: PermittedSubtreeViolation, depth: 0},
		{name: "name constraints: minimum", roots: pems(root), peer: []*testpki.Cert{ncMinLeaf, ncMin}, want: SubtreeMinMax, depth: 0},
		{name: "name constraints: excluded IP", roots: pems(root), peer: []*testpki.Cert{ncExclIPLeaf, ncExclIP}, want: ExcludedSubtreeViolation, depth: 0},
		{name: "name constraints: IPv6 vs IPv4 range", roots: pems(root), peer: []*testpki.Cert{ncExclIPv6Leaf, ncExclIP}},
		{name: "name constraints: unsupported type", roots: pems(root), peer: []*testpki.Cert{ridLeaf, ncRID}, want: UnsupportedConstraintType, depth: 0},
		{name: "name constraints: unsupported type unused", roots: pems(root), peer: []*testpki.Cert{ridFree, ncRID}},
		{name: "same-name roots, key id decides", roots: pems(twinA, twinB), peer: []*testpki.Cert{leafOfTwinB}},
		{name: "same-name root with another key", roots: pems(twinA), peer: []*testpki.Cert{leafOfTwinB}, want: UnableToGetIssuerCertLocally, depth: 0},

		{name: "unknown critical extension on leaf", roots: pems(root), peer: []*testpki.Cert{leafCrit, inter}, want: UnhandledCriticalExtension, depth: 0},
		{name: "unknown non-critical extension", roots: pems(root), peer: []*testpki.Cert{leafNonCrit, inter}},
		{name: "unknown critical extension on intermediate", roots: pems(root), peer: []*testpki.Cert{leafOfInterCrit, interCrit}, want: UnhandledCriticalExtension, depth: 1},

		{name: "self-signed leaf in root file", roots: pems(selfSignedLeaf), peer: []*testpki.Cert{selfSignedLeaf}, chainLen: 1},
		{name: "self-signed leaf not in root file", roots: pems(root), peer: []*testpki.Cert{selfSignedLeaf}, want: DepthZeroSelfSignedCert, depth: 0},
		{name: "self-signed CA as server certificate", roots: pems(selfSignedCA), peer: []*testpki.Cert{selfSignedCA}, want: InvalidPurpose, depth: 0},
		{name: "bad signature", roots: pems(root), peer: []*testpki.Cert{badSig, inter}, want: CertSignatureFailure, depth: 0},

		{name: "SHA-1 signed leaf", roots: pems(rsaRoot), peer: []*testpki.Cert{sha1Leaf}, want: CAMDTooWeak, depth: 0},
		{name: "SHA-1 self-signature of the root", roots: pems(sha1Root), peer: []*testpki.Cert{leafOfSHA1Root}},
		{name: "RSA-1024 leaf", roots: pems(root), peer: []*testpki.Cert{rsa1024Leaf}, want: EEKeyTooSmall, depth: 0},
		{name: "RSA-1024 root", roots: pems(rsa1024Root), peer: []*testpki.Cert{leafOfRSA1024Root}, want: CAKeyTooSmall, depth: 1},
		{name: "RSA-2048 root", roots: pems(rsaRoot), peer: []*testpki.Cert{rsaRoot.MustIssue(t, testpki.Spec{})}},
		{name: "P-384 leaf", roots: pems(root), peer: []*testpki.Cert{p384Leaf}},
		{name: "Ed25519 chain", roots: pems(edRoot), peer: []*testpki.Cert{edLeaf}},

		{name: "issuer name matched canonically", roots: pems(root), peer: []*testpki.Cert{leafCanon, printableInter}},

		{name: "TRUSTED CERTIFICATE intermediate for serverAuth", roots: trustedPEM(t, inter, []asn1.ObjectIdentifier{oidServerAuth}, nil),
			peer: []*testpki.Cert{leaf}, chainLen: 2},
		{name: "TRUSTED CERTIFICATE root for clientAuth only", roots: trustedPEM(t, root, []asn1.ObjectIdentifier{oidClientAuth}, nil),
			peer: []*testpki.Cert{leaf, inter}, want: CertRejected, depth: 2},
		{name: "TRUSTED CERTIFICATE root rejecting serverAuth", roots: trustedPEM(t, root, nil, []asn1.ObjectIdentifier{oidServerAuth}),
			peer: []*testpki.Cert{leaf, inter}, want: CertRejected, depth: 2},
		{name: "TRUSTED CERTIFICATE root without settings", roots: trustedPEM(t, root, nil, nil), peer: []*testpki.Cert{leaf, inter}},
		{name: "TRUSTED CERTIFICATE leaf", roots: trustedPEM(t, direct, []asn1.ObjectIdentifier{oidServerAuth}, nil),
			peer: []*testpki.Cert{direct}, want: UnableToGetIssuerCertLocally, depth: 0},
	}
}

func TestVerifyChain(t *testing.T) {
	cases := chainCases(t)
	openssl, _ := exec.LookPath("openssl")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustStore(t, tc.roots)
			chain, err := s.verifyChain(certs(tc.peer...), time.Now())
			var gotReason VerifyReason
			gotDepth := 0
			if err != nil {
				var ve *CertificateVerifyError
				if !errors.As(err, &ve) {
					t.Fatalf("error %T is not a *CertificateVerifyError: %v", err, err)
				}
				gotReason, gotDepth = ve.Reason, ve.Depth
				if ve.Cert == nil {
					t.Errorf("error without a certificate")
				}
			}
			if gotReason != tc.want || gotDepth != tc.depth {
				t.Errorf("verifyChain: %v (reason %d at depth %d), want reason %d (%v) at depth %d",
					err, gotReason, gotDepth, tc.want, tc.want, tc.depth)
			}
			if err == nil {
				if !bytes.Equal(chain[0].Raw, tc.peer[0].Cert.Raw) {
					t.Errorf("chain does not start with the leaf")
				}
				if tc.chainLen != 0 && len(chain) != tc.chainLen {
					t.Errorf("chain length %d, want %d", len(chain), tc.chainLen)
				}
			}
			if openssl == "" {
				return
			}
			code, depth := opensslVerify(t, openssl, tc.roots, tc.peer)
			if VerifyReason(code) != tc.want || (code != 0 && depth != tc.depth) {
				t.Errorf("openssl verify: error %d at depth %d, want %d at depth %d", code, depth, tc.want, tc.depth)
			}
		})
	}
}

var opensslErrorLine = regexp.MustCompile(`(?m)^error (\d+) at (\d+) depth lookup`)

// opensslVerify runs "openssl verify" with the parameters libpq's
// verification amounts to (purpose sslserver, security level 2, the server's
// certificates as untrusted intermediates) and returns the first error it
// reports, 0 when it accepts the chain.
func opensslVerify(t *testing.T, openssl string, roots []byte, peer []*testpki.Cert) (code, depth int) {
	t.Helper()
	rootFile := testpki.WriteFile(t, filepath.Join(t.TempDir(), "root.pem"), roots, 0o600)
	return runOpensslVerify(t, openssl, []string{"-CAfile", rootFile, "-no-CApath"}, peer)
}

// runOpensslVerify runs "openssl verify" against the trust store that
// storeArgs describe (never the system's), with libpq's purpose and security
// level and peer as the server sends it, and returns the first error it
// reports, 0 when it accepts the chain.
func runOpensslVerify(t *testing.T, openssl string, storeArgs []string, peer []*testpki.Cert) (code, depth int) {
	t.Helper()
	dir := t.TempDir()
	untrusted := testpki.WriteFile(t, filepath.Join(dir, "untrusted.pem"), testpki.ChainPEM(peer...), 0o600)
	leafFile := testpki.WriteFile(t, filepath.Join(dir, "leaf.pem"), peer[0].CertPEM, 0o600)
	args := append([]string{"verify", "-auth_level", strconv.Itoa(securityLevel), "-purpose", "sslserver", "-no-CAstore"}, storeArgs...)
	out, err := exec.Command(openssl, append(args, "-untrusted", untrusted, leafFile)...).CombinedOutput()
	m := opensslErrorLine.FindSubmatch(out)
	if m == nil {
		if err != nil || !bytes.Contains(out, []byte(": OK")) {
			t.Fatalf("openssl verify: %v\n%s", err, out)
		}
		return 0, 0
	}
	code, _ = strconv.Atoi(string(m[1]))
	depth, _ = strconv.Atoi(string(m[2]))
	return code, depth
}

func TestVerifyChainErrors(t *testing.T) {
	root := testpki.MustRoot(t, testpki.Spec{})
	leaf := root.MustIssue(t, testpki.Spec{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	s := mustStore(t, root.CertPEM)
	_, err := s.verifyChain(certs(leaf), time.Now())
	var ve *CertificateVerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	if got, want := libpqText(err), "certificate verify failed: certificate has expired"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if ve.Cert != leaf.Cert || ve.Depth != 0 || ve.Reason.String() != "certificate has expired" {
		t.Errorf("got %+v", ve)
	}
	// The same chain verifies at a time when the leaf was valid.
	if _, err := s.verifyChain(certs(leaf), time.Now().Add(-36*time.Hour)); err == nil {
		t.Errorf("root not yet valid then, but accepted")
	}
	if _, err := s.verifyChain(nil, time.Now()); !errors.As(err, &ve) {
		t.Errorf("no certificates: %v", err)
	}
	if got := VerifyReason(999).String(); got != "certificate verification error 999" {
		t.Errorf("unknown reason: %q", got)
	}
}

// TestSecurityBits checks RSA strength estimates against the values
// OpenSSL 3.0's RSA_security_bits gives.
func TestSecurityBits(t *testing.T) {
	tests := []struct{ bits, want int }{
		{512, 56}, {1024, 80}, {1280, 88}, {1536, 96}, {1800, 104}, {2000, 112}, {2047, 112},
		{2048, 112}, {2560, 120}, {3000, 128}, {3072, 128}, {4000, 152}, {4096, 152}, {5000, 160},
		{6144, 176}, {7000, 192}, {7680, 192}, {8192, 200}, {10000, 216}, {15360, 256}, {16384, 272},
	}
	for _, tt := range tests {
		if got := ifcSecurityBits(tt.bits); got != tt.want {
			t.Errorf("ifcSecurityBits(%d) = %d, want %d", tt.bits, got, tt.want)
		}
	}
}

// ---------------------------------------------------------------------------
// Root certificate files

func TestLoadTrustStore(t *testing.T) {
	root := testpki.MustRoot(t, testpki.Spec{CommonName: "Load Root"})
	inter := root.MustIssue(t, testpki.Spec{CommonName: "Load Inter", IsCA: true})
	crl, err := root.CRL(nil, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	certPEM := string(root.CertPEM)
	body := strings.TrimSuffix(strings.TrimPrefix(certPEM, "-----BEGIN CERTIFICATE-----\n"), "-----END CERTIFICATE-----\n")
	block := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	tests := []struct {
		name       string
		data       string
		wantErr    string // reason
		certs, crl int
	}{
		{name: "one certificate", data: certPEM, certs: 1},
		{name: "two certificates", data: certPEM + string(inter.CertPEM), certs: 2},
		{name: "duplicate", data: certPEM + certPEM, certs: 1},
		{name: "empty", data: "", wantErr: "no certificate or crl found"},
		{name: "garbage", data: "hello world\n", wantErr: "no certificate or crl found"},
		{name: "DER", data: string(root.Cert.Raw), wantErr: "no certificate or crl found"},
		{name: "key only", data: string(root.KeyPEM), wantErr: "no certificate or crl found"},
		{name: "text before and after", data: "junk before\n" + certPEM + "trailing junk\n", certs: 1},
		{name: "CRLF line ends", data: strings.ReplaceAll(certPEM, "\n", "\r\n"), certs: 1},
		{name: "trailing spaces", data: strings.ReplaceAll(certPEM, "\n", "  \n"), certs: 1},
		{name: "bad base64", data: "-----BEGIN CERTIFICATE-----\n%" + body[1:] + "-----END CERTIFICATE-----\n", wantErr: "bad base64 decode"},
		{name: "truncated", data: certPEM[:200], wantErr: "bad end line"},
		{name: "wrong end line", data: strings.Replace(certPEM, "END CERTIFICATE", "END CRL", 1), wantErr: "bad end line"},
		{name: "bad DER", data: block("CERTIFICATE", []byte{0, 0, 0}), wantErr: "wrong tag"},
		{name: "truncated DER", data: block("CERTIFICATE", root.Cert.Raw[:100]), wantErr: "too long"},
		{name: "empty block", data: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", wantErr: "PEM lib"},
		{name: "bad block first", data: block("CERTIFICATE", []byte{0, 0, 0}) + certPEM, wantErr: "wrong tag"},
		{name: "bad block second", data: certPEM + block("CERTIFICATE", []byte{0, 0, 0}), wantErr: "wrong tag"},
		{name: "bytes after DER", data: block("CERTIFICATE", append(bytes.Clone(root.Cert.Raw), 0, 0)), certs: 1},
		{name: "unknown block skipped", data: block("FOO", []byte{1}) + certPEM + block("BAR", []byte{2}), certs: 1},
		{name: "key and certificate", data: string(root.KeyPEM) + certPEM, certs: 1},
		{name: "CRL only", data: string(testpki.CRLPEM(crl)), crl: 1},
		{name: "certificate and CRL", data: certPEM + string(testpki.CRLPEM(crl)), certs: 1, crl: 1},
		{name: "old PEM label", data: block("X509 CERTIFICATE", root.Cert.Raw), certs: 1},
		{name: "trusted certificate", data: string(trustedPEM(t, root, []asn1.ObjectIdentifier{oidServerAuth}, nil)), certs: 1},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := testpki.WriteFile(t, filepath.Join(dir, strconv.Itoa(i)+".pem"), []byte(tt.data), 0o644)
			s, err := loadTrustStore(path, false)
			if tt.wantErr != "" {
				want := `could not read root certificate file "` + path + `": ` + tt.wantErr
				var rce *RootCertError
				if err == nil || libpqText(err) != want || !errors.As(err, &rce) || rce.Path != path {
					t.Errorf("got %v, want %s", err, want)
				}
				wantKind := RootCertMalformed
				if tt.wantErr == "no certificate or crl found" {
					wantKind = RootCertEmpty
				}
				if rce != nil && rce.Kind != wantKind {
					t.Errorf("Kind = %v, want %v", rce.Kind, wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s.certs) != tt.certs || len(s.crls) != tt.crl {
				t.Errorf("%d certificates, %d CRLs; want %d, %d", len(s.certs), len(s.crls), tt.certs, tt.crl)
			}
			// Inline data gives the same result.
			s2, err := loadTrustStore(tt.data, true)
			if err != nil || len(s2.certs) != tt.certs {
				t.Errorf("inline: %v", err)
			}
		})
	}

	t.Run("directory", func(t *testing.T) {
		_, err := loadTrustStore(dir, false)
		if err == nil || !strings.HasSuffix(err.Error(), ": no certificate or crl found") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, err := loadTrustStore(filepath.Join(dir, "nope.pem"), false)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads any file")
		}
		path := testpki.WriteFile(t, filepath.Join(dir, "unreadable.pem"), root.CertPEM, 0)
		_, err := loadTrustStore(path, false)
		want := `could not read root certificate file "` + path + `": permission denied`
		if err == nil || err.Error() != want {
			t.Errorf("got %v, want %s", err, want)
		}
	})
	t.Run("inline error", func(t *testing.T) {
		_, err := loadTrustStore("", true)
		if err == nil || libpqText(err) != "could not read root certificate from sslrootcert (inline): no certificate or crl found" {
			t.Errorf("got %v", err)
		}
	})
}

func TestSystemTrustStore(t *testing.T) {
	fileRoot := testpki.MustRoot(t, testpki.Spec{CommonName: "System File Root"})
	dirRoot := testpki.MustRoot(t, testpki.Spec{Subject: &pkix.Name{CommonName: "System Dir Root", Organization: []string{"Test  Org"}}})
	strayRoot := testpki.MustRoot(t, testpki.Spec{CommonName: "Misnamed Root"})
	dir := t.TempDir()
	file := testpki.WriteFile(t, filepath.Join(dir, "bundle.pem"), fileRoot.CertPEM, 0o644)
	hashDir := filepath.Join(dir, "certs")
	if err := os.Mkdir(hashDir, 0o755); err != nil {
		t.Fatal(err)
	}
	dirInfo := newCertInfo(dirRoot.Cert)
	testpki.WriteFile(t, filepath.Join(hashDir, nameHash(dirInfo.subject)+".0"), dirRoot.CertPEM, 0o644)
	testpki.WriteFile(t, filepath.Join(hashDir, "00000000.0"), strayRoot.CertPEM, 0o644)
	t.Setenv("SSL_CERT_FILE", file)
	t.Setenv("SSL_CERT_DIR", hashDir+string(os.PathListSeparator)+filepath.Join(dir, "missing"))

	s, err := systemTrustStore()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*testpki.Cert{fileRoot, dirRoot} {
		leaf := r.MustIssue(t, testpki.Spec{})
		if _, err := s.verifyChain(certs(leaf), time.Now()); err != nil {
			t.Errorf("leaf of %s: %v", r.Cert.Subject, err)
		}
	}
	if _, err := s.verifyChain(certs(strayRoot.MustIssue(t, testpki.Spec{})), time.Now()); err == nil {
		t.Errorf("a root under a wrong hash name was used")
	}

	if openssl, err := exec.LookPath("openssl"); err == nil {
		pemFile := filepath.Join(hashDir, nameHash(dirInfo.subject)+".0")
		out, err := exec.Command(openssl, "x509", "-noout", "-subject_hash", "-in", pemFile).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(out)); got != nameHash(dirInfo.subject) {
			t.Errorf("openssl subject hash %s, ours %s", got, nameHash(dirInfo.subject))
		}
	}
}

// TestCanonicalName checks the canonical name encoding against OpenSSL's
// subject hash, which is computed from it.
func TestCanonicalName(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	names := [][]byte{
		rawName(t, nameAttr{oid.CommonName, tagUTF8String, []byte("  Mixed   Case\tName  ")}),
		rawName(t, nameAttr{oid.CommonName, tagPrintableString, []byte(" Printable  CASE ")}),
		rawName(t, nameAttr{oid.CommonName, tagBMPString, bmp("Ünïcode NAME")}),
		rawName(t, nameAttr{oid.CommonName, tagT61String, []byte("caf\xe9")}),
		rawName(t, nameAttr{asn1.ObjectIdentifier{2, 5, 4, 6}, tagPrintableString, []byte("DE")},
			nameAttr{oid.EmailAddress, tagIA5String, []byte("A@B.example")},
			nameAttr{asn1.ObjectIdentifier{2, 5, 4, 5}, asn1.TagNumericString, []byte("1234")}),
		{0x30, 0},
	}
	for i, raw := range names {
		c := testpki.MustRoot(t, testpki.Spec{RawSubject: raw})
		path := testpki.WriteFile(t, filepath.Join(t.TempDir(), "c.pem"), c.CertPEM, 0o644)
		out, err := exec.Command(openssl, "x509", "-noout", "-subject_hash", "-in", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		n, err := parseName(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := nameHash(n.canon), strings.TrimSpace(string(out)); got != want {
			t.Errorf("name %d: hash %s, openssl %s", i, got, want)
		}
	}
}

func TestNegativeSerialRejectedByParser(t *testing.T) {
	// crypto/x509 (and so crypto/tls) rejects negative serial numbers unless
	// GODEBUG=x509negativeserial=1; OpenSSL accepts them. Such certificates
	// fail before verification runs.
	c := testpki.MustRoot(t, testpki.Spec{SerialNumber: big.NewInt(0x7f)})
	der := bytes.Clone(c.Cert.Raw)
	i := bytes.Index(der, []byte{0x02, 0x01, 0x7f})
	if i < 0 {
		t.Fatal("serial not found")
	}
	der[i+2] = 0xff // -1
	if _, err := x509.ParseCertificate(der); err == nil && os.Getenv("GODEBUG") == "" {
		t.Errorf("negative serial parsed")
	}
}
