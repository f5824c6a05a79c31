// Package pgtest runs throwaway PostgreSQL clusters for tests, and runs
// psql, libpq's own client, as the referee that pqssl's behaviour is
// compared against.
//
// It is the harness of this repository, not part of the library: the
// tests, the demo (examples/demo) and the conformance report generator
// (conformance) use it, and no non-test package of the pqssl module imports
// it (TestLibraryImportsNoHarness checks that).
//
// # Clusters
//
// [Start] creates a cluster from a pristine data directory (initdb runs
// once per process; later clusters copy its result), configures TLS and
// starts the server on 127.0.0.1 (and ::1 when the machine has IPv6
// loopback) at a random free port, with its Unix socket in a private
// directory. [Cluster.Stop] stops it with an immediate shutdown and removes
// every file. [StartT] does both for one test.
//
// Most tests should share one cluster per test binary:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		c := pgtest.Shared(t)
//		if err := c.SetHBA("hostssl all all all trust"); err != nil {
//			t.Fatal(err)
//		}
//		res := c.Psql(ctx, "sslmode=require", nil)
//		...
//	}
//
// [Shared] starts the cluster on first use and registers a cleanup that
// puts back the default configuration when the test ends, so a test may
// reconfigure the shared cluster freely. Tests that reconfigure it must not
// call t.Parallel: a parallel test would see the other test's scenario.
// [Main] runs the tests and then [StopAll].
//
// A test binary that dies without running its cleanups (a panic, a timeout,
// a signal) does not leave servers behind: a small watchdog process, started
// with the first cluster, notices that the test process is gone, stops its
// clusters and removes their files.
//
// # Installations
//
// The tests may use several PostgreSQL installations at once, each with its
// own server programs and its own psql, so that every server version is
// refereed by its own libpq:
//
//   - The default installation is the one [FindBinaries] finds: initdb,
//     pg_ctl and postgres on PATH, else the highest
//     /usr/lib/postgresql/<version>/bin. [Start], [StartT], [Shared],
//     [RunPsql] and a [Psql] without Bin use it.
//   - The environment variable PQSSL_TEST_PGBIN adds more: a colon-separated
//     list of bin directories, each holding initdb, pg_ctl, postgres and psql
//     of one installation (for instance
//     "/usr/lib/postgresql/15/bin:/opt/pg18/bin"). Empty entries and repeats
//     are ignored; an entry that is missing or incomplete is reported in the
//     skip messages of [Installation].
//
// Each installation's major version is what "postgres --version" and
// "psql --version" print; in a PQSSL_TEST_PGBIN entry both must agree. There
// is one installation per major version, the default one first: a
// PQSSL_TEST_PGBIN entry of the default's version, or of a version an
// earlier entry has, is ignored. [Installations] lists them sorted by
// version; [Installation] returns one by version; [ForEachInstallation] runs
// a subtest with each. The methods [Binaries.Start], [Binaries.StartT],
// [Binaries.Shared] and [Binaries.RunPsql] use a given installation; each
// installation has its own template data directory and its own shared
// cluster, and [Cluster.Psql] runs the psql of the cluster's installation.
//
// The environment variable PQSSL_TEST_REQUIRE_PG lists major versions that
// must be present, separated by commas ("15,18"). When [InCI] reports true,
// [Installation] and [ForEachInstallation] fail for a listed version that is
// missing; otherwise a missing version skips the test with a message naming
// it and what was found. .ci/run sets both variables.
//
// # Reconfiguration
//
// [Cluster.SetServerCert], [Cluster.SetCA], [Cluster.SetHBA],
// [Cluster.SetConf] and [Cluster.Apply] rewrite the server's files and
// reload it without a restart. They return only once the server has been
// seen to use the new configuration, and they return a [*ReloadError] (after
// restoring the previous configuration) when the server rejects it.
//
// # Root
//
// PostgreSQL refuses to run as root. When the tests run as root (as they do
// in CI), initdb, pg_ctl and the server of every installation run as the
// "postgres" system user, and every file the server reads is given to that
// user. Server programs and psql run with a clean environment (no
// LD_LIBRARY_PATH from the test process), so an installation outside the
// system's library path, like /opt/pg18, must find its own libpq through its
// run path, as PostgreSQL's default build arranges.
//
// # Missing binaries
//
// Without PostgreSQL installed, [Require], [StartT] and [Shared] skip the
// test; when the environment variable CI is true they fail it instead, so
// that a misconfigured CI machine cannot pass by skipping everything. For
// the other installations, PQSSL_TEST_REQUIRE_PG says which versions CI must
// have (see Installations above).
package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// InCI reports whether the environment variable CI holds a true value
// ("true", "1", ...), in which case missing prerequisites fail tests rather
// than skip them.
func InCI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// SkipOrFatal skips the test, or fails it when [InCI] reports true. Tests use
// it for missing prerequisites (binaries, users, IPv6) that a developer's
// machine may lack but the CI machine must have.
func SkipOrFatal(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if InCI() {
		tb.Fatalf(format+" (CI is set: failing instead of skipping)", args...)
	} else {
		tb.Skipf(format, args...)
	}
}

