// This file holds the PostgreSQL installations the tests can use: the
// default one, those PQSSL_TEST_PGBIN lists, and the versions CI requires.

package pgtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
)

const (
	// envPGBin lists the bin directories of further installations,
	// separated by colons like PATH.
	envPGBin = "PQSSL_TEST_PGBIN"
	// envRequirePG lists the major versions that must be present when
	// [InCI] reports true, separated by commas: "15,18".
	envRequirePG = "PQSSL_TEST_REQUIRE_PG"
)

// installSet is what the environment offers: one installation per major
// version, sorted by version, and the entries of PQSSL_TEST_PGBIN that could
// not be used.
type installSet struct {
	list     []*Binaries
	problems []error
	defErr   error  // why there is no default installation
	pgbin    string // PQSSL_TEST_PGBIN as it was read
}

var installs struct {
	once sync.Once
	set  installSet
}

func installations() *installSet {
	installs.once.Do(func() {
		def, err := FindBinaries()
		installs.set = collectInstallations(def, err, os.Getenv(envPGBin))
	})
	return &installs.set
}

// Installations returns the PostgreSQL installations the tests can use,
// sorted by major version, one per major version: the default one of
// [FindBinaries] and those whose bin directories PQSSL_TEST_PGBIN lists. The
// result is computed once per process.
func Installations() []*Binaries {
	return slices.Clone(installations().list)
}

// Installation returns the installation of the given major version. When
// there is none it skips the test, or fails it when [InCI] reports true and
// PQSSL_TEST_REQUIRE_PG lists the version; either way the message names what
// is missing and what was found. Like [Require] it also requires the
// postgres system user when running as root.
func Installation(tb testing.TB, major int) *Binaries {
	tb.Helper()
	return installations().require(tb, major)
}

// OptionalInstallation returns the installation of the given major version,
// or nil when there is none, for tests that use it only where it is present
// (a second referee). Under [InCI] a version PQSSL_TEST_REQUIRE_PG lists
// must be there: the test fails instead.
func OptionalInstallation(tb testing.TB, major int) *Binaries {
	tb.Helper()
	set := installations()
	for _, b := range set.list {
		if b.Version == major {
			return b
		}
	}
	required, err := requiredVersions()
	if err != nil {
		tb.Fatalf("%v", err)
		return nil
	}
	if InCI() && slices.Contains(required, major) {
		tb.Fatalf("PostgreSQL %d is not available: %s (%s=%s lists it and CI is set)",
			major, set.describe(), envRequirePG, os.Getenv(envRequirePG))
	}
	return nil
}

// ForEachInstallation runs f in a subtest ("pg15", "pg18", ...) for every
// installation of [Installations] and for every version PQSSL_TEST_REQUIRE_PG
// lists, so that a required version that is missing shows as a skipped
// subtest (a failed one under CI) rather than not at all.
func ForEachInstallation(t *testing.T, f func(t *testing.T, b *Binaries)) {
	t.Helper()
	set := installations()
	required, err := requiredVersions()
	if err != nil {
		t.Fatal(err)
	}
	versions := slices.Clone(required)
	for _, b := range set.list {
		versions = append(versions, b.Version)
	}
	slices.Sort(versions)
	versions = slices.Compact(versions)
	if len(versions) == 0 {
		Require(t) // skips or fails with the reason there is no default
		return
	}
	for _, v := range versions {
		t.Run(fmt.Sprintf("pg%d", v), func(t *testing.T) {
			f(t, set.require(t, v))
		})
	}
}

// require implements [Installation]. It uses only Skipf and Fatalf of tb,
// and returns nil after them, so that it can be tested with a fake.
func (s *installSet) require(tb testing.TB, major int) *Binaries {
	tb.Helper()
	for _, b := range s.list {
		if b.Version == major {
			if _, err := serverUser(); err != nil {
				SkipOrFatal(tb, "%v", err)
				return nil
			}
			return b
		}
	}
	required, err := requiredVersions()
	if err != nil {
		tb.Fatalf("%v", err)
		return nil
	}
	msg := fmt.Sprintf("PostgreSQL %d is not available: %s", major, s.describe())
	switch {
	case InCI() && slices.Contains(required, major):
		tb.Fatalf("%s (%s=%s lists it and CI is set: failing instead of skipping)",
			msg, envRequirePG, os.Getenv(envRequirePG))
	case len(s.list) == 0:
		SkipOrFatal(tb, "%s", msg)
	default:
		tb.Skipf("%s", msg)
	}
	return nil
}

