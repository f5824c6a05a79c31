package pqssl_test

import (
	"context"
	"database/sql"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/pqssl/pqssl"
	"github.com/pqssl/pqssl/internal/conformance"
	"github.com/pqssl/pqssl/internal/pgtest"
)

// reportFile is the committed conformance report, regenerated with
// conformance.RegenerateCommand.
const reportFile = "CONFORMANCE.md"

// checkedColumns are the report columns this test reproduces, and whether
// the whole cell must match (else its outcome only: lib/pq's messages after
// a server's TLS alert depend on timing). pgx is measured only by the report
// command, whose module may depend on it.
var checkedColumns = []struct {
	name  string
	exact bool
}{{conformance.Referee, true}, {"pqssl", true}, {"lib/pq", false}}

// reportGoRelease is the Go release CONFORMANCE.md was made with. lib/pq's
// verdicts are those of that release's crypto/x509, so under another
// release (CI also runs the newest one) the lib/pq column is only logged.
const reportGoRelease = "go1.26"

// TestConformance runs the conformance matrix through libpq (psql), pqssl
// and plain lib/pq against a real server. It fails for every case where
// pqssl does not agree with libpq unless the case is a documented exception,
// for every documented exception pqssl no longer needs, and for every row of
// the committed CONFORMANCE.md that a fresh run does not reproduce.
//
// By default it runs the fast subset; PQSSL_CONFORMANCE=full runs the
// whole matrix.
func TestConformance(t *testing.T) {
	mode := conformance.Fast
	switch v := os.Getenv("PQSSL_CONFORMANCE"); v {
	case "", "fast":
	case "full":
		mode = conformance.Full
	default:
		t.Fatalf("PQSSL_CONFORMANCE=%q: want fast or full", v)
	}
	bin := pgtest.Require(t)
	cluster := pgtest.Shared(t)

	cases, err := conformance.Generate(mode)
	if err != nil {
		t.Fatal(err)
	}
	columns := checkedColumns
	drivers := []conformance.Driver{conformance.Libpq()}
	if second := secondReferee(t); second != nil {
		drivers = append(drivers, conformance.LibpqOf(conformance.SecondReferee, second))
		columns = append(columns, struct {
			name  string
			exact bool
		}{conformance.SecondReferee, true})
	}
	drivers = append(drivers,
		conformance.SQLDriver("pqssl", func(dsn string) (*sql.DB, error) {
			c, err := pqssl.NewConnector(dsn)
			if err != nil {
				return nil, err
			}
			return sql.OpenDB(c), nil
		}),
		conformance.SQLDriver("lib/pq", func(dsn string) (*sql.DB, error) { return sql.Open("postgres", dsn) }),
	)
	results, err := conformance.Run(context.Background(), cluster, cases, drivers, nil)
	if err != nil {
		t.Fatal(err)
	}

	committed, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatalf("reading the committed report: %v (regenerate it with: %s)", err, conformance.RegenerateCommand)
	}
	rows, err := conformance.ParseReport(committed)
	if err != nil {
		t.Fatal(err)
	}

	stale := 0
	for _, r := range results {
		t.Run(r.Case.ID, func(t *testing.T) {
			ref, expected := conformance.Reference(r, bin.Version)
			got := r.Verdicts["pqssl"]
			reason, excepted := conformance.ExceptionFor(r.Case.ID)
			agrees := conformance.Agrees(ref, got, conformance.Strict("pqssl", r.Case))
			refName := "libpq"
			if expected {
				refName = "expected libpq verdict"
			}
			switch {
			case !agrees && !excepted:
				t.Errorf("%s\n%s: %s\npqssl: %s", r.Case.Desc, refName, ref, got)
			case agrees && excepted:
				t.Errorf("%s\npqssl now agrees with libpq (%s); remove the documented exception (%s)", r.Case.Desc, ref, reason)
			}
			// The verdicts expected from libpq's source hold live.
			if live, ok := r.Verdicts[conformance.SecondReferee]; ok && r.Case.MinLibpq > bin.Version && r.Case.Expect != nil &&
				!conformance.Agrees(*r.Case.Expect, live, true) {
				t.Errorf("%s\nlibpq %d: %s\nexpected from libpq's source: %s", r.Case.Desc, conformance.SecondRefereeVersion, live, *r.Case.Expect)
			}

			row, ok := rows[r.Case.ID]
			if !ok {
				stale++
				t.Errorf("case missing from %s", reportFile)
				return
			}
			for _, col := range columns {
				have, want := row[col.name], conformance.Cell(r, col.name, bin.Version)
				if !col.exact || r.Case.AlertRace {
					have, want = conformance.CellOutcome(have), conformance.CellOutcome(want)
				}
				if have != want && col.name == "lib/pq" && !isGoRelease(reportGoRelease) {
					t.Logf("lib/pq under %s: %q, the report (%s) says %q", runtime.Version(), want, reportGoRelease, have)
					continue
				}
				if have != want {
					stale++
					t.Errorf("%s column of %s: %q, a fresh run gives %q", col.name, reportFile, have, want)
				}
			}
		})
	}
	if stale > 0 {
		t.Errorf("%s does not match a fresh run in %d places; regenerate it with: %s", reportFile, stale, conformance.RegenerateCommand)
	}
}

// secondReferee returns the installation of libpq 18, or nil (with a
// note in the log) where it is missing; under CI it must be there.
func secondReferee(t *testing.T) *pgtest.Binaries {
	t.Helper()
	b := pgtest.OptionalInstallation(t, conformance.SecondRefereeVersion)
	if b == nil {
		t.Logf("libpq %d is not installed (PQSSL_TEST_PGBIN): its column of %s is not checked", conformance.SecondRefereeVersion, reportFile)
	}
	return b
}

// isGoRelease reports whether the running Go is release rel ("go1.26"),
// whatever its patch level.
func isGoRelease(rel string) bool {
	v := runtime.Version()
	return v == rel || strings.HasPrefix(v, rel+".")
}

// TestConformancePG18Server runs the fast subset against a PostgreSQL 18
// server with libpq 18 as the only referee: pqssl must agree with it as
// with libpq 15 against PostgreSQL 15, documented exceptions aside.
func TestConformancePG18Server(t *testing.T) {
	bin := pgtest.Installation(t, conformance.SecondRefereeVersion)
	cluster := bin.Shared(t)
	cases, err := conformance.Generate(conformance.Fast)
	if err != nil {
		t.Fatal(err)
	}
	drivers := []conformance.Driver{
		conformance.LibpqOf(conformance.Referee, bin),
		conformance.SQLDriver("pqssl", func(dsn string) (*sql.DB, error) {
			c, err := pqssl.NewConnector(dsn)
			if err != nil {
				return nil, err
			}
			return sql.OpenDB(c), nil
		}),
	}
	results, err := conformance.Run(context.Background(), cluster, cases, drivers, nil)
	if err != nil {
		t.Fatal(err)
	}
	agree := 0
	for _, r := range results {
		ref, _ := conformance.Reference(r, bin.Version)
		got := r.Verdicts["pqssl"]
		_, excepted := conformance.ExceptionFor(r.Case.ID)
		switch {
		case conformance.Agrees(ref, got, conformance.Strict("pqssl", r.Case)):
			agree++
		case !excepted:
			t.Errorf("%s: %s\nlibpq %d: %s\npqssl: %s", r.Case.ID, r.Case.Desc, bin.Version, ref, got)
		}
	}
	t.Logf("pqssl agrees with libpq %d against PostgreSQL %d on %d of %d cases", bin.Version, bin.Version, agree, len(results))
}
