package pqssl

import (
	"crypto/tls"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pqssl/pqssl/internal/pgauth"
	"github.com/pqssl/pqssl/internal/pgtest"
)

// fakeUser makes the passwd lookup return name and home for the duration of
// the test.
func fakeUser(t *testing.T, name, home string, err error) {
	t.Helper()
	old := lookupEffectiveUser
	lookupEffectiveUser = func() (string, string, error) { return name, home, err }
	t.Cleanup(func() { lookupEffectiveUser = old })
}

// envOf returns a getenv over m; HOME is /h unless m says otherwise.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if v, ok := m[k]; ok {
			return v, true
		}
		if k == "HOME" {
			return "/h", true
		}
		return "", false
	}
}

// defaultConfig is what parseConfig("") yields with HOME=/h and the OS user
// osuser; mod adjusts it.
func defaultConfig(mod func(c *config)) *config {
	c := &config{
		hosts:              []hostSpec{{host: "localhost", port: 5432}},
		user:               "osuser",
		dbname:             "osuser",
		passfile:           "/h/.pgpass",
		sslmode:            "require",
		sslnegotiation:     "postgres",
		sslcert:            "/h/.postgresql/postgresql.crt",
		sslkey:             "/h/.postgresql/postgresql.key",
		sslrootcert:        "/h/.postgresql/root.crt",
		sslcrl:             "/h/.postgresql/root.crl",
		sslcertmode:        "allow",
		sslsni:             true,
		sslMinVersion:      tls.VersionTLS12,
		channelBinding:     "prefer",
		targetSessionAttrs: "any",
		loadBalanceHosts:   "disable",
		minProtocolVersion: "3.0",
		maxProtocolVersion: "3.0",
		keepalives:         true,
		runtime:            map[string]string{},
	}
	if mod != nil {
		mod(c)
	}
	return c
}

// cmpConfig compares configs by their values; where each came from is
// Config's concern (config_test.go).
var cmpConfig = cmp.Options{cmp.AllowUnexported(config{}, hostSpec{}, pgauth.Requirement{}), cmpopts.IgnoreFields(config{}, "sources")}

