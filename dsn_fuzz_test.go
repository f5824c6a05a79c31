package pqssl

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pqssl/pqssl/internal/cparse"
)

// fuzzMarker is the secret the fuzz test slips into connection strings as
// a password; no error may ever show it.
const fuzzMarker = "Qz8MarkerSecret"

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"",
		"host=db port=5432 user=alice dbname=app sslmode=verify-full",
		"host = a\tport =\n1",
		`user='al ice' dbname='it\'s' options='-c x=\\y'`,
		"user='a'dbname=b",
		`user=a\ b password=c\'d\\`,
		"host='unterminated",
		"foo",
		"=x",
		"requiressl=1 sslmode=prefer",
		"host=a,b,c hostaddr=127.1,,::1%1 port=1,,3",
		"hostaddr=0x7f.1,017700000001,2130706433,1.2.65535,fe80::1%lo",
		"host=/tmp,@abstract port=' +5 '",
		"sslrootcert=system sslmode=require",
		"sslnegotiation=direct sslmode=prefer",
		"ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=tlsv1.2",
		"connect_timeout=1 keepalives=0 keepalives_idle=-1 tcp_user_timeout=99999999999",
		"load_balance_hosts=random host=a,b,c,d",
		"client_encoding=Unicode datestyle='iso, mdy' tz=UTC geqo=off search_path=x",
		"requirepeer=x require_auth=!password gssencmode=require replication=database gssdelegation=1",
		"oauth_issuer=x scram_client_key=y",
		"service=s servicefile=/nonexistent",
		"min_protocol_version=latest max_protocol_version=3.0",
		"sslinline=true sslcert='-----BEGIN CERTIFICATE-----'",
		"postgresql://",
		"postgres://alice:s3cret@db.example:6432/app?sslmode=verify-full&application_name=x%20y",
		"postgresql://al%69ce:p%40ss@d%62:%36432/a%2Fb?applica%74ion_name=%41",
		"postgresql://u:p@q@db",
		"postgresql://[::1]:6432,[fe80::1%25eth0],db:1/db",
		"postgresql://a%2Cb:7,%2Ftmp",
		"postgresql:///db?host=/tmp&port=5433&ssl=true",
		"postgresql://[::1",
		"postgresql://[]:1",
		"postgresql://[::1]x",
		"postgresql://db?sslmode",
		"postgresql://db?&",
		"postgresql://db?a=b=c",
		"postgresql://db?=x",
		"postgresql://db?x=%4",
		"postgresql://u%00@db",
		"postgresql://[::1?sslpassword=abc",
	} {
		f.Add(s)
	}

	oldUser, oldOpen := lookupEffectiveUser, openServiceFile
	lookupEffectiveUser = func() (string, string, error) { return "fuzzuser", "/nonexistent/home", nil }
	openServiceFile = func(name string) (*os.File, error) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	f.Cleanup(func() { lookupEffectiveUser, openServiceFile = oldUser, oldOpen })
	env := envOf(map[string]string{"HOME": "/nonexistent/home", "PGSYSCONFDIR": "/nonexistent/etc"})

	f.Fuzz(func(t *testing.T, dsn string) {
		c, err := parseConfig(dsn, env)
		if err != nil {
			checkError(t, dsn, err)
		} else {
			checkConfig(t, dsn, c)
		}

		if mayContainMarker(dsn) {
			return
		}
		// The secret is a complete value that is parsed before anything in
		// dsn can go wrong, so no error may show it.
		kv := "sslpassword=" + fuzzMarker + " " + dsn
		uri := "postgresql://u:" + fuzzMarker + "@" + dsn[uriPrefixLength(dsn):]
		for _, s := range []string{kv, uri} {
			if _, err := parseConfig(s, env); err != nil && strings.Contains(err.Error(), fuzzMarker) {
				t.Errorf("parseConfig(%q) error shows the password: %v", s, err)
			}
		}
	})
}

// mayContainMarker reports whether dsn could spell the marker itself,
// through backslash escapes or percent-encoding, so that an error quoting
// some other value of dsn may legitimately contain it.
func mayContainMarker(dsn string) bool {
	for _, s := range []string{dsn, strings.ReplaceAll(dsn, `\`, "")} {
		if strings.Contains(s, fuzzMarker) || strings.Contains(looseDecode(s), fuzzMarker) {
			return true
		}
	}
	return false
}

func looseDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := cparse.Unhex(s[i+1])
			lo, ok2 := cparse.Unhex(s[i+2])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func checkError(t *testing.T, dsn string, err error) {
	t.Helper()
	var pe *ParameterError
	if !errors.As(err, &pe) {
		t.Fatalf("parseConfig(%q) error %T is not a *ParameterError: %v", dsn, err, err)
	}
	if pe.Err == nil || !strings.HasPrefix(err.Error(), "pqssl: ") {
		t.Errorf("parseConfig(%q): malformed error %#v", dsn, pe)
	}
	if pe.Source == "" {
		t.Errorf("parseConfig(%q): error without a source: %v", dsn, err)
	}
}

func checkConfig(t *testing.T, dsn string, c *config) {
	t.Helper()
	if len(c.hosts) == 0 {
		t.Fatalf("parseConfig(%q): no hosts", dsn)
	}
	for _, h := range c.hosts {
		if h.port == 0 {
			t.Errorf("parseConfig(%q): port 0 in %+v", dsn, h)
		}
		if h.host == "" && h.hostaddr == "" {
			t.Errorf("parseConfig(%q): host without host or hostaddr", dsn)
		}
		if h.hostaddr != "" {
			if _, err := netip.ParseAddr(h.hostaddr); err != nil {
				t.Errorf("parseConfig(%q): hostaddr %q is not canonical: %v", dsn, h.hostaddr, err)
			}
		}
	}
	switch c.sslmode {
	case "disable", "allow", "prefer", "require", "verify-ca", "verify-full":
	default:
		t.Errorf("parseConfig(%q): sslmode %q", dsn, c.sslmode)
	}
	if !c.sslmodeSet && c.sslmode != "require" && c.sslmode != "verify-full" {
		t.Errorf("parseConfig(%q): default sslmode %q can fall back to plaintext", dsn, c.sslmode)
	}
	if c.sslrootcertSet && c.sslrootcert == "system" && c.sslmode != "verify-full" {
		t.Errorf("parseConfig(%q): sslrootcert=system with sslmode %q", dsn, c.sslmode)
	}
	if c.sslnegotiation == "direct" && (c.sslmode == "disable" || c.sslmode == "allow" || c.sslmode == "prefer") {
		t.Errorf("parseConfig(%q): sslnegotiation=direct with sslmode %q", dsn, c.sslmode)
	}
	if c.sslMinVersion == 0 {
		t.Errorf("parseConfig(%q): no minimum TLS version", dsn)
	}
	if c.connectTimeout < 0 || c.connectTimeout > 0 && c.connectTimeout < 2*time.Second {
		t.Errorf("parseConfig(%q): connect_timeout %v", dsn, c.connectTimeout)
	}
	if c.user == "" || c.dbname == "" {
		t.Errorf("parseConfig(%q): empty user %q or dbname %q", dsn, c.user, c.dbname)
	}
	for k := range c.runtime {
		if _, known := keywords[k]; known && k != "geqo" || k == "" || strings.EqualFold(k, "client_encoding") || strings.EqualFold(k, "datestyle") {
			t.Errorf("parseConfig(%q): keyword %q passed as a run-time parameter", dsn, k)
		}
	}
}
