// This file holds the chain building and validity cases.

package conformance

import (
	"strings"
	"time"

	"github.com/pqssl/pqssl/internal/testpki"
)

// chains: which certificates anchor a chain, where intermediates come
// from, cross-signing, extra certificates, validity periods.
func (g *gen) chains() {
	now := g.now
	past := testpki.Spec{NotBefore: now.Add(-72 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}
	future := testpki.Spec{NotBefore: now.Add(24 * time.Hour), NotAfter: now.Add(72 * time.Hour)}

	rootA := g.b.root(testpki.Spec{CommonName: "Chain Root A"})
	rootAKey := rootA.Key
	interA := g.b.issue(rootA, testpki.Spec{CommonName: "Chain Intermediate A", IsCA: true})
	rootB := g.b.root(testpki.Spec{CommonName: "Chain Root B"})
	// interA signed by root B instead: same name and key.
	interAbyB := g.b.issue(rootB, testpki.Spec{CommonName: "Chain Intermediate A", IsCA: true, Key: interA.Key})
	leaf := g.b.issue(interA, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	direct := g.b.issue(rootA, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	// Two intermediates: rootA -> i1 -> i2 -> leaf2.
	i1 := g.b.issue(rootA, testpki.Spec{CommonName: "Chain Level 1", IsCA: true})
	i2 := g.b.issue(i1, testpki.Spec{CommonName: "Chain Level 2", IsCA: true})
	leaf2 := g.b.issue(i2, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	self := g.b.selfSigned(testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	selfCA := g.b.selfSigned(testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}, IsCA: true})
	// Root B cross-signed by root A; an intermediate and leaf under root B.
	rootBbyA := g.b.issue(rootA, testpki.Spec{CommonName: "Chain Root B", IsCA: true, Key: rootB.Key})
	interB := g.b.issue(rootB, testpki.Spec{CommonName: "Chain Intermediate B", IsCA: true})
	leafB := g.b.issue(interB, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	// Validity variants.
	sp := func(base testpki.Spec, s testpki.Spec) testpki.Spec {
		s.NotBefore, s.NotAfter = base.NotBefore, base.NotAfter
		return s
	}
	leafExpired := g.b.issue(interA, sp(past, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}}))
	leafFuture := g.b.issue(interA, sp(future, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}}))
	interExpired := g.b.issue(rootA, sp(past, testpki.Spec{CommonName: "Chain Intermediate A", IsCA: true, Key: interA.Key}))
	interFuture := g.b.issue(rootA, sp(future, testpki.Spec{CommonName: "Chain Intermediate A", IsCA: true, Key: interA.Key}))
	rootExpired := g.b.root(sp(past, testpki.Spec{CommonName: "Chain Root A", Key: rootAKey}))
	rootFuture := g.b.root(sp(future, testpki.Spec{CommonName: "Chain Root A", Key: rootAKey}))
	leafSelfExpired := g.b.selfSigned(sp(past, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}}))

	type cs struct {
		id, desc  string
		leaf      *testpki.Cert
		sent      []*testpki.Cert // after the leaf
		roots     []*testpki.Cert
		mode      string // "" = verify-ca
		hba       string
		fast      bool
		noRootMsg bool
	}
	list := []cs{
		{"anchor-root/standard", "root in root file, server sends leaf and intermediate", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "", "", true, false},
		{"anchor-root/direct", "leaf issued by the root directly", direct, nil, []*testpki.Cert{rootA}, "", "", false, false},
		{"anchor-root/server-sends-root-too", "server sends leaf, intermediate and root", leaf, []*testpki.Cert{interA, rootA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"anchor-intermediate/only", "root file holds only the intermediate", leaf, []*testpki.Cert{interA}, []*testpki.Cert{interA}, "", "", true, false},
		{"anchor-intermediate/only-leaf-sent", "root file holds only the intermediate, server sends the leaf alone", leaf, nil, []*testpki.Cert{interA}, "", "", false, false},
		{"anchor-intermediate/server-sends-root", "root file holds only the intermediate, server sends leaf, intermediate, root", leaf, []*testpki.Cert{interA, rootA}, []*testpki.Cert{interA}, "", "", false, false},
		{"anchor-leaf/not-self-signed", "root file holds the (CA-issued) leaf itself", leaf, []*testpki.Cert{interA}, []*testpki.Cert{leaf}, "", "", false, false},
		{"anchor-self-signed/in-root-file", "self-signed leaf, in the root file", self, nil, []*testpki.Cert{self}, "", "", true, false},
		{"anchor-self-signed/ca-in-root-file", "self-signed leaf with CA:TRUE, in the root file", selfCA, nil, []*testpki.Cert{selfCA}, "", "", false, false},
		{"anchor-self-signed/not-in-root-file", "self-signed leaf, root file holds another CA", self, nil, []*testpki.Cert{rootA}, "", "", true, false},
		{"anchor-self-signed/expired", "expired self-signed leaf, in the root file", leafSelfExpired, nil, []*testpki.Cert{leafSelfExpired}, "", "", false, false},
		{"anchor-self-signed/require-no-root", "self-signed leaf, require without root file", self, nil, nil, "require", "", false, true},
		{"anchor-self-signed/verify-full", "self-signed leaf in the root file, verify-full", self, nil, []*testpki.Cert{self}, "verify-full", "", false, false},
		{"intermediate/in-root-file-only", "intermediate in the root file, server sends the leaf alone", leaf, nil, []*testpki.Cert{rootA, interA}, "", "", true, false},
		{"intermediate/in-both", "intermediate in the root file and sent by the server", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootA, interA}, "", "", false, false},
		{"intermediate/missing", "intermediate neither sent nor in the root file", leaf, nil, []*testpki.Cert{rootA}, "", "", true, false},
		{"intermediate/missing-require", "intermediate missing, require with a root file", leaf, nil, []*testpki.Cert{rootA}, "require", "", false, false},
		{"intermediate/missing-prefer", "intermediate missing, prefer with a root file", leaf, nil, []*testpki.Cert{rootA}, "prefer", "", false, false},
		{"intermediate/missing-require-no-root", "intermediate missing, require without root file", leaf, nil, nil, "require", "", false, true},
		{"two-levels/sent", "two intermediates, both sent", leaf2, []*testpki.Cert{i2, i1}, []*testpki.Cert{rootA}, "", "", false, false},
		{"two-levels/sent-reversed", "two intermediates sent in reverse order", leaf2, []*testpki.Cert{i1, i2}, []*testpki.Cert{rootA}, "", "", false, false},
		{"two-levels/upper-in-root-file", "upper intermediate in the root file, lower one sent", leaf2, []*testpki.Cert{i2}, []*testpki.Cert{rootA, i1}, "", "", false, false},
		{"two-levels/lower-in-root-file", "lower intermediate in the root file, upper one sent", leaf2, []*testpki.Cert{i1}, []*testpki.Cert{rootA, i2}, "", "", false, false},
		{"two-levels/upper-missing", "upper intermediate missing", leaf2, []*testpki.Cert{i2}, []*testpki.Cert{rootA}, "", "", false, false},
		{"two-levels/anchor-upper-intermediate", "root file holds only the upper intermediate", leaf2, []*testpki.Cert{i2, i1}, []*testpki.Cert{i1}, "", "", false, false},
		{"roots/two-right-second", "root file holds another CA, then the right one", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootB, rootA}, "", "", false, false},
		{"roots/wrong-only", "root file holds another CA only", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootB}, "", "", true, false},
		{"extra/unrelated-after", "server also sends an unrelated root after the chain", leaf, []*testpki.Cert{interA, rootB}, []*testpki.Cert{rootA}, "", "", false, false},
		{"extra/unrelated-between", "server sends an unrelated certificate between leaf and intermediate", leaf, []*testpki.Cert{rootB, interA}, []*testpki.Cert{rootA}, "", "", true, false},
		{"extra/duplicate-intermediate", "server sends the intermediate twice", leaf, []*testpki.Cert{interA, interA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"extra/leaf-twice", "server sends the leaf twice", leaf, []*testpki.Cert{leaf, interA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"cross/sent-other-path-root-trusted", "intermediate cross-signed by root B sent, root file holds root A", leaf, []*testpki.Cert{interAbyB}, []*testpki.Cert{rootA}, "", "", true, false},
		{"cross/sent-other-path-both-trusted", "intermediate cross-signed by root B sent, root file holds A and B", leaf, []*testpki.Cert{interAbyB}, []*testpki.Cert{rootA, rootB}, "", "", false, false},
		{"cross/both-sent-first-trusted", "both versions of the intermediate sent (A's first), root file holds A", leaf, []*testpki.Cert{interA, interAbyB}, []*testpki.Cert{rootA}, "", "", false, false},
		{"cross/both-sent-second-trusted", "both versions of the intermediate sent (A's first), root file holds B", leaf, []*testpki.Cert{interA, interAbyB}, []*testpki.Cert{rootB}, "", "", true, false},
		{"cross/both-sent-reversed", "both versions of the intermediate sent (B's first), root file holds A", leaf, []*testpki.Cert{interAbyB, interA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"cross/intermediate-in-root-file", "B's version sent, A's version and root A in the root file", leaf, []*testpki.Cert{interAbyB}, []*testpki.Cert{rootA, interA}, "", "", false, false},
		{"cross/root-cross-signed-trust-A", "chain to root B cross-signed by A sent, root file holds A", leafB, []*testpki.Cert{interB, rootBbyA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"cross/root-cross-signed-trust-B", "chain to root B cross-signed by A sent, root file holds B", leafB, []*testpki.Cert{interB, rootBbyA}, []*testpki.Cert{rootB}, "", "", false, false},
		{"cross/root-cross-signed-not-sent", "chain to root B without the cross certificate, root file holds A", leafB, []*testpki.Cert{interB}, []*testpki.Cert{rootA}, "", "", false, false},
		{"validity/leaf-expired", "expired leaf", leafExpired, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "", "", true, false},
		{"validity/leaf-not-yet-valid", "leaf not yet valid", leafFuture, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"validity/intermediate-expired", "expired intermediate", leaf, []*testpki.Cert{interExpired}, []*testpki.Cert{rootA}, "", "", true, false},
		{"validity/intermediate-not-yet-valid", "intermediate not yet valid", leaf, []*testpki.Cert{interFuture}, []*testpki.Cert{rootA}, "", "", false, false},
		{"validity/intermediate-expired-and-valid-sent", "expired and valid versions of the intermediate sent (expired first)", leaf, []*testpki.Cert{interExpired, interA}, []*testpki.Cert{rootA}, "", "", false, false},
		{"validity/root-expired", "expired root in the root file", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootExpired}, "", "", true, false},
		{"validity/root-not-yet-valid", "root not yet valid", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootFuture}, "", "", false, false},
		{"validity/root-expired-and-valid", "root file holds an expired and a valid version of the root", leaf, []*testpki.Cert{interA}, []*testpki.Cert{rootExpired, rootA}, "", "", false, false},
		{"validity/leaf-expired-require-no-root", "expired leaf, require without root file", leafExpired, []*testpki.Cert{interA}, nil, "require", "", false, true},
		{"validity/leaf-expired-require-root", "expired leaf, require with a root file", leafExpired, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "require", "", false, false},
		{"validity/leaf-expired-prefer-root", "expired leaf, prefer with a root file", leafExpired, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "prefer", "", false, false},
		{"validity/leaf-expired-prefer-root-tls-only", "expired leaf, prefer with a root file, TLS-only server", leafExpired, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "prefer", "tls", false, false},
		{"validity/leaf-expired-allow-root-tls-only", "expired leaf, allow with a root file, TLS-only server", leafExpired, []*testpki.Cert{interA}, []*testpki.Cert{rootA}, "allow", "tls", false, false},
	}
	for _, c := range list {
		hba := c.hba
		if hba == "" {
			hba = "both"
		}
		chain := testpki.ChainPEM(append([]*testpki.Cert{c.leaf}, c.sent...)...)
		name := "chain-" + strings.ReplaceAll(c.id, "/", "-") + "-" + hba
		srv := g.server(name, chain, c.leaf.KeyPEM, hba, nil, nil)
		var files []File
		if len(c.roots) > 0 {
			files = []File{rootFile(c.roots...)}
		}
		mode := c.mode
		if mode == "" {
			mode = "verify-ca"
		}
		g.add(Case{
			ID: GroupChain + "/" + c.id, Group: GroupChain,
			Desc:   c.desc + ", " + mode,
			Server: srv, Files: files,
			DSN:  dsn("localhost", "sslmode="+mode),
			Fast: c.fast,
		})
	}
}
