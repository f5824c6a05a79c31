package pqssl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPgpassRealServer logs in with the password only in a password file,
// through pqssl and psql.
func TestPgpassRealServer(t *testing.T) {
	c := cbCluster(t)
	referee := haveCBPsql(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	// No PGPASSFILE unless a case sets one (t.Setenv restores it after).
	t.Setenv("PGPASSFILE", "")
	os.Unsetenv("PGPASSFILE")

	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	port := c.Port
	entries := "# pqssl test\n" +
		fmt.Sprintf("127.0.0.1:%d:*:%s:%s\n", port+1, cbUser, "wrong-port-entry") +
		fmt.Sprintf("127.0.0.1:%d:postgres:%s:%s\n", port, cbUser, cbPassword) +
		fmt.Sprintf("*:*:*:%s:%s\n", cbMD5User, cbMD5Secret)
	good := write("pgpass", entries, 0o600)
	open := write("pgpass-open", entries, 0o644)
	other := write("pgpass-other", fmt.Sprintf("127.0.0.1:%d:postgres:someone:x\n", port), 0o600)
	if err := os.WriteFile(filepath.Join(home, ".pgpass"), []byte(entries), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		hba    string
		params string
		env    map[string]string
		want   string // "" for success, else a substring of both errors
	}{
		{"passfile parameter", "scram-sha-256", "user=cb_scram passfile=" + good + " channel_binding=require", nil, ""},
		{"PGPASSFILE", "scram-sha-256", "user=cb_scram channel_binding=require", map[string]string{"PGPASSFILE": good}, ""},
		// An empty PGPASSFILE is no PGPASSFILE to libpq; pqssl sees none.
		{"~/.pgpass", "scram-sha-256", "user=cb_scram channel_binding=require", map[string]string{"HOME": home, "PGPASSFILE": ""}, ""},
		{"md5 with the password file", "md5", "user=cb_md5 passfile=" + good, nil, ""},
		{"file readable by others", "scram-sha-256", "user=cb_scram passfile=" + open, nil, "fe_sendauth: no password supplied"},
		{"no matching entry", "scram-sha-256", "user=cb_scram passfile=" + other, nil, "fe_sendauth: no password supplied"},
		{"password parameter wins", "scram-sha-256", "user=cb_scram password=wrong passfile=" + good, nil, "password authentication failed"},
	}
	current := ""
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.hba != current {
				if err := c.SetHBA("hostssl all all 127.0.0.1/32 " + tt.hba); err != nil {
					t.Fatal(err)
				}
				current = tt.hba
			}
			for k, v := range tt.env {
				if v != "" {
					t.Setenv(k, v)
				}
			}
			conninfo := c.ConnInfo("sslmode=require " + tt.params)
			err := cbConnect(t, conninfo)
			if tt.want == "" && err != nil {
				t.Errorf("pqssl: %v", err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("pqssl: %v, want an error containing %q", err, tt.want)
			}
			if tt.want == "fe_sendauth: no password supplied" && !errors.Is(err, ErrNoPassword) {
				t.Errorf("pqssl error %v is not ErrNoPassword", err)
			}
			if !referee {
				return
			}
			env := map[string]string{"HOME": t.TempDir()}
			for k, v := range tt.env {
				env[k] = v
			}
			ok, msg := cbPsql(t, conninfo, env)
			if ok != (tt.want == "") || !strings.Contains(msg, tt.want) {
				t.Errorf("psql: ok %v, %q; want ok %v, message containing %q", ok, msg, tt.want == "", tt.want)
			}
		})
	}
}
