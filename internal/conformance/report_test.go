package conformance

import (
	"bytes"
	"strings"
	"testing"
)

// TestReportRoundTrip writes a report and reads its rows back: every cell
// must come back as Cell formats it, whatever the messages hold.
func TestReportRoundTrip(t *testing.T) {
	srv := &Server{Name: "s"}
	mk := func(id, group string, v map[string]Verdict) Result {
		return Result{Case: Case{ID: id, Group: group, Desc: "desc | with pipe", Server: srv}, Verdicts: v}
	}
	results := []Result{
		mk(GroupModes+"/a", GroupModes, map[string]Verdict{
			"libpq": {Outcome: TLS}, "pqssl": {Outcome: TLS}, "lib/pq": {Outcome: Fail, Message: `x509: a|b \ c`}, "pgx": {Outcome: Plain}}),
		mk(GroupHostname+"/b", GroupHostname, map[string]Verdict{
			"libpq":  {Outcome: Fail, Message: `server certificate for "*.x" does not match host name "y"`},
			"pqssl":  {Outcome: Fail, Message: `server certificate for "x" does not match host name "y"`},
			"lib/pq": {Outcome: TLS}, "pgx": {Outcome: Fail, Message: "`backquotes` and <html>"}}),
		mk(GroupModes+"/unset/hba-plain/noroot", GroupModes, map[string]Verdict{
			"libpq": {Outcome: Plain}, "pqssl": {Outcome: Fail, Message: "server does not support SSL, but SSL was required"},
			"lib/pq": {Outcome: Plain}, "pgx": {Outcome: Plain}}),
	}
	expect := Verdict{Outcome: Fail, Message: "server did not request an SSL certificate"}
	certmode := mk(GroupClient+"/c", GroupClient, map[string]Verdict{
		"libpq": {Outcome: Fail, Message: `invalid connection option "sslcertmode"`},
		"pqssl": {Outcome: TLS}, "lib/pq": {Outcome: Fail, Message: "x"}, "pgx": {Outcome: Fail, Message: "y"}})
	certmode.Case.MinLibpq, certmode.Case.Expect = 16, &expect
	results = append(results, certmode)

	info := ReportInfo{LibpqVersion: 15, OpenSSL: "3.0", Drivers: []string{"libpq", "pqssl", "lib/pq", "pgx"}, Mode: Full}
	var b bytes.Buffer
	if err := WriteReport(&b, results, info); err != nil {
		t.Fatal(err)
	}
	rows, err := ParseReport(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(results) {
		t.Fatalf("parsed %d rows, want %d:\n%s", len(rows), len(results), b.String())
	}
	for _, r := range results {
		for _, name := range info.Drivers {
			if got, want := rows[r.Case.ID][name], Cell(r, name, 15); got != want {
				t.Errorf("%s %s: parsed %q, want %q", r.Case.ID, name, got, want)
			}
		}
	}

	report := b.String()
	for _, want := range []string{
		"4 cases.",
		"| pqssl | 2 of 4 (50.0%) | 1 | 1 |",
		"`" + GroupModes + "/unset/hba-plain/noroot` (libpq: plain; pqssl: fail: server does not support SSL",
		"`" + GroupClient + "/c`: desc \\| with pipe. libpq: fail: invalid connection option \"sslcertmode\" (libpq 16: expected fail: server did not request an SSL certificate); pqssl: tls",
		RegenerateCommand,
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if got := Cell(results[1], "libpq", 15); !strings.Contains(got, `"\*.x"`) {
		t.Errorf("libpq cell %q: the wildcard is not escaped", got)
	}
	if got := Cell(results[1], "lib/pq", 15); got != "≠ tls" {
		t.Errorf("lib/pq cell %q, want a marked disagreement", got)
	}
	if got := CellOutcome(Cell(results[0], "lib/pq", 15)); got != "≠ fail" {
		t.Errorf("CellOutcome = %q", got)
	}
}

func TestParseReportErrors(t *testing.T) {
	bad := "## x\n\n| case | what | libpq | pqssl |\n|---|---|---|---|\n| `a/b` | d | tls |\n"
	if _, err := ParseReport([]byte(bad)); err == nil {
		t.Error("a row with a missing cell was accepted")
	}
	dup := "## x\n\n| case | what | libpq |\n|---|---|---|\n| `a/b` | d | tls |\n| `a/b` | d | tls |\n"
	if _, err := ParseReport([]byte(dup)); err == nil {
		t.Error("a repeated case was accepted")
	}
}