// describe says what was found and what was not, for skip messages.
func (s *installSet) describe() string {
	var b strings.Builder
	if len(s.list) == 0 {
		b.WriteString("no installation found")
	} else {
		b.WriteString("found ")
		for i, bin := range s.list {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(bin.String())
		}
	}
	if s.defErr != nil {
		fmt.Fprintf(&b, "; no default installation: %v", s.defErr)
	}
	for _, p := range s.problems {
		fmt.Fprintf(&b, "; %v", p)
	}
	if s.pgbin == "" {
		fmt.Fprintf(&b, "; %s is not set (it lists the bin directories of more installations, separated by colons)", envPGBin)
	} else {
		fmt.Fprintf(&b, "; %s=%s", envPGBin, s.pgbin)
	}
	return b.String()
}

// collectInstallations makes the installation set from the default
// installation (FindBinaries' result) and the value of PQSSL_TEST_PGBIN. The
// default comes first so that it is the one kept for its major version: the
// default cluster of [Shared] and the installation of that version are then
// the same.
func collectInstallations(def *Binaries, defErr error, pgbin string) installSet {
	s := installSet{defErr: defErr, pgbin: pgbin}
	var candidates []*Binaries
	if defErr == nil && def != nil {
		candidates = append(candidates, def)
	}
	for _, dir := range splitPGBin(pgbin) {
		b, err := probeDir(dir)
		if err != nil {
			s.problems = append(s.problems, fmt.Errorf("%s entry %s: %w", envPGBin, dir, err))
			continue
		}
		candidates = append(candidates, b)
	}
	seen := map[int]bool{}
	for _, b := range candidates {
		if !seen[b.Version] {
			seen[b.Version] = true
			s.list = append(s.list, b)
		}
	}
	slices.SortStableFunc(s.list, func(a, b *Binaries) int { return a.Version - b.Version })
	return s
}

// splitPGBin splits PQSSL_TEST_PGBIN into absolute, cleaned directory
// names, dropping empty entries and repeats. Relative entries are made
// absolute because psql runs in a directory of its own.
func splitPGBin(v string) []string {
	var dirs []string
	for _, d := range strings.Split(v, ":") {
		if d == "" {
			continue
		}
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		} else {
			d = filepath.Clean(d)
		}
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// probeDir makes the Binaries of one installation's bin directory, which
// must hold initdb, pg_ctl, postgres and psql of one major version.
func probeDir(dir string) (*Binaries, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, errors.New("not a directory")
	}
	b := &Binaries{
		Initdb:   filepath.Join(dir, "initdb"),
		PgCtl:    filepath.Join(dir, "pg_ctl"),
		Postgres: filepath.Join(dir, "postgres"),
		Psql:     filepath.Join(dir, "psql"),
	}
	for _, p := range []string{b.Initdb, b.PgCtl, b.Postgres, b.Psql} {
		if !isExecutable(p) {
			return nil, fmt.Errorf("no executable %s there", filepath.Base(p))
		}
	}
	if err := b.detectVersions(); err != nil {
		return nil, err
	}
	if b.PsqlVersion != b.Version {
		return nil, fmt.Errorf("psql is version %d but postgres version %d", b.PsqlVersion, b.Version)
	}
	return b, nil
}

// requiredVersions parses PQSSL_TEST_REQUIRE_PG: major versions separated
// by commas or spaces, returned sorted without repeats.
func requiredVersions() ([]int, error) {
	return parseRequired(os.Getenv(envRequirePG))
}

func parseRequired(v string) ([]int, error) {
	var out []int
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("pgtest: %s=%q: %q is not a major version", envRequirePG, v, f)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
