package pqssl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestConfigView(t *testing.T) {
	home := t.TempDir()
	svc := filepath.Join(home, "pg_service.conf")
	if err := os.WriteFile(svc, []byte("[app]\nsslmode=verify-full\ndbname=svcdb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type want struct {
		keyword, value, source, variable string
	}
	tests := []struct {
		name   string
		dsn    string
		env    map[string]string
		check  func(t *testing.T, c *Config)
		params []want
	}{{
		name: "hosts, environment and defaults",
		dsn:  "host=db1,db2 hostaddr=127.0.0.1,127.0.0.2 port=5433 password=hunter2 sslpassword=keypass2 sslmode=verify-ca",
		env:  map[string]string{"PGUSER": "envuser", "PGSSLROOTCERT": "/etc/app/root.crt", "PGREQUIREAUTH": "!password,!none"},
		check: func(t *testing.T, c *Config) {
			wantHosts := []HostConfig{{"db1", "127.0.0.1", 5433}, {"db2", "127.0.0.2", 5433}}
			if !reflect.DeepEqual(c.Hosts, wantHosts) {
				t.Errorf("Hosts = %v, want %v", c.Hosts, wantHosts)
			}
			if c.User != "envuser" || c.Database != "envuser" || c.SSLMode != "verify-ca" {
				t.Errorf("user %q database %q sslmode %q", c.User, c.Database, c.SSLMode)
			}
			if c.SSLRootCert != "/etc/app/root.crt" || c.SSLCert != filepath.Join(home, ".postgresql", "postgresql.crt") ||
				c.SSLCRL != filepath.Join(home, ".postgresql", "root.crl") || c.SSLCRLDir != "" {
				t.Errorf("files: root %q cert %q crl %q crldir %q", c.SSLRootCert, c.SSLCert, c.SSLCRL, c.SSLCRLDir)
			}
			if c.RequireAuth != "!password,!none" {
				t.Errorf("RequireAuth %q", c.RequireAuth)
			}
			if !c.PasswordSet || !c.SSLPasswordSet {
				t.Errorf("PasswordSet %v SSLPasswordSet %v, want both", c.PasswordSet, c.SSLPasswordSet)
			}
		},
		params: []want{
			{"user", "envuser", SourceEnvironment, "PGUSER"},
			{"sslrootcert", "/etc/app/root.crt", SourceEnvironment, "PGSSLROOTCERT"},
			{"sslmode", "verify-ca", SourceConnString, ""},
			{"password", "set", SourceConnString, ""},
			{"sslpassword", "set", SourceConnString, ""},
			{"sslcert", "", SourceDefault, ""},
			{"require_auth", "!password,!none", SourceEnvironment, "PGREQUIREAUTH"},
		},
	}, {
		name: "service file",
		dsn:  "service=app user=u",
		env:  map[string]string{"PGSERVICEFILE": svc},
		check: func(t *testing.T, c *Config) {
			if c.SSLMode != "verify-full" || c.Database != "svcdb" {
				t.Errorf("sslmode %q database %q, want the service file's", c.SSLMode, c.Database)
			}
		},
		params: []want{
			{"sslmode", "verify-full", "service file " + svc, ""},
			{"dbname", "svcdb", "service file " + svc, ""},
			{"service", "app", SourceConnString, ""},
		},
	}, {
		name: "pqssl's default sslmode",
		dsn:  "user=u",
		check: func(t *testing.T, c *Config) {
			if c.SSLMode != "require" || len(c.Hosts) != 1 || c.Hosts[0] != (HostConfig{"localhost", "", 5432}) {
				t.Errorf("sslmode %q hosts %v, want require on localhost:5432", c.SSLMode, c.Hosts)
			}
		},
		params: []want{{"sslmode", "", SourceDefault, ""}},
	}, {
		name: "sslrootcert=system raises the default",
		dsn:  "postgresql://u@db.example/app?sslrootcert=system",
		check: func(t *testing.T, c *Config) {
			if c.SSLMode != "verify-full" || c.SSLRootCert != "system" {
				t.Errorf("sslmode %q sslrootcert %q", c.SSLMode, c.SSLRootCert)
			}
		},
	}, {
		name: "inline PEM is not shown",
		dsn:  "user=u sslinline=1 sslkey='-----BEGIN PRIVATE KEY-----\nMIIsecret\n-----END PRIVATE KEY-----'",
		check: func(t *testing.T, c *Config) {
			if c.SSLKey != "inline" {
				t.Errorf("SSLKey = %q, want inline", c.SSLKey)
			}
		},
		params: []want{{"sslkey", "set", SourceConnString, ""}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			for _, k := range []string{"PGUSER", "PGSSLROOTCERT", "PGSERVICEFILE", "PGSERVICE", "PGSSLMODE", "PGHOST", "PGDATABASE", "PGPASSWORD"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := ParseConfig(tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
			for _, w := range tt.params {
				p, ok := c.Param(w.keyword)
				if !ok || p.Value != w.value || p.Source != w.source || p.Variable != w.variable {
					t.Errorf("Param(%q) = %+v, want %+v", w.keyword, p, w)
				}
			}
			for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
				out := fmt.Sprintf(format, c) + fmt.Sprintf(format, *c)
				for _, secret := range []string{"hunter2", "keypass2", "MIIsecret"} {
					if strings.Contains(out, secret) {
						t.Errorf("%s of the Config shows a secret: %s", format, out)
					}
				}
			}
			conn, err := NewConnector(tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			if got := conn.Config(); !reflect.DeepEqual(got, c) {
				t.Errorf("Connector.Config() = %v\nParseConfig = %v", got, c)
			}
		})
	}
}

// TestParseConfigErrors: ParseConfig fails where NewConnector does, with the
// same error.
func TestConfigViewErrors(t *testing.T) {
	for _, dsn := range []string{
		"sslmode=verify-none",
		"host=a,b port=1,2,3",
		"postgresql://[::1",
		"sslnegotiation=direct sslmode=prefer",
	} {
		_, perr := ParseConfig(dsn)
		_, cerr := NewConnector(dsn)
		if perr == nil || cerr == nil || perr.Error() != cerr.Error() {
			t.Errorf("%q: ParseConfig: %v; NewConnector: %v", dsn, perr, cerr)
		}
		var pe *ParameterError
		if strings.HasPrefix(dsn, "ssl") && !errors.As(perr, &pe) {
			t.Errorf("%q: %v (%T), want a *ParameterError", dsn, perr, perr)
		}
	}
}