// Binaries holds the paths of the PostgreSQL programs the harness runs.
type Binaries struct {
	Initdb   string
	PgCtl    string
	Postgres string
	// Psql is the real psql binary of the same installation where there is
	// one. On Debian, psql on PATH is a Perl wrapper that picks a version
	// and may set PGHOST and PGPORT from its cluster configuration; the
	// wrapper is avoided so that the referee sees only the environment the
	// test gives it.
	Psql string
	// Version is the server's major version (15 for PostgreSQL 15.x).
	Version int
	// PsqlVersion is psql's major version. It differs from Version only
	// when psql comes from another installation than the server (see
	// [FindBinaries]); the installations of [Installations] that come from
	// PQSSL_TEST_PGBIN always have both equal.
	PsqlVersion int
}

// String names the installation: "PostgreSQL 15 (/usr/lib/postgresql/15/bin)".
func (b *Binaries) String() string {
	return fmt.Sprintf("PostgreSQL %d (%s)", b.Version, filepath.Dir(b.Postgres))
}

// detectVersions fills in Version and PsqlVersion from the programs' own
// --version output.
func (b *Binaries) detectVersions() error {
	var err error
	if b.Version, err = programVersion(b.Postgres); err != nil {
		return err
	}
	b.PsqlVersion, err = programVersion(b.Psql)
	return err
}

// programVersion runs "prog --version" and returns the major version it
// prints. postgres answers --version even as root.
func programVersion(prog string) (int, error) {
	out, err := exec.Command(prog, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("pgtest: %s --version: %w", prog, err)
	}
	v, err := parseVersion(string(out))
	if err != nil {
		return 0, fmt.Errorf("pgtest: %s --version: %w", prog, err)
	}
	return v, nil
}

// NotFoundError reports that a PostgreSQL program could not be found.
type NotFoundError struct {
	Program  string   // "initdb", "psql", ...
	Searched []string // PATH and the directories that were searched
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("pgtest: %s not found on PATH nor in %s", e.Program, strings.Join(e.Searched, ", "))
}

// versionedRoot is where Debian and Ubuntu install each major version.
const versionedRoot = "/usr/lib/postgresql"

var found struct {
	once sync.Once
	bin  *Binaries
	err  error
}

// FindBinaries locates initdb, pg_ctl and postgres (on PATH, else in the
// highest /usr/lib/postgresql/<version>/bin that holds all three) and psql.
// The result is computed once per process.
func FindBinaries() (*Binaries, error) {
	found.once.Do(func() { found.bin, found.err = findBinaries() })
	return found.bin, found.err
}