func TestParseConfig(t *testing.T) {
	fakeUser(t, "osuser", "/home/osuser", nil)
	tests := []struct {
		name string
		dsn  string
		env  map[string]string
		want func(c *config)
	}{
		{name: "empty", dsn: ""},
		{name: "blanks only", dsn: " \t\n "},

		// key=value syntax
		{name: "simple", dsn: "host=db port=6432 user=alice dbname=app", want: func(c *config) {
			c.hosts = []hostSpec{{host: "db", port: 6432}}
			c.user, c.dbname = "alice", "app"
		}},
		{name: "spaces around =", dsn: "user = alice\tdbname\n=\napp", want: func(c *config) {
			c.user, c.dbname = "alice", "app"
		}},
		{name: "blank after = takes next word", dsn: "user= dbname=x", want: func(c *config) {
			// libpq skips blanks after "=", so the value is "dbname=x".
			c.user, c.dbname = "dbname=x", "dbname=x"
		}},
		{name: "empty value at end", dsn: "user=alice dbname=", want: func(c *config) {
			c.user, c.dbname = "alice", "alice"
		}},
		{name: "quoted", dsn: `user='al ice' dbname='it\'s' options='-c x=\\y'`, want: func(c *config) {
			c.user, c.dbname, c.options = "al ice", "it's", `-c x=\y`
		}},
		{name: "quoted empty", dsn: "user='' dbname=app", want: func(c *config) { c.dbname = "app" }},
		{name: "quote then next key without blank", dsn: "user='a'dbname=b", want: func(c *config) {
			c.user, c.dbname = "a", "b"
		}},
		{name: "backslash outside quotes", dsn: `user=a\ b dbname=c\'d\\`, want: func(c *config) {
			c.user, c.dbname = "a b", `c'd\`
		}},
		{name: "trailing backslash", dsn: `user=ab\`, want: func(c *config) { c.user, c.dbname = "ab", "ab" }},
		{name: "quote inside unquoted value", dsn: "user=a'b", want: func(c *config) { c.user, c.dbname = "a'b", "a'b" }},
		{name: "last wins", dsn: "user=a user=b sslmode=disable sslmode=verify-ca", want: func(c *config) {
			c.user, c.dbname = "b", "b"
			c.sslmode, c.sslmodeSet = "verify-ca", true
		}},
		{name: "database alias", dsn: "database=app", want: func(c *config) { c.dbname = "app" }},
		{name: "requiressl=1", dsn: "requiressl=1", want: func(c *config) { c.sslmodeSet = true }},
		{name: "requiressl=0 means prefer", dsn: "requiressl=0", want: func(c *config) {
			c.sslmode, c.sslmodeSet = "prefer", true
		}},
		{name: "requiressl then sslmode", dsn: "requiressl=1 sslmode=verify-full", want: func(c *config) {
			c.sslmode, c.sslmodeSet = "verify-full", true
		}},

		// URIs
		{name: "uri minimal", dsn: "postgresql://", want: nil},
		{name: "uri short prefix", dsn: "postgres://db", want: func(c *config) {
			c.hosts = []hostSpec{{host: "db", port: 5432}}
		}},
		{name: "uri full", dsn: "postgresql://alice:s3cret@db.example:6432/app?sslmode=verify-full&application_name=x%20y",
			want: func(c *config) {
				c.hosts = []hostSpec{{host: "db.example", port: 6432}}
				c.user, c.password, c.dbname = "alice", "s3cret", "app"
				c.sslmode, c.sslmodeSet = "verify-full", true
				c.applicationName = "x y"
			}},
		{name: "uri percent everywhere", dsn: "postgresql://al%69ce:p%40ss%3Aw@d%62:%36432/a%2Fb?applica%74ion_name=%41",
			want: func(c *config) {
				c.hosts = []hostSpec{{host: "db", port: 6432}}
				c.user, c.password, c.dbname = "alice", "p@ss:w", "a/b"
				c.applicationName = "A"
			}},
		{name: "uri user only", dsn: "postgresql://alice@db", want: func(c *config) {
			c.hosts = []hostSpec{{host: "db", port: 5432}}
			c.user, c.dbname = "alice", "alice"
		}},
		{name: "uri empty user and password", dsn: "postgresql://:@db", want: func(c *config) {
			c.hosts = []hostSpec{{host: "db", port: 5432}}
		}},
		{name: "uri password with colon", dsn: "postgresql://u:a:b@db", want: func(c *config) {
			c.hosts = []hostSpec{{host: "db", port: 5432}}
			c.user, c.dbname, c.password = "u", "u", "a:b"
		}},
		{name: "uri second @ belongs to host", dsn: "postgresql://u:p@q@db", want: func(c *config) {
			c.hosts = []hostSpec{{host: "q@db", port: 5432}}
			c.user, c.dbname, c.password = "u", "u", "p"
		}},
		{name: "uri ipv6", dsn: "postgresql://[::1]:6432/db", want: func(c *config) {
			c.hosts = []hostSpec{{host: "::1", port: 6432}}
			c.dbname = "db"
		}},
		{name: "uri ipv6 no port", dsn: "postgresql://[fe80::1%25eth0]/db", want: func(c *config) {
			c.hosts = []hostSpec{{host: "fe80::1%eth0", port: 5432}}
			c.dbname = "db"
		}},
		{name: "uri multi host", dsn: "postgresql://a:1,[::1]:2,c/db", want: func(c *config) {
			c.hosts = []hostSpec{{host: "a", port: 1}, {host: "::1", port: 2}, {host: "c", port: 5432}}
			c.dbname = "db"
		}},
		{name: "uri multi host no ports", dsn: "postgresql://a,b", want: func(c *config) {
			c.hosts = []hostSpec{{host: "a", port: 5432}, {host: "b", port: 5432}}
		}},
		{name: "uri encoded comma splits hosts", dsn: "postgresql://a%2Cb:7", want: func(c *config) {
			c.hosts = []hostSpec{{host: "a", port: 7}, {host: "b", port: 7}}
		}},
		{name: "uri socket dir encoded", dsn: "postgresql://%2Fvar%2Frun%2Fpostgresql/db", want: func(c *config) {
			c.hosts = []hostSpec{{host: "/var/run/postgresql", port: 5432}}
			c.dbname = "db"
		}},
		{name: "uri socket dir in query", dsn: "postgresql:///db?host=/tmp&port=5433", want: func(c *config) {
			c.hosts = []hostSpec{{host: "/tmp", port: 5433}}
			c.dbname = "db"
		}},
		{name: "uri empty dbname keeps PGDATABASE", dsn: "postgresql://db/", env: map[string]string{"PGDATABASE": "envdb"},
			want: func(c *config) {
				c.hosts = []hostSpec{{host: "db", port: 5432}}
				c.dbname = "envdb"
			}},
		{name: "uri query overrides netloc", dsn: "postgresql://u@a:1/d?host=b&port=2&user=v", want: func(c *config) {
			c.hosts = []hostSpec{{host: "b", port: 2}}
			c.user, c.dbname = "v", "d"
		}},
		{name: "uri ssl=true", dsn: "postgresql://db?ssl=true", want: func(c *config) {
			c.hosts = []hostSpec{{host: "db", port: 5432}}
			c.sslmodeSet = true
		}},
		{name: "uri requiressl", dsn: "postgresql://db?requiressl=0", want: func(c *config) {
			c.hosts = []hostSpec{{host: "db", port: 5432}}
			c.sslmode, c.sslmodeSet = "prefer", true
		}},
		{name: "uri trailing ampersand and empty query", dsn: "postgresql://db?sslmode=disable&", want: func(c *config) {
			c.hosts = []hostSpec{{host: "db", port: 5432}}
			c.sslmode, c.sslmodeSet = "disable", true
		}},
		{name: "uri dbname with slash and at", dsn: "postgresql://db/a/b@c", want: func(c *config) {
			c.hosts = []hostSpec{{host: "db", port: 5432}}
			c.dbname = "a/b@c"
		}},
		{name: "uri plus is not space", dsn: "postgresql://db?options=a+b", want: func(c *config) {
			c.hosts = []hostSpec{{host: "db", port: 5432}}
			c.options = "a+b"
		}},
		{name: "uri runtime parameter", dsn: "postgresql://db?search_path=s%2Ct", want: func(c *config) {
			c.hosts = []hostSpec{{host: "db", port: 5432}}
			c.runtime = map[string]string{"search_path": "s,t"}
		}},

		// host lists
		{name: "host list with one port", dsn: "host=a,b,c port=7", want: func(c *config) {
			c.hosts = []hostSpec{{host: "a", port: 7}, {host: "b", port: 7}, {host: "c", port: 7}}
		}},
		{name: "host list with port list", dsn: "host=a,b port=1,", want: func(c *config) {
			c.hosts = []hostSpec{{host: "a", port: 1}, {host: "b", port: 5432}}
		}},
		{name: "empty host item is localhost", dsn: "host=a,,/tmp", want: func(c *config) {
			c.hosts = []hostSpec{{host: "a", port: 5432}, {host: "localhost", port: 5432}, {host: "/tmp", port: 5432}}
		}},
		{name: "hostaddr only", dsn: "hostaddr=192.0.2.1", want: func(c *config) {
			c.hosts = []hostSpec{{hostaddr: "192.0.2.1", port: 5432}}
		}},
		{name: "host and hostaddr lists", dsn: "host=a,b,c hostaddr=192.0.2.1,,::1 port=1,2,3", want: func(c *config) {
			c.hosts = []hostSpec{{host: "a", hostaddr: "192.0.2.1", port: 1}, {host: "b", port: 2}, {host: "c", hostaddr: "::1", port: 3}}
		}},
		{name: "hostaddr list without host", dsn: "hostaddr=192.0.2.1,", want: func(c *config) {
			c.hosts = []hostSpec{{hostaddr: "192.0.2.1", port: 5432}, {host: "localhost", port: 5432}}
		}},
		{name: "hostaddr inet_aton forms", dsn: "hostaddr=127.1,0x7f.0.0.2,0177.0.0.3,2130706436,1.2.65535", want: func(c *config) {
			c.hosts = []hostSpec{{hostaddr: "127.0.0.1", port: 5432}, {hostaddr: "127.0.0.2", port: 5432},
				{hostaddr: "127.0.0.3", port: 5432}, {hostaddr: "127.0.0.4", port: 5432}, {hostaddr: "1.2.255.255", port: 5432}}
		}},
		{name: "hostaddr ipv6 forms", dsn: "hostaddr=::ffff:1.2.3.4,2001:DB8::1,fe80::1%1,::1%7", want: func(c *config) {
			c.hosts = []hostSpec{{hostaddr: "::ffff:1.2.3.4", port: 5432}, {hostaddr: "2001:db8::1", port: 5432},
				{hostaddr: "fe80::1%1", port: 5432}, {hostaddr: "::1%7", port: 5432}}
		}},
		{name: "socket host with hostaddr is tcp", dsn: "host=/tmp hostaddr=127.0.0.1", want: func(c *config) {
			c.hosts = []hostSpec{{host: "/tmp", hostaddr: "127.0.0.1", port: 5432}}
		}},
		{name: "abstract socket", dsn: "host=@pg", want: func(c *config) {
			c.hosts = []hostSpec{{host: "@pg", port: 5432}}
		}},
		{name: "port forms strtol accepts", dsn: "host=a,b,c port=' 1 ,+2,0003'", want: func(c *config) {
			c.hosts = []hostSpec{{host: "a", port: 1}, {host: "b", port: 2}, {host: "c", port: 3}}
		}},
		{name: "explicit empty host hides PGHOST", dsn: "host=''", env: map[string]string{"PGHOST": "envhost"}},

		// environment
		{name: "environment", dsn: "", env: map[string]string{
			"PGHOST": "eh1,eh2", "PGHOSTADDR": "10.0.0.1,10.0.0.2", "PGPORT": "1,2", "PGUSER": "eu", "PGPASSWORD": "ep",
			"PGDATABASE": "ed", "PGPASSFILE": "/e/pass", "PGOPTIONS": "-c a=b", "PGAPPNAME": "eapp",
			"PGCONNECT_TIMEOUT": "10", "PGSSLMODE": "verify-ca", "PGSSLNEGOTIATION": "direct",
			"PGSSLCERT": "/e/c", "PGSSLKEY": "/e/k", "PGSSLROOTCERT": "/e/r", "PGSSLCRL": "/e/crl", "PGSSLCRLDIR": "/e/crld",
			"PGSSLCERTMODE": "require", "PGSSLSNI": "0", "PGSSLMINPROTOCOLVERSION": "tlsv1.3",
			"PGSSLMAXPROTOCOLVERSION": "TLSv1.3", "PGCHANNELBINDING": "require", "PGTARGETSESSIONATTRS": "read-write",
			"PGLOADBALANCEHOSTS": "disable", "PGCLIENTENCODING": "UTF-8", "PGDATESTYLE": "ISO, MDY", "PGTZ": "UTC",
			"PGGEQO": "off", "PGKRBSRVNAME": "kerb", "PGGSSLIB": "gssapi", "PGGSSENCMODE": "prefer",
			"PGGSSDELEGATION": "0", "PGSSLCOMPRESSION": "1", "PGMINPROTOCOLVERSION": "3.0", "PGMAXPROTOCOLVERSION": "3.2",
			"PGREQUIREPEER": "", "PGREQUIREAUTH": "",
		}, want: func(c *config) {
			c.hosts = []hostSpec{{host: "eh1", hostaddr: "10.0.0.1", port: 1}, {host: "eh2", hostaddr: "10.0.0.2", port: 2}}
			c.user, c.password, c.dbname, c.passfile = "eu", "ep", "ed", "/e/pass"
			c.options, c.applicationName = "-c a=b", "eapp"
			c.connectTimeout = 10 * time.Second
			c.sslmode, c.sslmodeSet, c.sslnegotiation = "verify-ca", true, "direct"
			c.sslcert, c.sslkey, c.sslrootcert, c.sslcrl, c.sslcrldir = "/e/c", "/e/k", "/e/r", "/e/crl", "/e/crld"
			c.sslcertSet, c.sslkeySet, c.sslrootcertSet, c.sslcrlSet, c.sslcrldirSet = true, true, true, true, true
			c.sslcertmode, c.sslsni = "require", false
			c.sslMinVersion, c.sslMaxVersion = tls.VersionTLS13, tls.VersionTLS13
			c.channelBinding, c.targetSessionAttrs = "require", "read-write"
			c.krbsrvname = "kerb"
			c.maxProtocolVersion = "3.2"
			c.runtime = map[string]string{"timezone": "UTC", "geqo": "off"}
		}},
		{name: "empty environment variables are unset", env: map[string]string{
			"PGSSLMODE": "", "PGPORT": "", "PGCONNECT_TIMEOUT": "", "PGCHANNELBINDING": "", "PGSERVICE": "",
			"PGTARGETSESSIONATTRS": "", "PGGSSENCMODE": "", "PGSSLNEGOTIATION": "", "PGUSER": "",
		}},
		{name: "PGREQUIRESSL", env: map[string]string{"PGREQUIRESSL": "1"}, want: func(c *config) { c.sslmodeSet = true }},
		{name: "PGREQUIRESSL=0 ignored", env: map[string]string{"PGREQUIRESSL": "0"}},
		{name: "PGSSLMODE beats PGREQUIRESSL", env: map[string]string{"PGREQUIRESSL": "1", "PGSSLMODE": "allow"},
			want: func(c *config) { c.sslmode, c.sslmodeSet = "allow", true }},
		{name: "explicit beats environment", dsn: "user=s port=9 sslmode=disable",
			env: map[string]string{"PGUSER": "e", "PGPORT": "8", "PGSSLMODE": "verify-full"},
			want: func(c *config) {
				c.user, c.dbname = "s", "s"
				c.hosts[0].port = 9
				c.sslmode, c.sslmodeSet = "disable", true
			}},
		{name: "explicit empty hides environment", dsn: "sslcert='' passfile=''",
			env: map[string]string{"PGSSLCERT": "/e/c", "PGPASSFILE": "/e/p"}},
		{name: "tz key and explicit timezone", dsn: "tz=Europe/Paris geqo=on", env: map[string]string{"PGTZ": "UTC"},
			want: func(c *config) { c.runtime = map[string]string{"timezone": "Europe/Paris", "geqo": "on"} }},
		{name: "timezone runtime beats PGTZ", dsn: "TimeZone=Asia/Tokyo", env: map[string]string{"PGTZ": "UTC"},
			want: func(c *config) { c.runtime = map[string]string{"TimeZone": "Asia/Tokyo"} }},

		// defaults and home directory
		{name: "HOME empty uses passwd home", env: map[string]string{"HOME": ""}, want: func(c *config) {
			c.passfile = "/home/osuser/.pgpass"
			c.sslcert = "/home/osuser/.postgresql/postgresql.crt"
			c.sslkey = "/home/osuser/.postgresql/postgresql.key"
			c.sslrootcert = "/home/osuser/.postgresql/root.crt"
			c.sslcrl = "/home/osuser/.postgresql/root.crl"
		}},
		{name: "user gives dbname default", dsn: "user=bob", want: func(c *config) { c.user, c.dbname = "bob", "bob" }},
		{name: "PGUSER gives dbname default", env: map[string]string{"PGUSER": "eve"}, want: func(c *config) {
			c.user, c.dbname = "eve", "eve"
		}},

		// TLS parameters
		{name: "ssl files explicit", dsn: "sslcert=c sslkey=k sslrootcert=r sslcrl=l sslcrldir=d sslpassword=pw sslkeylogfile=/tmp/kl",
			want: func(c *config) {
				c.sslcert, c.sslkey, c.sslrootcert, c.sslcrl, c.sslcrldir = "c", "k", "r", "l", "d"
				c.sslcertSet, c.sslkeySet, c.sslrootcertSet, c.sslcrlSet, c.sslcrldirSet = true, true, true, true, true
				c.sslpassword, c.sslkeylogfile = "pw", "/tmp/kl"
			}},
		{name: "no literal tilde expansion", dsn: "sslcert=~/c", want: func(c *config) { c.sslcert, c.sslcertSet = "~/c", true }},
		{name: "sslinline drops file defaults", dsn: "sslinline=true sslrootcert='-----BEGIN CERTIFICATE-----'", want: func(c *config) {
			c.sslinline = true
			c.sslcert, c.sslkey = "", ""
			c.sslrootcert, c.sslrootcertSet = "-----BEGIN CERTIFICATE-----", true
		}},
		{name: "sslrootcert=system defaults to verify-full", dsn: "sslrootcert=system", want: func(c *config) {
			c.sslrootcert, c.sslrootcertSet, c.sslmode = "system", true, "verify-full"
		}},
		{name: "sslrootcert=system with verify-full", dsn: "sslrootcert=system sslmode=verify-full", want: func(c *config) {
			c.sslrootcert, c.sslrootcertSet, c.sslmode, c.sslmodeSet = "system", true, "verify-full", true
		}},
		{name: "PGSSLROOTCERT=system", env: map[string]string{"PGSSLROOTCERT": "system"}, want: func(c *config) {
			c.sslrootcert, c.sslrootcertSet, c.sslmode = "system", true, "verify-full"
		}},
		{name: "sslnegotiation direct", dsn: "sslnegotiation=direct sslmode=verify-full", want: func(c *config) {
			c.sslnegotiation, c.sslmode, c.sslmodeSet = "direct", "verify-full", true
		}},
		{name: "sslnegotiation direct with default sslmode", dsn: "sslnegotiation=direct", want: func(c *config) {
			c.sslnegotiation = "direct"
		}},
		{name: "protocol versions", dsn: "ssl_min_protocol_version=TLSv1 ssl_max_protocol_version=tlsv1.1", want: func(c *config) {
			c.sslMinVersion, c.sslMaxVersion = tls.VersionTLS10, tls.VersionTLS11
		}},
		{name: "protocol version lib/pq spelling", dsn: "ssl_min_protocol_version=TLSv1.0", want: func(c *config) {
			c.sslMinVersion = tls.VersionTLS10
		}},
		{name: "empty min skips range check", dsn: "ssl_min_protocol_version='' ssl_max_protocol_version=TLSv1.1", want: func(c *config) {
			c.sslMaxVersion = tls.VersionTLS11
		}},
		{name: "sslsni values", dsn: "sslsni=0", want: func(c *config) { c.sslsni = false }},
		{name: "sslsni only leading 1 enables", dsn: "sslsni=yes", want: func(c *config) { c.sslsni = false }},
		{name: "sslsni 1x", dsn: "sslsni=1x"},
		{name: "sslcompression ignored", dsn: "sslcompression=1"},
		{name: "sslcertmode and channel_binding", dsn: "sslcertmode=disable channel_binding=disable", want: func(c *config) {
			c.sslcertmode, c.channelBinding = "disable", "disable"
		}},

		// other parameters
		{name: "connect_timeout 1 becomes 2", dsn: "connect_timeout=1", want: func(c *config) { c.connectTimeout = 2 * time.Second }},
		{name: "connect_timeout negative", dsn: "connect_timeout=-5"},
		{name: "connect_timeout blanks", dsn: "connect_timeout=' 30 '", want: func(c *config) { c.connectTimeout = 30 * time.Second }},
		{name: "keepalives", dsn: "keepalives=0 keepalives_idle=10 keepalives_interval=-3 keepalives_count=4 tcp_user_timeout=1500",
			want: func(c *config) {
				c.keepalives = false
				c.keepalivesIdle, c.keepalivesCount, c.tcpUserTimeout = 10*time.Second, 4, 1500*time.Millisecond
			}},
		{name: "application name fallback", dsn: "fallback_application_name=fb", want: func(c *config) { c.applicationName = "fb" }},
		{name: "application name beats fallback", dsn: "fallback_application_name=fb", env: map[string]string{"PGAPPNAME": "app"},
			want: func(c *config) { c.applicationName = "app" }},
		{name: "client_encoding spellings", dsn: "client_encoding=utf-8 datestyle='iso,mdy'"},
		{name: "client_encoding auto", dsn: "client_encoding=auto", env: map[string]string{"PGCLIENTENCODING": "latin1"}},
		{name: "target_session_attrs", dsn: "target_session_attrs=prefer-standby", want: func(c *config) {
			c.targetSessionAttrs = "prefer-standby"
		}},
		{name: "protocol min raises default max", dsn: "min_protocol_version=3.2", want: func(c *config) {
			c.minProtocolVersion, c.maxProtocolVersion, c.minProtocolMinor = "3.2", "latest", 2
		}},
		{name: "lib/pq extensions", dsn: "binary_parameters=yes disable_prepared_binary_result=on krbsrvname=k krbspn=k/h",
			want: func(c *config) {
				c.binaryParameters, c.disablePreparedBinaryResult = true, true
				c.krbsrvname, c.krbspn = "k", "k/h"
			}},
		{name: "harmless known keywords", dsn: "gssencmode=disable gsslib=gssapi gssdelegation=0 replication=false requirepeer='' require_auth='' oauth_issuer=''"},
		{name: "runtime parameters", dsn: "search_path=app work_mem=64MB", want: func(c *config) {
			c.runtime = map[string]string{"search_path": "app", "work_mem": "64MB"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.dsn, envOf(tt.env))
			if err != nil {
				t.Fatalf("parseConfig(%q): %v", tt.dsn, err)
			}
			if diff := cmp.Diff(defaultConfig(tt.want), got, cmpConfig); diff != "" {
				t.Errorf("parseConfig(%q) mismatch (-want +got):\n%s", tt.dsn, diff)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	fakeUser(t, "osuser", "/home/osuser", nil)
	tests := []struct {
		dsn    string
		env    map[string]string
		want   string // the whole message
		name   string // ParameterError.Name
		source string // ParameterError.Source
	}{
		// key=value syntax
		{dsn: "foo", want: `pqssl: missing "=" after "foo" in connection info string`, source: sourceString},
		{dsn: "host=a foo bar=1", want: `pqssl: missing "=" after "foo" in connection info string`, source: sourceString},
		{dsn: "host='a", want: `pqssl: unterminated quoted string in connection info string`, source: sourceString},
		{dsn: `host='a\'`, want: `pqssl: unterminated quoted string in connection info string`, source: sourceString},
		{dsn: "=x", want: `pqssl: invalid connection option ""`, source: sourceString},
		{dsn: "user=a\x00sslmode=disable", want: `pqssl: connection string contains a NUL byte`, source: sourceString},

		// URI syntax
		{dsn: "postgresql://[::1", want: `pqssl: end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://[::1"`},
		{dsn: "postgresql://[]:1", want: `pqssl: IPv6 host address may not be empty in URI: "postgresql://[]:1"`},
		{dsn: "postgresql://[::1]x", want: `pqssl: unexpected character "x" at position 19 in URI (expected ":" or "/"): "postgresql://[::1]x"`},
		{dsn: "postgresql://db?sslmode", want: `pqssl: missing key/value separator "=" in URI query parameter: "sslmode"`},
		{dsn: "postgresql://db?&", want: `pqssl: missing key/value separator "=" in URI query parameter: ""`},
		{dsn: "postgresql://db?sslmode=a=b", want: `pqssl: extra key/value separator "=" in URI query parameter: "sslmode"`},
		{dsn: "postgresql://db?=x", want: `pqssl: invalid URI query parameter: ""`},
		{dsn: "postgresql://db?application_name=%4", want: `pqssl: invalid percent-encoded token: "%4"`},
		{dsn: "postgresql://db?application_name=%zz", want: `pqssl: invalid percent-encoded token: "%zz"`},
		{dsn: "postgresql://d%zb", want: `pqssl: invalid percent-encoded token: "d%zb"`},
		{dsn: "postgresql://u%00@db", want: `pqssl: forbidden value %00 in percent-encoded value: "u%00"`},
		{dsn: "postgresql://db?%zz=1", want: `pqssl: invalid percent-encoded token: "%zz"`},

		// host lists
		{dsn: "host=a,b hostaddr=127.0.0.1", want: `pqssl: invalid value for connection parameter "host": could not match 2 host names to 1 hostaddr values`, name: "host"},
		{dsn: "hostaddr=127.0.0.1,127.0.0.1 host=a", want: `pqssl: invalid value for connection parameter "host": could not match 1 host names to 2 hostaddr values`, name: "host"},
		{dsn: "host=a,b port=1,2,3", want: `pqssl: invalid value for connection parameter "port": could not match 3 port numbers to 2 hosts`, name: "port"},
		{dsn: "port=0", want: `pqssl: invalid value for connection parameter "port": invalid port number: "0"`, name: "port"},
		{dsn: "port=65536", want: `pqssl: invalid value for connection parameter "port": invalid port number: "65536"`, name: "port"},
		{dsn: "port=x", want: `pqssl: invalid value for connection parameter "port": invalid integer value "x" for connection option "port"`, name: "port"},
		{dsn: "port=0x10", want: `pqssl: invalid value for connection parameter "port": invalid integer value "0x10" for connection option "port"`, name: "port"},
		{dsn: "port=99999999999", want: `pqssl: invalid value for connection parameter "port": invalid integer value "99999999999" for connection option "port"`, name: "port"},
		{dsn: "", env: map[string]string{"PGPORT": "x"}, want: `pqssl: invalid value for environment variable PGPORT: invalid integer value "x" for connection option "port"`, name: "PGPORT", source: sourceEnv},
		{dsn: "hostaddr=localhost", want: `pqssl: invalid value for connection parameter "hostaddr": could not parse network address "localhost"`, name: "hostaddr"},
		{dsn: "hostaddr=' 127.0.0.1'", want: `pqssl: invalid value for connection parameter "hostaddr": could not parse network address " 127.0.0.1"`, name: "hostaddr"},
		{dsn: "hostaddr=[::1]", want: `pqssl: invalid value for connection parameter "hostaddr": could not parse network address "[::1]"`, name: "hostaddr"},
		{dsn: "hostaddr=127.0.0.256", want: `pqssl: invalid value for connection parameter "hostaddr": could not parse network address "127.0.0.256"`, name: "hostaddr"},
		{dsn: "hostaddr=08", want: `pqssl: invalid value for connection parameter "hostaddr": could not parse network address "08"`, name: "hostaddr"},
		{dsn: "hostaddr=0x", want: `pqssl: invalid value for connection parameter "hostaddr": could not parse network address "0x"`, name: "hostaddr"},
		{dsn: "hostaddr=1.2.65536", want: `pqssl: invalid value for connection parameter "hostaddr": could not parse network address "1.2.65536"`, name: "hostaddr"},
		{dsn: "hostaddr=::1%lo", want: `pqssl: invalid value for connection parameter "hostaddr": could not parse network address "::1%lo"`, name: "hostaddr"},
		{dsn: "hostaddr=fe80::1%nosuchif0", want: `pqssl: invalid value for connection parameter "hostaddr": could not parse network address "fe80::1%nosuchif0"`, name: "hostaddr"},

		// enumerations
		{dsn: "sslmode=verify-fulll", want: `pqssl: invalid value for connection parameter "sslmode": unknown sslmode "verify-fulll"`, name: "sslmode"},
		{dsn: "sslmode=''", want: `pqssl: invalid value for connection parameter "sslmode": unknown sslmode ""`, name: "sslmode"},
		{env: map[string]string{"PGSSLMODE": "bogus"}, want: `pqssl: invalid value for environment variable PGSSLMODE: unknown sslmode "bogus"`, name: "PGSSLMODE", source: sourceEnv},
		{dsn: "sslnegotiation=indirect", want: `pqssl: invalid value for connection parameter "sslnegotiation": unknown sslnegotiation "indirect"`, name: "sslnegotiation"},
		{dsn: "sslnegotiation=direct sslmode=prefer", want: `pqssl: invalid value for connection parameter "sslmode": weak sslmode "prefer" may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")`, name: "sslmode"},
		{dsn: "sslrootcert=system sslmode=require", want: `pqssl: invalid value for connection parameter "sslmode": weak sslmode "require" may not be used with sslrootcert=system (use "verify-full")`, name: "sslmode"},
		{dsn: "sslrootcert=system", env: map[string]string{"PGREQUIRESSL": "1"}, want: `pqssl: invalid value for environment variable PGREQUIRESSL: weak sslmode "require" may not be used with sslrootcert=system (use "verify-full")`, name: "PGREQUIRESSL", source: sourceEnv},
		{dsn: "sslcertmode=maybe", want: `pqssl: invalid value for connection parameter "sslcertmode": unknown sslcertmode "maybe"`, name: "sslcertmode"},
		{env: map[string]string{"PGCHANNELBINDING": "always"}, want: `pqssl: invalid value for environment variable PGCHANNELBINDING: unknown channel_binding "always"`, name: "PGCHANNELBINDING", source: sourceEnv},
		{dsn: "target_session_attrs=''", want: `pqssl: invalid value for connection parameter "target_session_attrs": unknown target_session_attrs ""`, name: "target_session_attrs"},
		{dsn: "load_balance_hosts=roundrobin", want: `pqssl: invalid value for connection parameter "load_balance_hosts": unknown load_balance_hosts "roundrobin"`, name: "load_balance_hosts"},
		{dsn: "gssencmode=maybe", want: `pqssl: invalid value for connection parameter "gssencmode": unknown gssencmode "maybe"`, name: "gssencmode"},
		{dsn: "ssl_min_protocol_version=TLSv1.4", want: `pqssl: invalid value for connection parameter "ssl_min_protocol_version": invalid "ssl_min_protocol_version" value: "TLSv1.4"`, name: "ssl_min_protocol_version"},
		{env: map[string]string{"PGSSLMAXPROTOCOLVERSION": "SSLv3"}, want: `pqssl: invalid value for environment variable PGSSLMAXPROTOCOLVERSION: invalid "ssl_max_protocol_version" value: "SSLv3"`, name: "PGSSLMAXPROTOCOLVERSION", source: sourceEnv},
		{dsn: "ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2", want: `pqssl: invalid value for connection parameter "ssl_min_protocol_version": invalid SSL protocol version range`, name: "ssl_min_protocol_version"},
		{dsn: "ssl_max_protocol_version=TLSv1.1", want: `pqssl: invalid value for connection parameter "ssl_max_protocol_version": invalid SSL protocol version range`, name: "ssl_max_protocol_version"},
		{dsn: "min_protocol_version=3.1", want: `pqssl: invalid value for connection parameter "min_protocol_version": unknown min_protocol_version "3.1"`, name: "min_protocol_version"},
		{dsn: "min_protocol_version=latest max_protocol_version=3.0", want: `pqssl: invalid value for connection parameter "min_protocol_version": "min_protocol_version" is greater than "max_protocol_version"`, name: "min_protocol_version"},

		// integers and booleans
		{dsn: "connect_timeout=x", want: `pqssl: invalid value for connection parameter "connect_timeout": invalid integer value "x" for connection option "connect_timeout"`, name: "connect_timeout"},
		{dsn: "connect_timeout=''", want: `pqssl: invalid value for connection parameter "connect_timeout": invalid integer value "" for connection option "connect_timeout"`, name: "connect_timeout"},
		{dsn: "connect_timeout=1.5", want: `pqssl: invalid value for connection parameter "connect_timeout": invalid integer value "1.5" for connection option "connect_timeout"`, name: "connect_timeout"},
		{env: map[string]string{"PGCONNECT_TIMEOUT": "soon"}, want: `pqssl: invalid value for environment variable PGCONNECT_TIMEOUT: invalid integer value "soon" for connection option "connect_timeout"`, name: "PGCONNECT_TIMEOUT", source: sourceEnv},
		{dsn: "keepalives=''", want: `pqssl: invalid value for connection parameter "keepalives": invalid integer value "" for connection option "keepalives"`, name: "keepalives"},
		{dsn: "keepalives_idle=x", want: `pqssl: invalid value for connection parameter "keepalives_idle": invalid integer value "x" for connection option "keepalives_idle"`, name: "keepalives_idle"},
		{dsn: "tcp_user_timeout=2147483648", want: `pqssl: invalid value for connection parameter "tcp_user_timeout": invalid integer value "2147483648" for connection option "tcp_user_timeout"`, name: "tcp_user_timeout"},
		{dsn: "binary_parameters=maybe", want: `pqssl: invalid value for connection parameter "binary_parameters": invalid boolean value "maybe"`, name: "binary_parameters"},
		{dsn: "sslinline=2", want: `pqssl: invalid value for connection parameter "sslinline": invalid boolean value "2"`, name: "sslinline"},

		// lib/pq's constraints
		{dsn: "client_encoding=LATIN1", want: `pqssl: invalid value for connection parameter "client_encoding": unsupported client_encoding "LATIN1": pqssl works only with UTF8`, name: "client_encoding"},
		{dsn: "Client_Encoding=SQL_ASCII", want: `pqssl: invalid value for connection parameter "client_encoding": unsupported client_encoding "SQL_ASCII": pqssl works only with UTF8`, name: "client_encoding"},
		{env: map[string]string{"PGCLIENTENCODING": "EUC_JP"}, want: `pqssl: invalid value for environment variable PGCLIENTENCODING: unsupported client_encoding "EUC_JP": pqssl works only with UTF8`, name: "PGCLIENTENCODING", source: sourceEnv},
		{env: map[string]string{"PGDATESTYLE": "German"}, want: `pqssl: invalid value for environment variable PGDATESTYLE: unsupported datestyle "German": pqssl works only with "ISO, MDY"`, name: "PGDATESTYLE", source: sourceEnv},

		// weakening keywords pqssl does not implement
		{dsn: "requirepeer=postgres", want: `pqssl: invalid value for connection parameter "requirepeer": pqssl does not support requirepeer`, name: "requirepeer"},
		{env: map[string]string{"PGREQUIREPEER": "postgres"}, want: `pqssl: invalid value for environment variable PGREQUIREPEER: pqssl does not support requirepeer`, name: "PGREQUIREPEER", source: sourceEnv},
		{dsn: "require_auth=scram-sha-256,Password", want: `pqssl: invalid value for connection parameter "require_auth": invalid require_auth value: "Password"`, name: "require_auth"},
		{env: map[string]string{"PGREQUIREAUTH": "!password,md5"}, want: `pqssl: invalid value for environment variable PGREQUIREAUTH: require_auth method "md5" cannot be mixed with negative methods`, name: "PGREQUIREAUTH", source: sourceEnv},
		{dsn: "require_auth=gss,sspi", want: `pqssl: invalid value for connection parameter "require_auth": require_auth "gss,sspi" allows only methods pqssl does not perform (gss, sspi, oauth)`, name: "require_auth"},
		{dsn: "gssencmode=require", want: `pqssl: invalid value for connection parameter "gssencmode": pqssl does not support GSSAPI encryption`, name: "gssencmode"},
		{env: map[string]string{"PGGSSENCMODE": "require"}, want: `pqssl: invalid value for environment variable PGGSSENCMODE: pqssl does not support GSSAPI encryption`, name: "PGGSSENCMODE", source: sourceEnv},
		{dsn: "replication=database", want: `pqssl: invalid value for connection parameter "replication": pqssl does not support replication connections`, name: "replication"},
		{dsn: "replication=TRUE", want: `pqssl: invalid value for connection parameter "replication": pqssl does not support replication connections`, name: "replication"},
		{dsn: "gssdelegation=1", want: `pqssl: invalid value for connection parameter "gssdelegation": pqssl does not support GSSAPI credential delegation`, name: "gssdelegation"},
		{env: map[string]string{"PGGSSDELEGATION": "1"}, want: `pqssl: invalid value for environment variable PGGSSDELEGATION: pqssl does not support GSSAPI credential delegation`, name: "PGGSSDELEGATION", source: sourceEnv},
		{dsn: "scram_client_key=c2VjcmV0", want: `pqssl: invalid value for connection parameter "scram_client_key": pqssl does not support scram_client_key`, name: "scram_client_key"},
		{dsn: "scram_server_key=c2VjcmV0", want: `pqssl: invalid value for connection parameter "scram_server_key": pqssl does not support scram_server_key`, name: "scram_server_key"},
		{dsn: "oauth_issuer=https://example.com", want: `pqssl: invalid value for connection parameter "oauth_issuer": pqssl does not support OAuth authentication`, name: "oauth_issuer"},
		{dsn: "postgresql://db?oauth_client_id=x", want: `pqssl: invalid value for connection parameter "oauth_client_id": pqssl does not support OAuth authentication`, name: "oauth_client_id"},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			_, err := parseConfig(tt.dsn, envOf(tt.env))
			if err == nil {
				t.Fatalf("parseConfig(%q) succeeded, want error %q", tt.dsn, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("parseConfig(%q) error:\n got %s\nwant %s", tt.dsn, err, tt.want)
			}
			var pe *ParameterError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParameterError", err)
			}
			source := tt.source
			if source == "" {
				source = sourceString
			}
			if pe.Name != tt.name || pe.Source != source {
				t.Errorf("ParameterError{Name: %q, Source: %q}, want {%q, %q}", pe.Name, pe.Source, tt.name, source)
			}
		})
	}
}

