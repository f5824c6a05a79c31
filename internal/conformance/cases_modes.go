// This file holds the cases of sslmode, root file and pg_hba.conf.

package conformance

import "fmt"

// modes: every sslmode, with no root file, the right one and a wrong one,
// against servers whose pg_hba.conf allows TLS only, plaintext only or both.
func (g *gen) modes() {
	p := g.std()
	roots := []struct {
		name  string
		files []File
		desc  string
	}{
		{"noroot", nil, "no root file"},
		{"rootok", []File{rootFile(p.rootA)}, "root file with the right CA"},
		{"rootbad", []File{rootFile(p.rootB)}, "root file with another CA"},
	}
	modes := []string{"", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
	for _, hba := range []string{"both", "tls", "plain"} {
		srv := g.server("std-"+hba, p.chain, p.leaf.KeyPEM, hba, nil, nil)
		for _, r := range roots {
			for _, m := range modes {
				extra, mname := "sslmode="+m, m
				if m == "" {
					extra, mname = "", "unset"
				}
				fast := (hba == "both" || m == "require" || m == "prefer") && (r.name != "rootok" || m == "verify-full" || m == "require")
				g.add(Case{
					ID:     fmt.Sprintf("%s/%s/hba-%s/%s", GroupModes, mname, hba, r.name),
					Group:  GroupModes,
					Desc:   fmt.Sprintf("sslmode %s, %s, pg_hba %s", mname, r.desc, hba),
					Server: srv,
					Files:  r.files,
					DSN:    dsn("localhost", extra),
					Fast:   fast,
				})
			}
		}
	}

	srv := g.existing("std-both")
	add := func(id, desc string, files []File, d string, env map[string]string, fast bool) {
		g.add(Case{ID: GroupModes + "/" + id, Group: GroupModes, Desc: desc, Server: srv, Files: files, DSN: d, Env: env, Fast: fast})
	}
	other := File{Path: "roots/a.pem", Data: p.rootA.CertPEM, Mode: 0o644}
	otherB := File{Path: "roots/b.pem", Data: p.rootB.CertPEM, Mode: 0o644}
	add("sslrootcert-explicit/verify-full", "sslrootcert names the right CA outside ~/.postgresql",
		[]File{other}, dsn("localhost", "sslmode=verify-full sslrootcert={home}/roots/a.pem"), nil, true)
	add("sslrootcert-explicit/beats-default", "sslrootcert names the right CA, ~/.postgresql/root.crt a wrong one",
		[]File{other, rootFile(p.rootB)}, dsn("localhost", "sslmode=verify-ca sslrootcert={home}/roots/a.pem"), nil, false)
	add("sslrootcert-explicit/wrong-ca-require", "sslrootcert names another CA, sslmode require",
		[]File{otherB}, dsn("localhost", "sslmode=require sslrootcert={home}/roots/b.pem"), nil, true)
	add("sslrootcert-missing/require", "sslrootcert names a missing file, sslmode require",
		nil, dsn("localhost", "sslmode=require sslrootcert={home}/missing.crt"), nil, false)
	add("sslrootcert-missing/prefer", "sslrootcert names a missing file, sslmode prefer",
		nil, dsn("localhost", "sslmode=prefer sslrootcert={home}/missing.crt"), nil, false)
	add("sslrootcert-missing/verify-ca", "sslrootcert names a missing file, sslmode verify-ca",
		nil, dsn("localhost", "sslmode=verify-ca sslrootcert={home}/missing.crt"), nil, true)
	add("sslrootcert-missing/verify-full", "sslrootcert names a missing file, sslmode verify-full",
		[]File{rootFile(p.rootA)}, dsn("localhost", "sslmode=verify-full sslrootcert={home}/missing.crt"), nil, false)
	add("sslrootcert-empty-value/verify-ca", "sslrootcert set to the empty string, root.crt present, verify-ca",
		[]File{rootFile(p.rootA)}, dsn("localhost", "sslmode=verify-ca sslrootcert=''"), nil, false)
	add("sslrootcert-directory/require", "sslrootcert names a directory, sslmode require",
		[]File{{Path: "rootdir", Dir: true}}, dsn("localhost", "sslmode=require sslrootcert={home}/rootdir"), nil, false)
	add("root-garbage/require", "root.crt holds no certificate, sslmode require",
		[]File{{Path: rootCrt, Data: []byte("not a certificate\n"), Mode: 0o644}}, dsn("localhost", "sslmode=require"), nil, true)
	add("root-garbage/prefer", "root.crt holds no certificate, sslmode prefer",
		[]File{{Path: rootCrt, Data: []byte("not a certificate\n"), Mode: 0o644}}, dsn("localhost", "sslmode=prefer"), nil, false)
	add("root-garbage/verify-full", "root.crt holds no certificate, sslmode verify-full",
		[]File{{Path: rootCrt, Data: []byte("not a certificate\n"), Mode: 0o644}}, dsn("localhost", "sslmode=verify-full"), nil, false)
	add("root-empty/require", "root.crt is empty, sslmode require",
		[]File{{Path: rootCrt, Data: []byte{}, Mode: 0o644}}, dsn("localhost", "sslmode=require"), nil, false)
	add("root-truncated/verify-ca", "root.crt holds a truncated PEM block, sslmode verify-ca",
		[]File{{Path: rootCrt, Data: p.rootA.CertPEM[:len(p.rootA.CertPEM)/2], Mode: 0o644}}, dsn("localhost", "sslmode=verify-ca"), nil, false)
	add("root-with-junk/verify-ca", "root.crt holds text around the right CA's PEM block, sslmode verify-ca",
		[]File{{Path: rootCrt, Data: append(append([]byte("Subject: test root\n"), p.rootA.CertPEM...), "trailing words\n"...), Mode: 0o644}},
		dsn("localhost", "sslmode=verify-ca"), nil, false)
	add("env/PGSSLMODE-verify-full", "PGSSLMODE=verify-full, right root file",
		[]File{rootFile(p.rootA)}, dsn("localhost", ""), map[string]string{"PGSSLMODE": "verify-full"}, true)
	add("env/PGSSLMODE-verify-full-wrong-host", "PGSSLMODE=verify-full, host name not in the certificate",
		[]File{rootFile(p.rootA)}, dsn("other.test", ""), map[string]string{"PGSSLMODE": "verify-full"}, false)
	add("env/PGSSLMODE-overridden", "PGSSLMODE=verify-full overridden by sslmode=require in the string",
		[]File{rootFile(p.rootB)}, dsn("localhost", "sslmode=require"), map[string]string{"PGSSLMODE": "verify-full"}, false)
	add("env/PGSSLROOTCERT", "PGSSLROOTCERT names the right CA, sslmode verify-full",
		[]File{other}, dsn("localhost", "sslmode=verify-full"), map[string]string{"PGSSLROOTCERT": "{home}/roots/a.pem"}, false)
	add("env/PGSSLROOTCERT-wrong", "PGSSLROOTCERT names another CA, sslmode require",
		[]File{otherB}, dsn("localhost", "sslmode=require"), map[string]string{"PGSSLROOTCERT": "{home}/roots/b.pem"}, false)
	add("uri/verify-full", "URI with sslmode=verify-full",
		[]File{rootFile(p.rootA)}, "postgresql://postgres@localhost:{port}/postgres?hostaddr=127.0.0.1&sslmode=verify-full&connect_timeout=10", nil, true)
	add("uri/sslrootcert", "URI with a percent-encoded sslrootcert path",
		[]File{{Path: "my roots/a.pem", Data: p.rootA.CertPEM, Mode: 0o644}},
		"postgresql://postgres@localhost:{port}/postgres?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={home}/my%20roots/a.pem&connect_timeout=10", nil, false)
	add("requiressl/1", "deprecated requiressl=1 with a wrong root file",
		[]File{rootFile(p.rootB)}, dsn("localhost", "requiressl=1"), nil, false)
	add("invalid-sslmode", "sslmode=verify",
		nil, dsn("localhost", "sslmode=verify"), nil, true)
	add("sslmode-case", "sslmode=REQUIRE (upper case)",
		nil, dsn("localhost", "sslmode=REQUIRE"), nil, false)

	// sslrootcert=system (libpq 16): the local libpq takes "system" for a
	// file name. The test CA is in no system store.
	system := []struct {
		id, extra, desc string
		want            *Verdict
	}{
		{"system/no-sslmode", "sslrootcert=system", "sslrootcert=system without sslmode (defaults to verify-full)",
			&Verdict{Outcome: Fail, Message: "SSL error: certificate verify failed"}},
		{"system/verify-full", "sslrootcert=system sslmode=verify-full", "sslrootcert=system, verify-full",
			&Verdict{Outcome: Fail, Message: "SSL error: certificate verify failed"}},
		{"system/verify-ca", "sslrootcert=system sslmode=verify-ca", "sslrootcert=system, verify-ca",
			&Verdict{Outcome: Fail, Message: `weak sslmode "verify-ca" may not be used with sslrootcert=system (use "verify-full")`}},
		{"system/require", "sslrootcert=system sslmode=require", "sslrootcert=system, require",
			&Verdict{Outcome: Fail, Message: `weak sslmode "require" may not be used with sslrootcert=system (use "verify-full")`}},
	}
	for _, c := range system {
		g.add(Case{ID: GroupModes + "/" + c.id, Group: GroupModes, Desc: c.desc, Server: srv,
			Files: []File{rootFile(p.rootA)}, DSN: dsn("localhost", c.extra), Fast: c.id == "system/require",
			MinLibpq: 16, Expect: c.want,
			Note: "sslrootcert=system is new in libpq 16; expected verdict from libpq 16's source"})
	}
}