func findBinaries() (*Binaries, error) {
	dirs := versionedDirs()
	b := &Binaries{}

	// The three server programs must come from one installation.
	server := []string{"initdb", "pg_ctl", "postgres"}
	paths := make([]string, len(server))
	onPath := true
	for i, name := range server {
		p, err := exec.LookPath(name)
		if err != nil {
			onPath = false
			break
		}
		paths[i] = p
	}
	if !onPath {
		dir := ""
		for _, d := range dirs {
			if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) && isExecutable(filepath.Join(d, "postgres")) {
				dir = d
				break
			}
		}
		if dir == "" {
			missing := "initdb"
			for _, name := range server {
				if _, err := exec.LookPath(name); err != nil {
					missing = name
					break
				}
			}
			return nil, &NotFoundError{Program: missing, Searched: append([]string{"PATH"}, dirs...)}
		}
		for i, name := range server {
			paths[i] = filepath.Join(dir, name)
		}
	}
	b.Initdb, b.PgCtl, b.Postgres = paths[0], paths[1], paths[2]

	// psql: next to the real server binaries first (same installation,
	// never the Debian wrapper), then PATH unless it is the wrapper, then
	// the versioned directories.
	candidates := []string{}
	if real, err := filepath.EvalSymlinks(b.Initdb); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(real), "psql"))
	}
	if p, err := exec.LookPath("psql"); err == nil && !isDebianWrapper(p) {
		candidates = append(candidates, p)
	}
	for _, d := range dirs {
		candidates = append(candidates, filepath.Join(d, "psql"))
	}
	if p, err := exec.LookPath("psql"); err == nil {
		candidates = append(candidates, p) // the wrapper, as a last resort
	}
	for _, p := range candidates {
		if isExecutable(p) {
			b.Psql = p
			break
		}
	}
	if b.Psql == "" {
		return nil, &NotFoundError{Program: "psql", Searched: append([]string{"PATH"}, dirs...)}
	}

	if err := b.detectVersions(); err != nil {
		return nil, err
	}
	return b, nil
}

// versionedDirs lists /usr/lib/postgresql/<version>/bin, highest version
// first.
func versionedDirs() []string {
	entries, err := os.ReadDir(versionedRoot)
	if err != nil {
		return nil
	}
	type vd struct {
		v   float64
		dir string
	}
	var list []vd
	for _, e := range entries {
		v, err := strconv.ParseFloat(e.Name(), 64) // 9.6 and 15 alike
		if err != nil {
			continue
		}
		list = append(list, vd{v, filepath.Join(versionedRoot, e.Name(), "bin")})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v })
	dirs := make([]string, len(list))
	for i, x := range list {
		dirs[i] = x.dir
	}
	return dirs
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func isDebianWrapper(p string) bool {
	real, err := filepath.EvalSymlinks(p)
	return err == nil && filepath.Base(real) == "pg_wrapper"
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// parseVersion extracts the major version from "postgres (PostgreSQL) 15.4
// (Debian 15.4-1)". Before version 10 the major version had two parts; it is
// reported as 9 for all of them.
func parseVersion(s string) (int, error) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("unrecognised version string %q", strings.TrimSpace(s))
	}
	return strconv.Atoi(m[1])
}

// serverAccount is the system account the server runs as when the tests run
// as root.
type serverAccount struct {
	name     string
	uid, gid int
}

var account struct {
	once sync.Once
	acct *serverAccount
	err  error
}

// serverUser returns nil when the harness does not run as root (the server
// then runs as the current user), else the "postgres" account.
func serverUser() (*serverAccount, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	account.once.Do(func() {
		u, err := user.Lookup("postgres")
		if err != nil {
			account.err = fmt.Errorf("pgtest: running as root needs a \"postgres\" system user for the server: %w", err)
			return
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err := errors.Join(err1, err2); err != nil {
			account.err = fmt.Errorf("pgtest: user postgres: %w", err)
			return
		}
		if uid == 0 {
			account.err = errors.New("pgtest: user postgres has uid 0; PostgreSQL will not run as root")
			return
		}
		account.acct = &serverAccount{name: u.Username, uid: uid, gid: gid}
	})
	return account.acct, account.err
}

// Require returns the PostgreSQL binaries, skipping the test when they are
// missing (failing it when [InCI] reports true). When running as root it
// also requires the postgres system user.
func Require(tb testing.TB) *Binaries {
	tb.Helper()
	b, err := FindBinaries()
	if err != nil {
		SkipOrFatal(tb, "PostgreSQL is not installed: %v", err)
	}
	if _, err := serverUser(); err != nil {
		SkipOrFatal(tb, "%v", err)
	}
	return b
}
