// This file holds the comparison of each driver's verdicts with libpq's:
// the reference verdict, the agreement rule, pqssl's documented exceptions
// and the tallies.

package conformance

import "sort"

// Referee is the name of the driver every other one is compared with.
const Referee = "libpq"

// SecondReferee is the column of libpq 18 (SecondRefereeVersion), run where
// that installation is available: the live verdict for parameters the
// local libpq predates.
const (
	SecondReferee        = "libpq 18"
	SecondRefereeVersion = 18
)

// Reference returns the verdict a case's drivers are compared with: libpq's
// own, or, when the local libpq (major version libpqVersion) predates a
// parameter the case uses, libpq 18's live verdict where that column was
// run, else the verdict the case expects from later libpq versions.
// expected reports the last.
func Reference(r Result, libpqVersion int) (v Verdict, expected bool) {
	if r.Case.MinLibpq > libpqVersion {
		if v, ok := r.Verdicts[SecondReferee]; ok && r.Case.MinLibpq <= SecondRefereeVersion {
			return v, false
		}
		if r.Case.Expect != nil {
			return *r.Case.Expect, true
		}
	}
	return r.Verdicts[Referee], false
}

// isReferee reports whether the column name is one of libpq's.
func isReferee(name string) bool { return name == Referee || name == SecondReferee }

// Agrees reports whether got agrees with the reference verdict ref: the same
// outcome and, when strict, for failures the same kinds of failure
// ([Classify]). pqssl is held to the strict rule; lib/pq and pgx, whose
// messages come from Go's crypto/x509 and have no libpq counterpart, to the
// outcome alone.
func Agrees(ref, got Verdict, strict bool) bool {
	if ref.Outcome != got.Outcome {
		return false
	}
	if strict && ref.Outcome == Fail {
		return ref.Class() == got.Class()
	}
	return true
}

// Strict reports whether the driver named name is held to the strict rule
// of [Agrees] in case c.
func Strict(name string, c Case) bool { return name == "pqssl" && !c.AlertRace }

// Exception is a documented, deliberate difference between pqssl and libpq.
type Exception struct {
	ID     string // case ID
	Reason string
}

// Exceptions lists the cases where pqssl deliberately differs from libpq,
// with the reason. Every other disagreement is a bug.
var Exceptions = []Exception{
	{GroupModes + "/unset/hba-plain/noroot", noSSLModeReason},
	{GroupModes + "/unset/hba-plain/rootok", noSSLModeReason},
	{GroupModes + "/unset/hba-plain/rootbad", noSSLModeReason},
	{GroupModes + "/unset/hba-both/rootbad", noSSLModeReason},
	{GroupModes + "/unset/hba-tls/rootbad", noSSLModeReason},
	{GroupServer + "/ssl-off/unset/noroot", noSSLModeReason},
	{GroupServer + "/ssl-off/unset/rootok", noSSLModeReason},
	{GroupAlgorithm + "/serial-negative/require", negativeSerialReason},
	{GroupAlgorithm + "/serial-negative/verify-ca", negativeSerialReason},
	{GroupRevocation + "/der/sslcrl-der-revoked", derCRLReason},
}

const (
	noSSLModeReason = "With no sslmode anywhere, libpq uses prefer, which falls back to plaintext when TLS " +
		"fails or is refused; pqssl uses require (lib/pq's default), so that a connection string without " +
		"sslmode never silently runs unencrypted."
	derCRLReason = "libpq reads the sslcrl file as PEM only: given a DER CRL it loads nothing and silently " +
		"checks no revocation at all, accepting a revoked certificate. pqssl uses the DER CRL, so a " +
		"revocation list the user configured is never without effect."
	negativeSerialReason = "RFC 5280 requires positive serial numbers. Go's crypto/tls refuses to parse a " +
		"certificate with a negative one during the handshake (crypto/x509 accepts it only under " +
		"GODEBUG=x509negativeserial=1, which a library cannot set for its users), before pqssl's " +
		"verification runs; OpenSSL accepts it."
)

// ExceptionFor returns the documented reason pqssl differs from libpq in
// case id, if any.
func ExceptionFor(id string) (string, bool) {
	for _, e := range Exceptions {
		if e.ID == id {
			return e.Reason, true
		}
	}
	return "", false
}

// Tally counts agreements of one driver.
type Tally struct {
	Cases, Agree, Excepted int
}

// Disagree is the number of cases where the driver differs from the
// reference without a documented exception.
func (t Tally) Disagree() int { return t.Cases - t.Agree - t.Excepted }

// Count tallies the agreement of driver name with the reference over
// results. Documented exceptions count only for pqssl.
func Count(results []Result, name string, libpqVersion int) Tally {
	var t Tally
	for _, r := range results {
		got, ok := r.Verdicts[name]
		if !ok {
			continue
		}
		t.Cases++
		ref, _ := Reference(r, libpqVersion)
		switch {
		case Agrees(ref, got, Strict(name, r.Case)):
			t.Agree++
		case name == "pqssl" && isException(r.Case.ID):
			t.Excepted++
		}
	}
	return t
}

func isException(id string) bool {
	_, ok := ExceptionFor(id)
	return ok
}

// sortedExceptions returns the exceptions in ID order.
func sortedExceptions() []Exception {
	e := append([]Exception(nil), Exceptions...)
	sort.Slice(e, func(i, j int) bool { return e[i].ID < e[j].ID })
	return e
}
