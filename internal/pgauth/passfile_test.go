package pgauth

import (
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
		h    endpoint
		want string
	}{
		{endpoint{host: "db.example.com", port: "5432"}, "db.example.com"},
		{endpoint{host: "db.example.com", hostaddr: "10.0.0.1"}, "db.example.com"},
		{endpoint{hostaddr: "10.0.0.1"}, "10.0.0.1"},
		{endpoint{host: "localhost"}, "localhost"},
		// Only libpq's default socket directory stands for localhost.
		{endpoint{host: "/var/run/postgresql"}, "localhost"},
		{endpoint{host: "/tmp"}, "/tmp"},
		{endpoint{host: "/var/run/postgresql/"}, "/var/run/postgresql/"},
		{endpoint{}, "localhost"},
	}
	for _, tt := range tests {
		if got := pgpassHost(tt.h); got != tt.want {
			t.Errorf("pgpassHost(%+v) = %q, want %q", tt.h, got, tt.want)
		}
	}
	if got := pgpassPort(endpoint{port: "6543"}); got != "6543" {
		t.Errorf("pgpassPort = %q, want 6543", got)
	}
	if got := pgpassPort(endpoint{}); got != "5432" {
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

	db := endpoint{host: "db", port: "5432"}
	tests := []struct {
		name     string
		path     string
		h        endpoint
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
		{"default socket directory is localhost", good, endpoint{host: "/var/run/postgresql", port: "5432"}, "app", "alice", "socketpw", true, false},
		{"hostaddr when no host", good, endpoint{hostaddr: "10.0.0.7", port: "5432"}, "app", "alice", "addrpw", true, false},
		{"host beats hostaddr", good, endpoint{host: "db", hostaddr: "10.0.0.7", port: "5432"}, "app", "alice", "alicepw", true, false},
		{"other port", good, endpoint{host: "db", port: "5433"}, "app", "alice", "", false, false},
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
