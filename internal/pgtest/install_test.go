package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEachInstallation starts a TLS cluster with every installation and
// checks that the cluster runs that installation's server and that its own
// psql, hence its own libpq, is the referee.
func TestEachInstallation(t *testing.T) {
	ctx := context.Background()
	seen := map[*Cluster]*Binaries{}
	ForEachInstallation(t, func(t *testing.T, b *Binaries) {
		start := time.Now()
		c := b.Shared(t)
		t.Logf("%v: cluster ready in %v", b, time.Since(start))
		if c.Bin != b {
			t.Fatalf("the shared cluster of %v runs %v", b, c.Bin)
		}
		if other, ok := seen[c]; ok {
			t.Fatalf("%v and %v share a cluster", b, other)
		}
		seen[c] = b
		if def, err := FindBinaries(); err == nil && def == b && Shared(t) != c {
			t.Error("the default installation's shared cluster is not the one of Shared")
		}

		rows, err := c.Query("show server_version_num")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := strconv.Atoi(rows[0][0]); err != nil || n/10000 != b.Version {
			t.Fatalf("server_version_num %s, want major version %d", rows[0][0], b.Version)
		}

		root := mustWrite(t, c, "root.crt", c.ServerCertPEM())
		for _, host := range []string{"host=127.0.0.1", "host=localhost hostaddr=127.0.0.1"} {
			conninfo := host + " sslmode=verify-full sslrootcert=" + root
			s, err := c.Psql(ctx, conninfo, nil).Session()
			if err != nil {
				t.Fatalf("psql %q: %v", conninfo, err)
			}
			if !s.SSL || !strings.HasPrefix(s.Version, "TLSv1.") || s.Cipher == "" {
				t.Errorf("psql %q: pg_stat_ssl shows %+v", conninfo, s)
			}
		}

		// psql's own version, and the server's as psql sees it.
		res := Psql{
			ConnInfo: c.ConnInfo("sslmode=verify-full sslrootcert=" + root),
			Query:    `\echo :VERSION_NUM :SERVER_VERSION_NUM`,
			Bin:      b,
		}.Run(ctx)
		f := strings.Fields(res.Output)
		if !res.OK || len(f) != 2 {
			t.Fatalf("psql version query: %v", res)
		}
		for _, v := range f {
			if n, err := strconv.Atoi(v); err != nil || n/10000 != b.Version {
				t.Errorf("psql reports versions %q, want major version %d for both", res.Output, b.Version)
			}
		}
		if r := b.RunPsql(ctx, c.ConnInfo("sslmode=require"), nil); !r.OK {
			t.Errorf("Binaries.RunPsql: %v", r)
		}
		checkOwnLibpq(t, b)
	})
}

// checkOwnLibpq checks that an installation shipping its own libpq (as
// /opt/pg18/lib does) runs psql with it rather than the system's. psql runs
// with a clean environment, so only the binary's run path decides.
func checkOwnLibpq(t *testing.T, b *Binaries) {
	t.Helper()
	ldd, err := exec.LookPath("ldd")
	if err != nil {
		t.Log("no ldd: not checking which libpq psql loads")
		return
	}
	out, err := exec.Command(ldd, b.Psql).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", b.Psql, err)
	}
	loaded := ""
	for _, line := range strings.Split(string(out), "\n") {
		if name, path, ok := strings.Cut(strings.TrimSpace(line), " => "); ok && name == "libpq.so.5" {
			loaded, _, _ = strings.Cut(path, " ")
		}
	}
	own := filepath.Join(filepath.Dir(filepath.Dir(b.Psql)), "lib", "libpq.so.5")
	if !exists(own) {
		t.Logf("%s uses libpq %s", b.Psql, loaded)
		return
	}
	got, err1 := filepath.EvalSymlinks(loaded)
	want, err2 := filepath.EvalSymlinks(own)
	if err1 != nil || err2 != nil || got != want {
		t.Errorf("%s loads libpq %q, want its installation's %s", b.Psql, loaded, own)
	}
}

