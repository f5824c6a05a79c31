package pqssl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestLookupPgpass(t *testing.T) {
	const (
		host = "db.example.com"
		port = "5432"
		db   = "app"
		user = "alice"
	)
	tests := []struct {
		name   string
		file   string
		want   string
		wantOK bool
	}{
		{"exact", "db.example.com:5432:app:alice:s3cret\n", "s3cret", true},
		{"no trailing newline", "db.example.com:5432:app:alice:s3cret", "s3cret", true},
		{"CRLF", "db.example.com:5432:app:alice:s3cret\r\n", "s3cret", true},
		{"wildcards", "*:*:*:*:any\n", "any", true},
		{"wildcard host only", "*:5432:app:alice:pw\n", "pw", true},
		{"first match wins", "*:*:*:alice:first\n*:*:*:*:second\n", "first", true},
		{"earlier lines skipped", "other:5432:app:alice:x\ndb.example.com:5433:app:alice:y\ndb.example.com:5432:app:alice:z\n", "z", true},
		{"wrong user", "db.example.com:5432:app:bob:pw\n", "", false},
		{"wrong port", "db.example.com:5433:app:alice:pw\n", "", false},
		{"wrong database", "db.example.com:5432:other:alice:pw\n", "", false},
		{"case matters", "DB.example.com:5432:app:alice:pw\n", "", false},
		{"comment", "#db.example.com:5432:app:alice:pw\n", "", false},
		{"comment then entry", "# hosts\n*:*:*:*:pw\n", "pw", true},
		{"indented hash is not a comment", " #x:*:*:*:pw\n*:*:*:*:pw2\n", "pw2", true},
		{"blank lines", "\n\r\n*:*:*:*:pw\n", "pw", true},
		{"too few fields", "db.example.com:5432:app:alice\n", "", false},
		{"empty password", "*:*:*:*:\n", "", true},
		{"escaped colon in password", `*:*:*:*:a\:b` + "\n", "a:b", true},
		{"escaped backslash in password", `*:*:*:*:a\\b` + "\n", `a\b`, true},
		{"trailing backslash kept", `*:*:*:*:ab\` + "\n", `ab\`, true},
		{"password ends at unescaped colon", "*:*:*:*:pw:extra:fields\n", "pw", true},
		{"escaped colon in field", `db.example.com:5432:app:ali\:ce:pw` + "\n", "", false},
		{"escaped character in field", `db.example.com:5432:a\pp:alice:pw` + "\n", "pw", true},
		{"escaped star is literal", `\*:*:*:*:pw` + "\n", "", false},
		{"star prefix is not a wildcard", "*db.example.com:*:*:*:pw\n", "", false},
		{"partial field", "db:5432:app:alice:pw\n", "", false},
		{"longer field", "db.example.com.:5432:app:alice:pw\n", "", false},
		{"spaces are significant", " db.example.com:5432:app:alice:pw\n", "", false},
		{"empty field", ":5432:app:alice:pw\n", "", false},
		{"NUL ends the line", "*:*:*:*:pw\x00rest\n", "pw", true},
		{"password with spaces", "*:*:*:*: a b \n", " a b ", true},
		{"UTF-8 password", "*:*:*:*:pässwörd\n", "pässwörd", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := lookupPgpass(strings.NewReader(tt.file), host, port, db, user)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("lookupPgpass(%q) = %q, %v; want %q, %v", tt.file, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestPgpassHost(t *testing.T) {
	tests := []struct {
		h    hostSpec
		want string
	}{
		{hostSpec{host: "db.example.com", port: 5432}, "db.example.com"},
		{hostSpec{host: "db.example.com", hostaddr: "10.0.0.1"}, "db.example.com"},
		{hostSpec{hostaddr: "10.0.0.1"}, "10.0.0.1"},
		{hostSpec{host: "localhost"}, "localhost"},
		// Only libpq's default socket directory stands for localhost.
		{hostSpec{host: "/var/run/postgresql"}, "localhost"},
		{hostSpec{host: "/tmp"}, "/tmp"},
		{hostSpec{host: "/var/run/postgresql/"}, "/var/run/postgresql/"},
		{hostSpec{}, "localhost"},
	}
	for _, tt := range tests {
		if got := pgpassHost(tt.h); got != tt.want {
			t.Errorf("pgpassHost(%+v) = %q, want %q", tt.h, got, tt.want)
		}
	}
	if got := pgpassPort(hostSpec{port: 6543}); got != "6543" {
		t.Errorf("pgpassPort = %q, want 6543", got)
	}
	if got := pgpassPort(hostSpec{}); got != "5432" {
		t.Errorf("pgpassPort of no port = %q, want 5432", got)
	}
}

func TestPasswordFromFile(t *testing.T) {
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
	const entries = "db:5432:app:alice:alicepw\nlocalhost:5432:app:alice:socketpw\n10.0.0.7:5432:app:alice:addrpw\n"
	good := write("good", entries, 0o600)
	readonly := write("readonly", entries, 0o400)
	groupRead := write("group", entries, 0o640)
	worldRead := write("world", entries, 0o604)
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}

	db := hostSpec{host: "db", port: 5432}
	tests := []struct {
		name     string
		path     string
		h        hostSpec
		dbname   string
		user     string
		want     string
		wantOK   bool
		unixOnly bool
	}{
		{"match", good, db, "app", "alice", "alicepw", true, false},
		{"read-only file", readonly, db, "app", "alice", "alicepw", true, false},
		{"symlink to a good file", link, db, "app", "alice", "alicepw", true, false},
		{"group access ignored", groupRead, db, "app", "alice", "", false, true},
		{"world access ignored", worldRead, db, "app", "alice", "", false, true},
		{"missing file", filepath.Join(dir, "nope"), db, "app", "alice", "", false, false},
		{"directory", filepath.Join(dir, "adir"), db, "app", "alice", "", false, false},
		{"no passfile", "", db, "app", "alice", "", false, false},
		{"no database", good, db, "", "alice", "", false, false},
		{"no user", good, db, "app", "", "", false, false},
		{"default socket directory is localhost", good, hostSpec{host: "/var/run/postgresql", port: 5432}, "app", "alice", "socketpw", true, false},
		{"hostaddr when no host", good, hostSpec{hostaddr: "10.0.0.7", port: 5432}, "app", "alice", "addrpw", true, false},
		{"host beats hostaddr", good, hostSpec{host: "db", hostaddr: "10.0.0.7", port: 5432}, "app", "alice", "alicepw", true, false},
		{"other port", good, hostSpec{host: "db", port: 5433}, "app", "alice", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.unixOnly && runtime.GOOS == "windows" {
				t.Skip("libpq does not check the password file's permissions on Windows")
			}
			got, ok := passwordFromFile(tt.path, tt.h, tt.dbname, tt.user)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("passwordFromFile = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

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
