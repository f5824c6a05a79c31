// This file holds the revocation list cases (sslcrl, sslcrldir).

package conformance

import (
	"encoding/pem"
	"fmt"
	"time"

	"github.com/pqssl/pqssl/internal/testpki"
)

// revocation: CRLs for each level of two chain shapes, delivered through
// sslcrl, sslcrldir (hashed names right and wrong) and ~/.postgresql/root.crl.
func (g *gen) revocation() {
	now := g.now
	root := g.b.root(testpki.Spec{CommonName: "Revocation Root"})
	inter := g.b.issue(root, testpki.Spec{CommonName: "Revocation Intermediate", IsCA: true})
	leaf3 := g.b.issue(inter, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	leaf2 := g.b.issue(root, testpki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	other := g.b.root(testpki.Spec{CommonName: "Revocation Other CA"})
	// A CA with the root's name but another key: its CRLs look like the
	// root's but their signatures do not verify.
	impostor := g.b.root(testpki.Spec{CommonName: "Revocation Root"})

	rootHash, interHash, otherHash := g.b.crlHash(root), g.b.crlHash(inter), g.b.crlHash(other)
	var (
		rootEmpty       = g.b.crl(root, nil, time.Time{}, time.Time{})
		rootRevInter    = g.b.crl(root, testpki.Serials(inter), time.Time{}, time.Time{})
		rootRevLeaf2    = g.b.crl(root, testpki.Serials(leaf2), time.Time{}, time.Time{})
		rootExpired     = g.b.crl(root, nil, now.Add(-72*time.Hour), now.Add(-24*time.Hour))
		rootFuture      = g.b.crl(root, nil, now.Add(24*time.Hour), now.Add(72*time.Hour))
		rootByImpostor  = g.b.crl(impostor, nil, time.Time{}, time.Time{})
		interEmpty      = g.b.crl(inter, nil, time.Time{}, time.Time{})
		interRevLeaf3   = g.b.crl(inter, testpki.Serials(leaf3), time.Time{}, time.Time{})
		interExpired    = g.b.crl(inter, nil, now.Add(-72*time.Hour), now.Add(-24*time.Hour))
		interExpiredRev = g.b.crl(inter, testpki.Serials(leaf3), now.Add(-72*time.Hour), now.Add(-24*time.Hour))
		otherEmpty      = g.b.crl(other, nil, time.Time{}, time.Time{})
		otherRevLeaf3   = g.b.crl(other, testpki.Serials(leaf3), time.Time{}, time.Time{})
	)
	type crl struct {
		pem  []byte
		hash string
	}
	r := func(pem []byte) crl { return crl{pem, rootHash} }
	i := func(pem []byte) crl { return crl{pem, interHash} }
	o := func(pem []byte) crl { return crl{pem, otherHash} }

	type variant struct {
		id, desc string
		shape    int // 2: root -> leaf; 3: root -> intermediate -> leaf
		crls     []crl
		fast     bool
	}
	variants := []variant{
		{"all-levels-clean", "CRLs of every issuer, nothing revoked", 3, []crl{r(rootEmpty), i(interEmpty)}, true},
		{"leaf-revoked", "leaf revoked by the intermediate's CRL", 3, []crl{r(rootEmpty), i(interRevLeaf3)}, true},
		{"intermediate-revoked", "intermediate revoked by the root's CRL", 3, []crl{r(rootRevInter), i(interEmpty)}, false},
		{"root-crl-missing", "only the intermediate's CRL", 3, []crl{i(interEmpty)}, true},
		{"intermediate-crl-missing", "only the root's CRL", 3, []crl{r(rootEmpty)}, false},
		{"other-ca-only", "only a CRL of an unrelated CA", 3, []crl{o(otherEmpty)}, false},
		{"other-ca-revokes-serial", "unrelated CA's CRL lists the leaf's serial, chain CRLs clean", 3, []crl{r(rootEmpty), i(interEmpty), o(otherRevLeaf3)}, false},
		{"intermediate-crl-expired", "the intermediate's CRL has expired", 3, []crl{r(rootEmpty), i(interExpired)}, true},
		{"intermediate-crl-expired-revoked", "expired intermediate CRL revoking the leaf", 3, []crl{r(rootEmpty), i(interExpiredRev)}, false},
		{"root-crl-not-yet-valid", "the root's CRL is not yet valid", 3, []crl{r(rootFuture), i(interEmpty)}, false},
		{"root-crl-bad-signature", "root's CRL signed by another key under the root's name", 3, []crl{r(rootByImpostor), i(interEmpty)}, false},
		{"direct-clean", "root's CRL, nothing revoked", 2, []crl{r(rootEmpty)}, true},
		{"direct-leaf-revoked", "leaf revoked by the root's CRL", 2, []crl{r(rootRevLeaf2)}, false},
		{"direct-root-crl-expired", "the root's CRL has expired", 2, []crl{r(rootExpired)}, false},
		{"direct-other-ca-only", "only a CRL of an unrelated CA", 2, []crl{o(otherEmpty)}, false},
	}
	srv3 := g.server("crl-3", testpki.ChainPEM(leaf3, inter), leaf3.KeyPEM, "both", nil, nil)
	srv2 := g.server("crl-2", leaf2.CertPEM, leaf2.KeyPEM, "both", nil, nil)
	srvFor := func(shape int) *Server {
		if shape == 2 {
			return srv2
		}
		return srv3
	}
	roots := rootFile(root)
	cat := func(cs []crl) []byte {
		var b []byte
		for _, c := range cs {
			b = append(b, c.pem...)
		}
		return b
	}
	dirFiles := func(cs []crl, wrong bool) []File {
		files := []File{{Path: "crls", Dir: true}}
		n := map[string]int{}
		for k, c := range cs {
			name := fmt.Sprintf("%s.r%d", c.hash, n[c.hash])
			n[c.hash]++
			if wrong {
				name = fmt.Sprintf("crl%d.pem", k)
			}
			files = append(files, File{Path: "crls/" + name, Data: c.pem, Mode: 0o644})
		}
		return files
	}
	for _, v := range variants {
		srv := srvFor(v.shape)
		shape := fmt.Sprintf("%d-level chain", v.shape)
		deliveries := []struct {
			id, desc string
			files    []File
			param    string
		}{
			{"sslcrl", "in the sslcrl file", []File{{Path: "crl.pem", Data: cat(v.crls), Mode: 0o644}}, "sslcrl={home}/crl.pem"},
			{"sslcrldir", "in sslcrldir under hashed names", dirFiles(v.crls, false), "sslcrldir={home}/crls"},
			{"sslcrldir-wrong-names", "in sslcrldir under other names", dirFiles(v.crls, true), "sslcrldir={home}/crls"},
			{"default-root-crl", "in ~/.postgresql/root.crl", []File{{Path: rootCrl, Data: cat(v.crls), Mode: 0o644}}, ""},
		}
		for k, d := range deliveries {
			extra := "sslmode=verify-ca"
			if d.param != "" {
				extra += " " + d.param
			}
			g.add(Case{
				ID: fmt.Sprintf("%s/%s/%s", GroupRevocation, v.id, d.id), Group: GroupRevocation,
				Desc:   fmt.Sprintf("%s: %s, %s, verify-ca", shape, v.desc, d.desc),
				Server: srv, Files: append([]File{roots}, d.files...),
				DSN:  dsn("localhost", extra),
				Fast: v.fast && (k == 0 || (k == 1 && v.id == "leaf-revoked")),
			})
		}
	}

	clean3 := cat([]crl{r(rootEmpty), i(interEmpty)})
	revoked3 := cat([]crl{r(rootEmpty), i(interRevLeaf3)})
	add := func(id, desc string, srv *Server, files []File, extra string, fast bool) {
		g.add(Case{ID: GroupRevocation + "/" + id, Group: GroupRevocation, Desc: desc, Server: srv, Files: files,
			DSN: dsn("localhost", extra), Fast: fast})
	}
	add("none/no-crl", "3-level chain, no CRL anywhere, verify-ca", srv3, []File{roots}, "sslmode=verify-ca", true)
	add("unreadable/sslcrl-missing-file", "sslcrl names a missing file, verify-ca", srv3, []File{roots}, "sslmode=verify-ca sslcrl={home}/missing.crl", true)
	add("unreadable/sslcrl-directory", "sslcrl names a directory, verify-ca", srv3, []File{roots, {Path: "crldir", Dir: true}}, "sslmode=verify-ca sslcrl={home}/crldir", false)
	add("unreadable/sslcrl-garbage", "sslcrl holds no CRL, verify-ca", srv3, []File{roots, {Path: "crl.pem", Data: []byte("garbage\n"), Mode: 0o644}}, "sslmode=verify-ca sslcrl={home}/crl.pem", false)
	add("unreadable/sslcrl-empty", "sslcrl is an empty file, verify-ca", srv3, []File{roots, {Path: "crl.pem", Data: []byte{}, Mode: 0o644}}, "sslmode=verify-ca sslcrl={home}/crl.pem", false)
	add("unreadable/sslcrl-certificate", "sslcrl holds a certificate instead of a CRL, verify-ca", srv3, []File{roots, {Path: "crl.pem", Data: root.CertPEM, Mode: 0o644}}, "sslmode=verify-ca sslcrl={home}/crl.pem", false)
	add("unreadable/sslcrldir-missing", "sslcrldir names a missing directory, verify-ca", srv3, []File{roots}, "sslmode=verify-ca sslcrldir={home}/missing", true)
	add("unreadable/sslcrldir-empty", "sslcrldir names an empty directory, verify-ca", srv3, []File{roots, {Path: "crls", Dir: true}}, "sslmode=verify-ca sslcrldir={home}/crls", false)
	add("unreadable/sslcrl-missing-and-sslcrldir", "sslcrl names a missing file, sslcrldir holds a revoking CRL, verify-ca", srv3,
		append([]File{roots}, dirFiles([]crl{r(rootEmpty), i(interRevLeaf3)}, false)...), "sslmode=verify-ca sslcrl={home}/missing.crl sslcrldir={home}/crls", false)
	add("both/sslcrl-and-sslcrldir", "sslcrl holds the root's CRL, sslcrldir the intermediate's, verify-ca", srv3,
		append([]File{roots, {Path: "crl.pem", Data: rootEmpty, Mode: 0o644}}, dirFiles([]crl{i(interEmpty)}, false)...), "sslmode=verify-ca sslcrl={home}/crl.pem sslcrldir={home}/crls", false)
	add("both/sslcrl-and-sslcrldir-revoked", "sslcrl holds the root's CRL, sslcrldir the intermediate's revoking the leaf, verify-ca", srv3,
		append([]File{roots, {Path: "crl.pem", Data: rootEmpty, Mode: 0o644}}, dirFiles([]crl{i(interRevLeaf3)}, false)...), "sslmode=verify-ca sslcrl={home}/crl.pem sslcrldir={home}/crls", false)
	add("mode/require-no-root-revoked", "leaf revoked, require without root file", srv3, []File{{Path: "crl.pem", Data: revoked3, Mode: 0o644}}, "sslmode=require sslcrl={home}/crl.pem", true)
	add("mode/require-root-revoked", "leaf revoked, require with a root file", srv3, []File{roots, {Path: "crl.pem", Data: revoked3, Mode: 0o644}}, "sslmode=require sslcrl={home}/crl.pem", false)
	add("mode/prefer-root-revoked", "leaf revoked, prefer with a root file", srv3, []File{roots, {Path: "crl.pem", Data: revoked3, Mode: 0o644}}, "sslmode=prefer sslcrl={home}/crl.pem", false)
	add("mode/verify-full-revoked", "leaf revoked, verify-full", srv3, []File{roots, {Path: "crl.pem", Data: revoked3, Mode: 0o644}}, "sslmode=verify-full sslcrl={home}/crl.pem", false)
	add("mode/verify-full-clean", "CRLs clean, verify-full", srv3, []File{roots, {Path: "crl.pem", Data: clean3, Mode: 0o644}}, "sslmode=verify-full sslcrl={home}/crl.pem", false)
	add("crl-in-root-file/no-sslcrl", "revoking CRLs in the root file, no sslcrl, verify-ca", srv3,
		[]File{{Path: rootCrt, Data: append(append([]byte{}, root.CertPEM...), revoked3...), Mode: 0o644}}, "sslmode=verify-ca", false)
	add("crl-in-root-file/with-sslcrl", "revoking CRLs in the root file, sslcrl holds an unrelated CA's CRL, verify-ca", srv3,
		[]File{{Path: rootCrt, Data: append(append([]byte{}, root.CertPEM...), revoked3...), Mode: 0o644}, {Path: "crl.pem", Data: otherEmpty, Mode: 0o644}},
		"sslmode=verify-ca sslcrl={home}/crl.pem", false)
	derOf := func(p []byte) []byte {
		b, _ := pem.Decode(p)
		return b.Bytes
	}
	add("der/sslcrl-der-clean", "sslcrl is a DER file: the root's CRL, nothing revoked, 2-level chain, verify-ca", srv2,
		[]File{roots, {Path: "crl.der", Data: derOf(rootEmpty), Mode: 0o644}}, "sslmode=verify-ca sslcrl={home}/crl.der", false)
	add("der/sslcrl-der-revoked", "sslcrl is a DER file revoking the leaf, 2-level chain, verify-ca", srv2,
		[]File{roots, {Path: "crl.der", Data: derOf(rootRevLeaf2), Mode: 0o644}}, "sslmode=verify-ca sslcrl={home}/crl.der", true)
	add("env/PGSSLCRL", "PGSSLCRL names a CRL file revoking the leaf, verify-ca", srv3, []File{roots, {Path: "crl.pem", Data: revoked3, Mode: 0o644}}, "sslmode=verify-ca", false)
	g.cases[len(g.cases)-1].Env = map[string]string{"PGSSLCRL": "{home}/crl.pem"}
	add("env/PGSSLCRLDIR", "PGSSLCRLDIR names a hashed directory revoking the leaf, verify-ca", srv3,
		append([]File{roots}, dirFiles([]crl{r(rootEmpty), i(interRevLeaf3)}, false)...), "sslmode=verify-ca", false)
	g.cases[len(g.cases)-1].Env = map[string]string{"PGSSLCRLDIR": "{home}/crls"}
	add("default-root-crl/overridden-by-sslcrl", "~/.postgresql/root.crl revokes the leaf, sslcrl names a clean file, verify-ca", srv3,
		[]File{roots, {Path: rootCrl, Data: revoked3, Mode: 0o644}, {Path: "crl.pem", Data: clean3, Mode: 0o644}}, "sslmode=verify-ca sslcrl={home}/crl.pem", false)
	add("default-root-crl/overridden-by-sslcrldir", "~/.postgresql/root.crl revokes the leaf, sslcrldir holds clean CRLs, verify-ca", srv3,
		append([]File{roots, {Path: rootCrl, Data: revoked3, Mode: 0o644}}, dirFiles([]crl{r(rootEmpty), i(interEmpty)}, false)...), "sslmode=verify-ca sslcrldir={home}/crls", false)
}