// fakeInstallation makes a bin directory whose programs print the given
// versions; omit names a program to leave out.
func fakeInstallation(t *testing.T, server, psql int, omit string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"initdb", "pg_ctl", "postgres", "psql"} {
		if name == omit {
			continue
		}
		v := server
		if name == "psql" {
			v = psql
		}
		script := fmt.Sprintf("#!/bin/sh\necho '%s (PostgreSQL) %d.2'\n", name, v)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCollectInstallations(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{
		"{15}":       fakeInstallation(t, 15, 15, ""),
		"{16}":       fakeInstallation(t, 16, 16, ""),
		"{16b}":      fakeInstallation(t, 16, 16, ""),
		"{17}":       fakeInstallation(t, 17, 17, ""),
		"{mixed}":    fakeInstallation(t, 17, 16, ""),
		"{noinitdb}": fakeInstallation(t, 16, 16, "initdb"),
		"{missing}":  filepath.Join(t.TempDir(), "nonexistent"),
		"{file}":     file,
		"{default}":  "/default/bin",
	}
	var pairs []string
	for k, v := range dirs {
		pairs = append(pairs, k, v)
	}
	expand := strings.NewReplacer(pairs...).Replace
	def := &Binaries{Initdb: "/default/bin/initdb", PgCtl: "/default/bin/pg_ctl",
		Postgres: "/default/bin/postgres", Psql: "/default/bin/psql", Version: 15, PsqlVersion: 15}

	tests := []struct {
		name     string
		noDef    bool
		pgbin    string
		want     []string // "version dir"
		problems []string // one substring per expected problem
	}{
		{name: "unset", want: []string{"15 {default}"}},
		{name: "empty entries only", pgbin: "::", want: []string{"15 {default}"}},
		{name: "one more", pgbin: "{16}", want: []string{"15 {default}", "16 {16}"}},
		{name: "empty entries", pgbin: ":{16}::{17}:", want: []string{"15 {default}", "16 {16}", "17 {17}"}},
		{name: "sorted by version", pgbin: "{17}:{16}", want: []string{"15 {default}", "16 {16}", "17 {17}"}},
		{name: "same directory twice", pgbin: "{16}:{16}/:{16}/.", want: []string{"15 {default}", "16 {16}"}},
		{name: "default's version", pgbin: "{15}", want: []string{"15 {default}"}},
		{name: "first of a version wins", pgbin: "{16b}:{16}", want: []string{"15 {default}", "16 {16b}"}},
		{name: "missing directory", pgbin: "{missing}:{16}", want: []string{"15 {default}", "16 {16}"},
			problems: []string{"PQSSL_TEST_PGBIN entry {missing}: stat {missing}: no such file or directory"}},
		{name: "not a directory", pgbin: "{file}", want: []string{"15 {default}"},
			problems: []string{"{file}: not a directory"}},
		{name: "program missing", pgbin: "{noinitdb}", want: []string{"15 {default}"},
			problems: []string{"{noinitdb}: no executable initdb there"}},
		{name: "psql of another version", pgbin: "{mixed}:{17}", want: []string{"15 {default}", "17 {17}"},
			problems: []string{"{mixed}: psql is version 16 but postgres version 17"}},
		{name: "no default", noDef: true, pgbin: "{16}:{15}", want: []string{"15 {15}", "16 {16}"}},
		{name: "nothing", noDef: true, pgbin: "{missing}", problems: []string{"{missing}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var defErr error
			if tt.noDef {
				defErr = &NotFoundError{Program: "initdb"}
			}
			s := collectInstallations(def, defErr, expand(tt.pgbin))
			var got []string
			for _, b := range s.list {
				got = append(got, fmt.Sprintf("%d %s", b.Version, filepath.Dir(b.Postgres)))
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, expand(w))
			}
			if !slices.Equal(got, want) {
				t.Errorf("installations %q, want %q", got, want)
			}
			if len(s.problems) != len(tt.problems) {
				t.Fatalf("problems %q, want %d", s.problems, len(tt.problems))
			}
			for i, p := range s.problems {
				if w := expand(tt.problems[i]); !strings.Contains(p.Error(), w) {
					t.Errorf("problem %q does not contain %q", p, w)
				}
			}
		})
	}
}

