// This file holds the report written as text for people, the doctor's
// output without -json.

package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// writeText writes the report for people.
func writeText(w io.Writer, r *Report) {
	p := func(indent int, format string, args ...any) {
		fmt.Fprintf(w, "%s%s\n", strings.Repeat("  ", indent), fmt.Sprintf(format, args...))
	}
	p(0, "Parameters")
	for _, x := range r.Parameters {
		src := x.Source
		if x.Variable != "" {
			src += " " + x.Variable
		}
		p(1, "%-24s %-30s (%s)", x.Keyword, x.Value, src)
	}
	p(0, "")
	p(0, "Files")
	if len(r.Files) == 0 {
		p(1, "none")
	}
	for _, f := range r.Files {
		state := "missing"
		if f.Exists {
			state = "mode " + f.Mode
		}
		p(1, "%s %s (%s)", f.Parameter, f.Path, state)
		for _, c := range f.Certificates {
			writeCert(p, 2, c)
		}
		for _, l := range f.CRLs {
			next := "none"
			if !l.NextUpdate.IsZero() {
				next = day(l.NextUpdate)
			}
			p(2, "CRL of %s, this update %s, next update %s, %d entries", l.Issuer, day(l.ThisUpdate), next, l.Entries)
		}
		if f.Entries != nil {
			p(2, "directory of %d entries", *f.Entries)
		}
		if f.Key != nil {
			enc := "not encrypted"
			if f.Key.Encrypted {
				enc = "encrypted"
			}
			p(2, "key: %s, %s", f.Key.Format, enc)
		}
		if f.Problem != "" {
			p(2, "PROBLEM: %s", oneLine(f.Problem))
		}
	}
	for i, a := range r.Attempts {
		p(0, "")
		host := a.Host
		if a.Hostaddr != "" {
			host += " (hostaddr " + a.Hostaddr + ")"
		}
		p(0, "Attempt %d: %s port %d, %s", i+1, host, a.Port, a.Encryption)
		if a.Address != "" {
			p(1, "dialed %s", a.Address)
		}
		switch {
		case a.Direct:
			p(1, "sslnegotiation=direct: no SSLRequest")
		case a.SSLResponse != "":
			p(1, "SSLRequest answered %s", a.SSLResponse)
		}
		if t := a.TLS; t != nil {
			line := fmt.Sprintf("handshake: %s, %s", t.Version, t.CipherSuite)
			if t.Group != "" {
				line += ", key exchange " + t.Group
			}
			if t.HelloRetryRequest {
				line += ", after a HelloRetryRequest"
			}
			if t.ALPN != "" {
				line += ", ALPN " + t.ALPN
			}
			p(1, "%s", line)
			p(1, "server sent %d certificate(s)", len(t.ServerCertificates))
		}
		cc := a.ClientCertificate
		switch {
		case cc.Requested && cc.Sent:
			p(1, "client certificate: requested and sent")
		case cc.Requested:
			p(1, "client certificate: requested, none sent")
		case a.TLS != nil:
			p(1, "client certificate: not requested")
		}
		for _, ca := range cc.AcceptableCAs {
			p(2, "server accepts certificates from %s", ca)
		}
		if v := a.Verification; v != nil {
			verdict := "TRUSTED"
			if !v.Trusted {
				verdict = "NOT TRUSTED"
			}
			p(1, "verification (sslmode=%s): %s", v.SSLMode, verdict)
			for d, c := range v.Chain {
				p(2, "depth %d:", d)
				writeCert(p, 3, c)
			}
			for _, c := range v.Checks {
				p(2, "%-14s %s", c.Result, c.Name)
			}
			if len(v.Chain) > 0 && v.Trusted {
				p(2, "anchor: %s (from sslrootcert)", v.Chain[len(v.Chain)-1].Subject)
			}
			if m := v.HostMatch; m != nil {
				rule := m.Kind
				switch {
				case m.Kind == "commonName":
					rule = "the Common Name, which libpq checks because the certificate has no subjectAltName of the host's kind"
				case m.Wildcard:
					rule += " (wildcard)"
				}
				p(2, "host name %q matched %q by %s", m.Host, m.Name, rule)
			}
			if f := v.Failure; f != nil {
				line := fmt.Sprintf("FAILED %s check: %s", f.Check, f.Reason)
				if f.Depth != nil && f.Certificate != nil {
					line += fmt.Sprintf(" (depth %d, %s)", *f.Depth, f.Certificate.Subject)
				}
				if f.CRLIssuer != "" {
					line += ", by the CRL of " + f.CRLIssuer
				}
				p(2, "%s", line)
				if len(f.Names) > 0 {
					p(2, "names examined: %s", strings.Join(f.Names, ", "))
				}
			}
		} else if a.TLS != nil {
			p(1, "verification: none (no root file; sslmode=require without one checks nothing)")
		}
		if a.Authentication != "" {
			cb := "without channel binding"
			if a.ChannelBinding {
				cb = "with channel binding"
			}
			p(1, "authentication: %s, %s", a.Authentication, cb)
		}
		if e := a.ServerError; e != nil {
			p(1, "server error %s: %s", e.Code, e.Message)
		}
		if a.Error != "" {
			p(1, "attempt failed: %s", oneLine(a.Error))
		} else {
			p(1, "session established")
		}
	}
	p(0, "")
	if r.Verdict == VerdictOK {
		if r.Offline {
			p(0, "Verdict: the configuration and files are usable (offline: no connection tried)")
		} else {
			p(0, "Verdict: connection succeeds")
		}
	} else {
		p(0, "Verdict: connection fails: %s", oneLine(r.Error))
	}
	for _, h := range r.Hints {
		p(0, "Hint: %s", h)
	}
}

func writeCert(p func(int, string, ...any), indent int, c Certificate) {
	kind := "certificate"
	switch {
	case c.SelfSigned && c.CA:
		kind = "self-signed CA"
	case c.SelfSigned:
		kind = "self-signed"
	case c.CA:
		kind = "CA"
	}
	p(indent, "%s: subject %s", kind, c.Subject)
	p(indent+1, "issuer %s, serial %s", c.Issuer, c.Serial)
	p(indent+1, "valid %s to %s, %s key, %s", day(c.NotBefore), day(c.NotAfter), c.KeyAlgorithm, c.SignatureAlgorithm)
	if len(c.DNSNames)+len(c.IPAddresses) > 0 {
		p(indent+1, "SANs: %s", strings.Join(append(append([]string{}, c.DNSNames...), c.IPAddresses...), ", "))
	}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " / ") }