func TestParseConfigNoUser(t *testing.T) {
	fakeUser(t, "", "", errors.New("no passwd entry"))
	c, err := parseConfig("", envOf(map[string]string{"USER": "fromenv"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.user != "fromenv" || c.dbname != "fromenv" {
		t.Errorf("user, dbname = %q, %q; want fromenv from $USER", c.user, c.dbname)
	}
	_, err = parseConfig("host=x", envOf(nil))
	var pe *ParameterError
	if !errors.As(err, &pe) || pe.Name != "user" || pe.Source != sourceDefault {
		t.Errorf("with no user anywhere: err = %v, want a ParameterError for user", err)
	}
	if _, err := parseConfig("user=u", envOf(nil)); err != nil {
		t.Errorf("explicit user needs no lookup: %v", err)
	}
}

func TestParseConfigNoHome(t *testing.T) {
	fakeUser(t, "osuser", "", nil)
	c, err := parseConfig("", envOf(map[string]string{"HOME": ""}))
	if err != nil {
		t.Fatal(err)
	}
	want := defaultConfig(func(c *config) {
		c.passfile, c.sslcert, c.sslkey, c.sslrootcert, c.sslcrl = "", "", "", "", ""
	})
	if diff := cmp.Diff(want, c, cmpConfig); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestParseConfigLoadBalance(t *testing.T) {
	fakeUser(t, "osuser", "/home/osuser", nil)
	hosts := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	seen := make(map[string]bool)
	for range 50 {
		c, err := parseConfig("load_balance_hosts=random host="+strings.Join(hosts, ","), envOf(nil))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range c.hosts {
			got = append(got, h.host)
		}
		seen[strings.Join(got, ",")] = true
		slices.Sort(got)
		if !slices.Equal(got, hosts) {
			t.Fatalf("shuffled hosts %v are not a permutation of %v", got, hosts)
		}
	}
	if len(seen) < 2 {
		t.Errorf("load_balance_hosts=random never changed the order in 50 tries")
	}
}

// TestParseConfigSecrets checks that no error shows the value of password or
// sslpassword, wherever the value came from.
func TestParseConfigSecrets(t *testing.T) {
	fakeUser(t, "osuser", "/home/osuser", nil)
	const secret = "Zk7TopSecretVal"
	dir := t.TempDir()
	svc := filepath.Join(dir, "svc.conf")
	writeFile(t, svc, "[s]\npassword="+secret+"\nsslpassword="+secret+"\nsslmode=bogus\n")
	tests := []struct {
		dsn string
		env map[string]string
	}{
		{dsn: "password=" + secret + " sslmode=bogus"},
		{dsn: "sslpassword=" + secret + " sslmode=bogus"},
		{dsn: "password=" + secret + " extra"},
		{dsn: "sslpassword='" + secret + " x' y"},
		{dsn: "password=" + secret + "\\ more words"},
		{dsn: "sslpassword=" + secret + " more"},
		{dsn: "postgresql://u:" + secret + "@[::1"},
		{dsn: "postgresql://u:" + secret + "@[]"},
		{dsn: "postgresql://u:" + secret + "@[::1]x"},
		{dsn: "postgresql://u:" + secret + "%zz@db"},
		{dsn: "postgresql://u:" + secret + "%00@db"},
		{dsn: "postgresql://[::1?sslpassword=" + secret},
		{dsn: "postgresql://[::1?a=1&pass%77ord=" + secret + "&b=2"},
		{dsn: "postgresql://db?sslpassword=" + secret + "%zz"},
		{dsn: "postgresql://db?password=" + secret + "%00"},
		{dsn: "postgresql://db?sslpassword=" + secret + "&sslmode=bogus"},
		{dsn: "postgresql://u:" + secret + "@db:0"},
		{dsn: "scram_client_key=" + secret},
		{dsn: "oauth_client_secret=" + secret},
		{dsn: "service=s", env: map[string]string{"PGSERVICEFILE": svc}},
		{dsn: "sslmode=bogus", env: map[string]string{"PGPASSWORD": secret}},
	}
	for _, tt := range tests {
		_, err := parseConfig(tt.dsn, envOf(tt.env))
		if err == nil {
			t.Errorf("parseConfig(%q) succeeded, want an error", tt.dsn)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("parseConfig(%q) error shows the secret: %v", tt.dsn, err)
		}
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestParseConfigService(t *testing.T) {
	fakeUser(t, "osuser", "/home/osuser", nil)
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	sysconf := filepath.Join(dir, "etc")
	for _, d := range []string{home, sysconf} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	userFile := filepath.Join(home, ".pg_service.conf")
	writeFile(t, userFile, `# user services
[main]
host=svchost
  port=6000  
dbname=svcdb
user=
sslmode=verify-ca
sslmode=disable
binary_parameters=on
tz=UTC
[other]
host=otherhost
`)
	writeFile(t, filepath.Join(sysconf, "pg_service.conf"), `[main]
host=syshost
[sysonly]
host=syshost
[mainx]
this line is never read
`)
	explicitFile := filepath.Join(dir, "explicit.conf")
	writeFile(t, explicitFile, "[main]\nhost=explicithost\n")

	baseEnv := map[string]string{"HOME": home, "PGSYSCONFDIR": sysconf}
	withEnv := func(m map[string]string) map[string]string {
		e := make(map[string]string)
		for k, v := range baseEnv {
			e[k] = v
		}
		for k, v := range m {
			e[k] = v
		}
		return e
	}
	defaults := func(mod func(c *config)) func(c *config) {
		return func(c *config) {
			c.passfile = home + "/.pgpass"
			c.sslcert = home + "/.postgresql/postgresql.crt"
			c.sslkey = home + "/.postgresql/postgresql.key"
			c.sslrootcert = home + "/.postgresql/root.crt"
			c.sslcrl = home + "/.postgresql/root.crl"
			if mod != nil {
				mod(c)
			}
		}
	}
	mainSvc := func(c *config) {
		c.hosts = []hostSpec{{host: "svchost", port: 6000}}
		c.dbname = "svcdb"
		c.sslmode, c.sslmodeSet = "verify-ca", true // first definition in the file wins
		c.binaryParameters = true
		c.runtime = map[string]string{"timezone": "UTC"}
	}
	tests := []struct {
		name string
		dsn  string
		env  map[string]string
		want func(c *config)
	}{
		{name: "user file", dsn: "service=main", want: mainSvc},
		{name: "PGSERVICE", env: map[string]string{"PGSERVICE": "main"}, want: mainSvc},
		{name: "string beats service", dsn: "service=main host=strhost sslmode=require", want: func(c *config) {
			mainSvc(c)
			c.hosts[0].host = "strhost"
			c.sslmode = "require"
		}},
		{name: "service beats environment", dsn: "service=main",
			env: map[string]string{"PGHOST": "envhost", "PGSSLMODE": "allow", "PGUSER": "envuser", "PGAPPNAME": "envapp"},
			want: func(c *config) {
				mainSvc(c)
				c.applicationName = "envapp"
				// user= in the service file is an explicit empty value: it
				// hides PGUSER, and the default applies.
			}},
		{name: "system file when not in user file", dsn: "service=sysonly", want: func(c *config) {
			c.hosts = []hostSpec{{host: "syshost", port: 5432}}
		}},
		{name: "PGSERVICEFILE", dsn: "service=main", env: map[string]string{"PGSERVICEFILE": explicitFile}, want: func(c *config) {
			c.hosts = []hostSpec{{host: "explicithost", port: 5432}}
		}},
		{name: "servicefile keyword beats PGSERVICEFILE", dsn: "service=main servicefile=" + explicitFile,
			env: map[string]string{"PGSERVICEFILE": userFile}, want: func(c *config) {
				c.hosts = []hostSpec{{host: "explicithost", port: 5432}}
			}},
		{name: "no user file", dsn: "service=main", env: map[string]string{"HOME": sysconf}, want: func(c *config) {
			c.hosts = []hostSpec{{host: "syshost", port: 5432}}
			c.passfile = sysconf + "/.pgpass"
			c.sslcert = sysconf + "/.postgresql/postgresql.crt"
			c.sslkey = sysconf + "/.postgresql/postgresql.key"
			c.sslrootcert = sysconf + "/.postgresql/root.crt"
			c.sslcrl = sysconf + "/.postgresql/root.crl"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.dsn, envOf(withEnv(tt.env)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(defaultConfig(defaults(tt.want)), got, cmpConfig); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}

	bad := filepath.Join(dir, "bad.conf")
	writeFile(t, bad, `[spaces]
host = x
[nested]
service=main
[nestedfile]
servicefile=/x
[noeq]
host
[unknown]
requiressl=1
[runtime]
search_path=x
[badvalue]
sslmode=bogus
[quoted]
port='1'
[ldap]
ldap://ldap.example.com/dc=example?connstr?sub?(cn=x)
[nul]
host=a`+"\x00"+`junk=1
sslmode=verify-full
`)
	// libpq checks the length of every line, in or out of the wanted section.
	long := filepath.Join(dir, "long.conf")
	writeFile(t, long, "[t]\nhost="+strings.Repeat("x", 1017)+"\n[s]\nhost=x\n")
	longOK := filepath.Join(dir, "longok.conf")
	writeFile(t, longOK, "[s]\nhost="+strings.Repeat("x", 1016)+"\n")
	unreadable := filepath.Join(dir, "unreadable.conf")
	writeFile(t, unreadable, "[s]\n")
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	errTests := []struct {
		dsn    string
		env    map[string]string
		want   string
		name   string
		source string
	}{
		{dsn: "service=spaces", want: `pqssl: syntax error in service file "` + bad + `", line 2`, source: "service file " + bad},
		{dsn: "service=nested", want: `pqssl: nested service specifications not supported in service file "` + bad + `", line 4`, source: "service file " + bad},
		{dsn: "service=nestedfile", want: `pqssl: nested "servicefile" specifications not supported in service file "` + bad + `", line 6`, source: "service file " + bad},
		{dsn: "service=noeq", want: `pqssl: syntax error in service file "` + bad + `", line 8`, source: "service file " + bad},
		{dsn: "service=unknown", want: `pqssl: syntax error in service file "` + bad + `", line 10`, source: "service file " + bad},
		{dsn: "service=runtime", want: `pqssl: syntax error in service file "` + bad + `", line 12`, source: "service file " + bad},
		{dsn: "service=badvalue", want: `pqssl: invalid value for connection parameter "sslmode" in service file ` + bad + `: unknown sslmode "bogus"`, name: "sslmode", source: "service file " + bad},
		{dsn: "service=quoted", want: `pqssl: invalid value for connection parameter "port" in service file ` + bad + `: invalid integer value "'1'" for connection option "port"`, name: "port", source: "service file " + bad},
		{dsn: "service=ldap", want: `pqssl: LDAP lookups are not supported (service file "` + bad + `", line 18)`, source: "service file " + bad},
		{dsn: "service=s", env: map[string]string{"PGSERVICEFILE": long}, want: `pqssl: line 2 too long in service file "` + long + `"`, source: "service file " + long},
		{dsn: "service=missing", want: `pqssl: invalid value for connection parameter "service": definition of service "missing" not found`, name: "service"},
		{dsn: "", env: map[string]string{"PGSERVICE": "missing"}, want: `pqssl: invalid value for environment variable PGSERVICE: definition of service "missing" not found`, name: "PGSERVICE", source: sourceEnv},
		{dsn: "service=''", want: `pqssl: invalid value for connection parameter "service": definition of service "" not found`, name: "service"},
		{dsn: "service=main", env: map[string]string{"PGSERVICEFILE": filepath.Join(dir, "nonexistent")},
			want: `pqssl: invalid value for environment variable PGSERVICEFILE: service file "` + filepath.Join(dir, "nonexistent") + `" not found`, name: "PGSERVICEFILE", source: sourceEnv},
		{dsn: "service=main servicefile=" + filepath.Join(dir, "nonexistent"),
			want: `pqssl: invalid value for connection parameter "servicefile": service file "` + filepath.Join(dir, "nonexistent") + `" not found`, name: "servicefile"},
	}
	for _, tt := range errTests {
		t.Run(tt.dsn, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = map[string]string{"PGSERVICEFILE": bad}
			}
			_, err := parseConfig(tt.dsn, envOf(withEnv(env)))
			if err == nil {
				t.Fatalf("succeeded, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
			var pe *ParameterError
			if !errors.As(err, &pe) {
				t.Fatalf("%v is not a *ParameterError", err)
			}
			source := tt.source
			if source == "" {
				source = sourceString
			}
			if pe.Name != tt.name || pe.Source != source {
				t.Errorf("ParameterError{Name: %q, Source: %q}, want {%q, %q}", pe.Name, pe.Source, tt.name, source)
			}
		})
	}

	t.Run("NUL ends the line", func(t *testing.T) {
		c, err := parseConfig("service=nul", envOf(withEnv(map[string]string{"PGSERVICEFILE": bad})))
		if err != nil {
			t.Fatal(err)
		}
		if c.hosts[0].host != "a" || c.sslmode != "verify-full" {
			t.Errorf("host %q sslmode %q, want a and verify-full", c.hosts[0].host, c.sslmode)
		}
	})
	t.Run("1022-byte line", func(t *testing.T) {
		if _, err := parseConfig("service=s", envOf(withEnv(map[string]string{"PGSERVICEFILE": longOK}))); err != nil {
			t.Error(err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root can read any file")
		}
		_, err := parseConfig("service=s", envOf(withEnv(map[string]string{"PGSERVICEFILE": unreadable})))
		if err == nil || !strings.Contains(err.Error(), unreadable) {
			t.Errorf("err = %v, want an error naming %s", err, unreadable)
		}
	})
	t.Run("directory", func(t *testing.T) {
		_, err := parseConfig("service=other", envOf(withEnv(map[string]string{"PGSERVICEFILE": dir})))
		if err == nil || !strings.Contains(err.Error(), `definition of service "other" not found`) {
			t.Errorf("err = %v; a directory reads as an empty file, as with libpq", err)
		}
	})
}

// TestParseConfigLibpqVerdict checks that libpq (through psql) and
// parseConfig agree on whether connection strings are acceptable. psql is
// pointed at a closed local port, so a string libpq accepts fails with
// "Connection refused" and any other failure is a rejection.
func TestParseConfigLibpqVerdict(t *testing.T) {
	// The harness's psql is the real binary, not Debian's wrapper, which
	// sets PGHOST and friends by itself.
	psql := pgtest.Require(t).Psql
	psql18 := ""
	if b := pgtest.OptionalInstallation(t, 18); b != nil {
		psql18 = b.Psql
	}
	fakeUser(t, "osuser", "/home/osuser", nil)
	dir := t.TempDir()
	svcFile := filepath.Join(dir, "svc.conf")
	writeFile(t, svcFile, `[ok]
host=127.0.0.1
port=1
[badmode]
sslmode=bogus
[spaces]
port = 1
[nested]
service=ok
[unknown]
search_path=x
[requiressl]
requiressl=1
`)
	const closed = " host=127.0.0.1 port=1"
	tests := []struct {
		dsn string
		env map[string]string
		// same18: libpq 18 agrees with pqssl where libpq 15 differs.
		same18 bool
		// differs, when set, explains a deliberate difference: libpq's
		// verdict is then expected to be the opposite of pqssl's.
		differs string
	}{
		{dsn: "host=127.0.0.1 port=1"},
		{dsn: "host = 127.0.0.1\tport =\n1"},
		{dsn: "host='127.0.0.1' port='1'"},
		{dsn: "host='127.0.0.1'port=1"},
		{dsn: `host=127.0.0.\1 port=\1`},
		{dsn: "host='127.0.0.1 port=1"},
		{dsn: "host=127.0.0.1 port=1 bogus"},
		{dsn: "host=127.0.0.1 port=1 =x"},
		{dsn: "host=127.0.0.1 port=1 sslmode=bogus"},
		{dsn: "host=127.0.0.1 port=1 sslmode="},
		{dsn: "host=127.0.0.1 port=1 sslmode=verify-ca sslmode=disable"},
		{dsn: "host=127.0.0.1 port=1 requiressl=1"},
		{dsn: "host=127.0.0.1 port=1 requiressl=x"},
		{dsn: "host=127.0.0.1 port=0"},
		{dsn: "host=127.0.0.1 port=65536"},
		{dsn: "host=127.0.0.1 port=x"},
		{dsn: "host=127.0.0.1 port=' +1 '"},
		{dsn: "host=127.0.0.1 port=1.0"},
		{dsn: "host=127.0.0.1,127.0.0.1 port=1,1"},
		{dsn: "host=127.0.0.1,127.0.0.1 port=1,1,1"},
		{dsn: "hostaddr=127.0.0.1 port=1"},
		{dsn: "hostaddr=127.1 port=1"},
		{dsn: "hostaddr=0x7f.1 port=1"},
		{dsn: "hostaddr=017700000001 port=1"},
		{dsn: "hostaddr=2130706433 port=1"},
		{dsn: "hostaddr=::ffff:127.0.0.1 port=1"},
		{dsn: "hostaddr=::1%1 port=1"},
		{dsn: "hostaddr=::1%lo port=1"},
		{dsn: "hostaddr=localhost port=1"},
		{dsn: "hostaddr=127.0.0.256 port=1"},
		{dsn: "hostaddr=1..2 port=1"},
		{dsn: "hostaddr=08 port=1"},
		{dsn: "hostaddr=0x port=1"},
		{dsn: "hostaddr=127.0.0.1, port=1"},
		{dsn: "hostaddr=127.0.0.1,127.0.0.1 host=a port=1"},
		{dsn: "hostaddr=127.0.0.1 host=a,b port=1"},
		{dsn: "hostaddr=127.0.0.1 host=/tmp port=1"},
		{dsn: "connect_timeout=x" + closed},
		{dsn: "connect_timeout=' 3 '" + closed},
		{dsn: "connect_timeout=-1" + closed},
		{dsn: "connect_timeout=99999999999" + closed},
		{dsn: "keepalives=x" + closed},
		{dsn: "keepalives=0 keepalives_idle=5 keepalives_interval=5 keepalives_count=5 tcp_user_timeout=5" + closed},
		{dsn: "keepalives_count=x" + closed},
		{dsn: "tcp_user_timeout=1x" + closed},
		{dsn: "ssl_min_protocol_version=tlsv1.3" + closed},
		{dsn: "ssl_min_protocol_version=TLSv1.4" + closed},
		{dsn: "ssl_max_protocol_version=TLSv1.1" + closed},
		{dsn: "ssl_min_protocol_version='' ssl_max_protocol_version=TLSv1.1" + closed},
		{dsn: "ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2" + closed},
		{dsn: "ssl_min_protocol_version=TLSv1 ssl_max_protocol_version=TLSv1" + closed},
		{dsn: "channel_binding=require" + closed},
		{dsn: "channel_binding=always" + closed},
		{dsn: "target_session_attrs=standby" + closed},
		{dsn: "target_session_attrs=any-thing" + closed},
		{dsn: "gssencmode=prefer" + closed},
		{dsn: "gssencmode=maybe" + closed},
		{dsn: "sslsni=0 sslcompression=1 gsslib=gssapi krbsrvname=x" + closed},
		{dsn: "sslcert=/nonexistent sslkey=/nonexistent sslrootcert=/nonexistent sslcrl=/x sslcrldir=/y sslpassword=p" + closed},
		{dsn: "user=u password=p dbname=d options='-c x=y' application_name=a fallback_application_name=b client_encoding=UTF8 passfile=/x" + closed},
		{dsn: "host=127.0.0.1 port=1", env: map[string]string{"PGSSLMODE": "bogus"}},
		{dsn: "host=127.0.0.1 port=1", env: map[string]string{"PGREQUIRESSL": "1", "PGSSLCOMPRESSION": "x"}},
		{dsn: "host=127.0.0.1", env: map[string]string{"PGPORT": "x"}},
		{dsn: "host=127.0.0.1", env: map[string]string{"PGPORT": "1"}},
		{dsn: "port=1", env: map[string]string{"PGHOST": "127.0.0.1", "PGSSLMINPROTOCOLVERSION": "TLSv1.2"}},
		{dsn: "port=1", env: map[string]string{"PGHOSTADDR": "127.0.0.1", "PGTARGETSESSIONATTRS": "primary"}},
		{dsn: "service=ok", env: map[string]string{"PGSERVICEFILE": svcFile}},
		{dsn: "service=ok sslmode=verify-ca", env: map[string]string{"PGSERVICEFILE": svcFile}},
		{dsn: "service=badmode" + closed, env: map[string]string{"PGSERVICEFILE": svcFile}},
		{dsn: "service=badmode sslmode=require" + closed, env: map[string]string{"PGSERVICEFILE": svcFile}},
		{dsn: "service=spaces" + closed, env: map[string]string{"PGSERVICEFILE": svcFile}},
		{dsn: "service=nested" + closed, env: map[string]string{"PGSERVICEFILE": svcFile}},
		{dsn: "service=unknown" + closed, env: map[string]string{"PGSERVICEFILE": svcFile}},
		{dsn: "service=requiressl" + closed, env: map[string]string{"PGSERVICEFILE": svcFile}},
		{dsn: "service=nope" + closed, env: map[string]string{"PGSERVICEFILE": svcFile}},
		{dsn: "service=ok", env: map[string]string{"PGSERVICEFILE": filepath.Join(dir, "missing.conf")}},
		{dsn: "port=1", env: map[string]string{"PGSERVICEFILE": svcFile, "PGSERVICE": "ok"}},
		{dsn: "postgresql://127.0.0.1:1"},
		{dsn: "postgres://u:p@127.0.0.1:1/db?sslmode=disable&application_name=x%20y"},
		{dsn: "postgresql://127.0.0.1:1?sslmode=bogus"},
		{dsn: "postgresql://127.0.0.1:1?ssl=true"},
		{dsn: "postgresql://127.0.0.1:1?requiressl=1"},
		{dsn: "postgresql://127.0.0.1:1?sslmode"},
		{dsn: "postgresql://127.0.0.1:1?sslmode=a=b"},
		{dsn: "postgresql://127.0.0.1:1?&"},
		{dsn: "postgresql://127.0.0.1:1?"},
		{dsn: "postgresql://127.0.0.1:1?sslmode=require&"},
		{dsn: "postgresql://127.0.0.1:1?=x"},
		{dsn: "postgresql://[::1"},
		{dsn: "postgresql://[]:1"},
		{dsn: "postgresql://[::1]x"},
		{dsn: "postgresql://[::1]:1"},
		{dsn: "postgresql://u:p%zz@127.0.0.1:1"},
		{dsn: "postgresql://u%00@127.0.0.1:1"},
		{dsn: "postgresql://127.0.0.1:%31"},
		{dsn: "postgresql://127.0.0.1:%3"},
		{dsn: "postgresql://127.0.0.1%2C127.0.0.1:1"},
		{dsn: "postgresql://127.0.0.1:1,127.0.0.1:1/db"},
		{dsn: "postgresql://127.0.0.1:1,127.0.0.1:x",
			differs: "libpq 15 checks each port only when it reaches that host; pqssl checks all of them first"},
		{dsn: "host=127.0.0.1,127.0.0.1 port=1,0",
			differs: "libpq 15 checks each port only when it reaches that host; pqssl checks all of them first"},
		{dsn: "host=127.0.0.1,127.0.0.1 hostaddr=127.0.0.1,localhost port=1",
			differs: "libpq 15 checks each hostaddr only when it reaches that host; pqssl checks all of them first"},
		{dsn: "host=127.0.0.1 port=1 search_path=public",
			differs: "unknown keywords are run-time parameters (lib/pq's convention), not errors"},
		{dsn: "postgresql://127.0.0.1:1?search_path=public",
			differs: "unknown keywords are run-time parameters (lib/pq's convention), not errors"},
		{dsn: "postgresql://127.0.0.1:1?ssl=false",
			differs: "unknown keywords are run-time parameters (lib/pq's convention), not errors"},
		{dsn: "host=127.0.0.1 port=1", env: map[string]string{"PGSSLMODE": ""},
			differs: "an empty environment variable counts as unset; libpq 15 takes the empty value"},
		{dsn: "host=127.0.0.1 port=1", env: map[string]string{"PGSERVICE": ""},
			differs: "an empty environment variable counts as unset; libpq 15 takes the empty value"},
		{dsn: "host=127.0.0.1 port=1 replication=database", differs: "pqssl refuses replication connections"},
		{dsn: "host=127.0.0.1 port=1 requirepeer=postgres", differs: "pqssl refuses requirepeer, which it cannot enforce"},
		// The libpq 18 build of the test machines has no GSSAPI either.
		{dsn: "host=127.0.0.1 port=1 gssencmode=require", differs: "pqssl has no GSSAPI encryption", same18: true},
		{dsn: "host=127.0.0.1 port=1 client_encoding=LATIN1", differs: "lib/pq works only with UTF8"},
		{dsn: "host=127.0.0.1 port=1 sslrootcert=system sslmode=require",
			differs: "sslrootcert=system is PostgreSQL 16's; libpq 15 takes it for a file name", same18: true},
		{dsn: "host=127.0.0.1 port=1 sslcertmode=allow load_balance_hosts=random",
			differs: "keywords added after PostgreSQL 15 are unknown to libpq 15", same18: true},
		{dsn: "host=127.0.0.1 port=1 sslnegotiation=postgres", differs: "keywords added after PostgreSQL 15 are unknown to libpq 15", same18: true},
		{dsn: "host=127.0.0.1 port=1 require_auth=scram-sha-256,none", differs: "require_auth is PostgreSQL 16's", same18: true},
		{dsn: "host=127.0.0.1 port=1 require_auth=!md5,password"},
		{dsn: "host=127.0.0.1 port=1 sslnegotiation=direct sslmode=prefer"},
		{dsn: "host=127.0.0.1 port=1 sslkeylogfile=/dev/null", differs: "sslkeylogfile is PostgreSQL 18's", same18: true},
		{dsn: "host=127.0.0.1 port=1 min_protocol_version=3.2", differs: "min_protocol_version is PostgreSQL 18's", same18: true},
		{dsn: "host=127.0.0.1 port=1 min_protocol_version=3.1"},
		{dsn: "host=127.0.0.1 port=1 binary_parameters=on", differs: "lib/pq's extensions are unknown to libpq"},
		{dsn: "host=127.0.0.1 port=1 password=a b"},
		{dsn: "postgresql://[::1]:1,127.0.0.1:1"},
		{dsn: "postgresql://127.0.0.1:1/?port=1"},
		{dsn: "postgresql:///?host=127.0.0.1&port=1"},
		{dsn: "postgresql://:1?host=127.0.0.1"},
		{dsn: "postgresql://127.0.0.1:1?applica%74ion_name=x"},
		{dsn: "postgresql://127.0.0.1:1?application_name=%4"},
		{dsn: "postgresql://127.0.0.1:x"},
		{dsn: "postgresql://u@127.0.0.1:1?dbname=%00"},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			env := []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "PGCONNECT_TIMEOUT=1", "PGSYSCONFDIR=" + dir, "LC_ALL=C"}
			for k, v := range tt.env {
				env = append(env, k+"="+v)
			}
			accepts := func(psql string) (bool, string) {
				cmd := exec.Command(psql, "-X", "-w", "-d", tt.dsn, "-c", "select 1")
				cmd.Env = env
				out, _ := cmd.CombinedOutput()
				return strings.Contains(string(out), "Connection refused"), strings.TrimSpace(string(out))
			}
			libpqOK, out := accepts(psql)
			_, err := parseConfig(tt.dsn, envOf(tt.env))
			if psql18 != "" {
				ok18, out18 := accepts(psql18)
				if agree := (err == nil) == ok18; agree != (tt.differs == "" || tt.same18) {
					t.Errorf("libpq 18 accepts: %v (psql said %q); parseConfig error: %v; same verdict expected: %v",
						ok18, out18, err, tt.differs == "" || tt.same18)
				}
			}
			if tt.differs != "" {
				if (err == nil) == libpqOK {
					t.Errorf("expected a deliberate difference (%s), but libpq and pqssl agree (libpq accepts: %v)", tt.differs, libpqOK)
				}
				return
			}
			if (err == nil) != libpqOK {
				t.Errorf("libpq accepts: %v (psql said %q); parseConfig error: %v", libpqOK, out, err)
			}
		})
	}
}