func TestSplitPGBin(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{":::", nil},
		{"/a/bin", []string{"/a/bin"}},
		{"/a/bin/::/b//bin:/a/bin", []string{"/a/bin", "/b/bin"}},
		{"bin:./bin", []string{filepath.Join(wd, "bin")}},
	}
	for _, tt := range tests {
		if got := splitPGBin(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitPGBin(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseRequired(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		err  bool
	}{
		{"", nil, false},
		{"15,18", []int{15, 18}, false},
		{" 18 , 15,,18 ", []int{15, 18}, false},
		{"15 18", []int{15, 18}, false},
		{"15,x", nil, true},
		{"0", nil, true},
		{"15.4", nil, true},
	}
	for _, tt := range tests {
		got, err := parseRequired(tt.in)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("parseRequired(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !strings.Contains(err.Error(), "PQSSL_TEST_REQUIRE_PG") {
			t.Errorf("error %q does not name the variable", err)
		}
	}
}

// TestInstallationMissing checks when a missing version skips and when it
// fails.
func TestInstallationMissing(t *testing.T) {
	def := &Binaries{Postgres: "/default/bin/postgres", Version: 15, PsqlVersion: 15}
	some := &installSet{list: []*Binaries{def}, pgbin: "/opt/pg18/bin",
		problems: []error{fmt.Errorf("PQSSL_TEST_PGBIN entry /opt/pg18/bin: stat /opt/pg18/bin: no such file or directory")}}
	none := &installSet{defErr: &NotFoundError{Program: "initdb", Searched: []string{"PATH"}}}
	tests := []struct {
		name       string
		set        *installSet
		ci, req    string
		major      int
		skip, fail bool
		msg        []string
	}{
		{"required, locally", some, "", "15,18", 18, true, false,
			[]string{"PostgreSQL 18 is not available", "found PostgreSQL 15 (/default/bin)", "/opt/pg18/bin: stat"}},
		{"required, in CI", some, "true", "15,18", 18, false, true,
			[]string{"PostgreSQL 18 is not available", "PQSSL_TEST_REQUIRE_PG=15,18 lists it"}},
		{"not required, in CI", some, "true", "15", 18, true, false, []string{"PostgreSQL 18 is not available"}},
		{"nothing installed, in CI", none, "true", "", 16, false, true,
			[]string{"no installation found", "initdb not found", "PQSSL_TEST_PGBIN is not set"}},
		{"nothing installed, locally", none, "", "", 16, true, false, []string{"no installation found"}},
		{"bad list", some, "", "15,x", 18, false, true, []string{`"x" is not a major version`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			t.Setenv(envRequirePG, tt.req)
			f := &fakeTB{TB: t}
			if b := tt.set.require(f, tt.major); b != nil {
				t.Fatalf("got %v for a missing version", b)
			}
			if f.skipped != tt.skip || f.failed != tt.fail {
				t.Errorf("skipped %v, failed %v; want %v, %v (%s)", f.skipped, f.failed, tt.skip, tt.fail, f.msg)
			}
			for _, m := range tt.msg {
				if !strings.Contains(f.msg, m) {
					t.Errorf("message %q does not contain %q", f.msg, m)
				}
			}
		})
	}
	t.Run("present", func(t *testing.T) {
		if _, err := serverUser(); err != nil {
			t.Skip(err)
		}
		t.Setenv("CI", "true")
		t.Setenv(envRequirePG, "15,18")
		f := &fakeTB{TB: t}
		if b := some.require(f, 15); b != def || f.skipped || f.failed {
			t.Errorf("got %v (skipped %v, failed %v: %s)", b, f.skipped, f.failed, f.msg)
		}
	})
}
