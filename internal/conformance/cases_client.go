// This file holds the client certificate and sslcertmode cases.

package conformance

import (
	"crypto/x509"
	"fmt"
	"os"

	"github.com/pqssl/pqssl/internal/testpki"
)

// client: client certificates from the default files and from parameters,
// against servers that do and do not ask for one, and sslcertmode.
func (g *gen) client() {
	p := g.std()
	croot := g.b.root(testpki.Spec{CommonName: "Client Root"})
	cinter := g.b.issue(croot, testpki.Spec{CommonName: "Client Intermediate", IsCA: true})
	cleaf := g.b.issue(cinter, testpki.Spec{CommonName: "postgres", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	otherUser := g.b.issue(cinter, testpki.Spec{CommonName: "somebody-else", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	stranger := g.b.root(testpki.Spec{CommonName: "postgres"}) // self-signed, unknown to the server
	otherKey := g.b.issue(cinter, testpki.Spec{CommonName: "postgres"})

	chain := testpki.ChainPEM(cleaf, cinter)
	asks := g.server("client-asks-trust", p.chain, p.leaf.KeyPEM, "both", croot.CertPEM, nil)
	needs := g.server("client-asks-cert", p.chain, p.leaf.KeyPEM, "cert", croot.CertPEM, nil)
	quiet := g.existing("std-both")

	type setup struct {
		id, desc string
		files    []File
	}
	crt := func(data []byte) File { return File{Path: userCrt, Data: data, Mode: 0o644} }
	key := func(data []byte, mode ...int) File {
		m := 0o600
		if len(mode) > 0 {
			m = mode[0]
		}
		return File{Path: userKey, Data: data, Mode: os.FileMode(m)}
	}
	setups := []setup{
		{"chain", "client chain (leaf and intermediate) in ~/.postgresql", []File{crt(chain), key(cleaf.KeyPEM)}},
		{"leaf-only", "client leaf without its intermediate", []File{crt(cleaf.CertPEM), key(cleaf.KeyPEM)}},
		{"none", "no client certificate", nil},
		{"other-user", "client certificate for another user name", []File{crt(testpki.ChainPEM(otherUser, cinter)), key(otherUser.KeyPEM)}},
		{"unknown-ca", "self-signed client certificate unknown to the server", []File{crt(stranger.CertPEM), key(stranger.KeyPEM)}},
		{"key-0644", "client key readable by everyone", []File{crt(chain), key(cleaf.KeyPEM, 0o644)}},
		{"key-0640", "client key readable by the group", []File{crt(chain), key(cleaf.KeyPEM, 0o640)}},
		{"key-missing", "client certificate without a key file", []File{crt(chain)}},
		{"key-mismatch", "client key of another certificate", []File{crt(chain), key(otherKey.KeyPEM)}},
		{"key-garbage", "client key file holds no key", []File{crt(chain), key([]byte("not a key\n"))}},
		{"cert-garbage", "client certificate file holds no certificate", []File{crt([]byte("not a certificate\n")), key(cleaf.KeyPEM)}},
	}
	servers := []struct {
		id, desc string
		srv      *Server
	}{
		{"asks-trust", "server asks for a certificate, trust authentication", asks},
		{"asks-cert", "server asks for a certificate, cert authentication", needs},
		{"no-ask", "server does not ask for a certificate", quiet},
	}
	for _, s := range servers {
		for _, c := range setups {
			fast := (c.id == "chain" || c.id == "none") && s.id != "no-ask" || c.id == "key-0644" && s.id == "no-ask"
			// With TLS 1.3 the server judges the client's certificate
			// after the client has finished its handshake.
			race := s.srv.ClientCA != nil && (c.id == "leaf-only" || c.id == "unknown-ca")
			g.add(Case{
				ID: fmt.Sprintf("%s/%s/%s", GroupClient, s.id, c.id), Group: GroupClient,
				Desc:   fmt.Sprintf("%s; %s, require", s.desc, c.desc),
				Server: s.srv, Files: c.files,
				DSN:       dsn("localhost", "sslmode=require"),
				Fast:      fast,
				AlertRace: race,
			})
		}
	}
	// Under TLS 1.2 the server rejects a client certificate during the
	// handshake, so every client reports the server's alert.
	asks12 := g.server("client-asks-trust-tls12", p.chain, p.leaf.KeyPEM, "both", croot.CertPEM, map[string]string{"ssl_max_protocol_version": "TLSv1.2"})
	for _, c := range setups {
		if c.id != "leaf-only" && c.id != "unknown-ca" && c.id != "chain" {
			continue
		}
		g.add(Case{
			ID: fmt.Sprintf("%s/asks-trust-tls12/%s", GroupClient, c.id), Group: GroupClient,
			Desc:   fmt.Sprintf("server limited to TLS 1.2 asks for a certificate, trust authentication; %s, require", c.desc),
			Server: asks12, Files: c.files,
			DSN:  dsn("localhost", "sslmode=require"),
			Fast: c.id == "unknown-ca",
		})
	}
	params := []File{
		{Path: "client/me.crt", Data: chain, Mode: 0o644},
		{Path: "client/me.key", Data: cleaf.KeyPEM, Mode: 0o600},
	}
	add := func(id, desc string, srv *Server, files []File, extra string, env map[string]string, fast bool) {
		g.add(Case{ID: GroupClient + "/" + id, Group: GroupClient, Desc: desc, Server: srv, Files: files,
			DSN: dsn("localhost", extra), Env: env, Fast: fast})
	}
	add("params/sslcert-sslkey", "sslcert and sslkey name the client files, cert authentication", needs, params,
		"sslmode=require sslcert={home}/client/me.crt sslkey={home}/client/me.key", nil, true)
	add("params/sslcert-missing", "sslcert names a missing file, cert authentication", needs, params,
		"sslmode=require sslcert={home}/client/missing.crt sslkey={home}/client/me.key", nil, false)
	add("params/sslcert-missing-trust", "sslcert names a missing file, trust authentication", asks, params,
		"sslmode=require sslcert={home}/client/missing.crt sslkey={home}/client/me.key", nil, false)
	add("params/sslkey-missing", "sslkey names a missing file", asks, params,
		"sslmode=require sslcert={home}/client/me.crt sslkey={home}/client/missing.key", nil, false)
	add("params/env-PGSSLCERT", "PGSSLCERT and PGSSLKEY name the client files, cert authentication", needs, params,
		"sslmode=require", map[string]string{"PGSSLCERT": "{home}/client/me.crt", "PGSSLKEY": "{home}/client/me.key"}, false)
	add("params/sslcert-empty", "sslcert set to the empty string, default files present, cert authentication", needs,
		[]File{crt(chain), key(cleaf.KeyPEM)}, "sslmode=require sslcert=''", nil, false)
	add("params/plaintext-ignores-key", "key readable by everyone, sslmode disable", quiet,
		[]File{crt(chain), key(cleaf.KeyPEM, 0o644)}, "sslmode=disable", nil, false)
	add("params/prefer-bad-key", "key readable by everyone, sslmode prefer", quiet,
		[]File{crt(chain), key(cleaf.KeyPEM, 0o644)}, "sslmode=prefer", nil, false)

	// An encrypted key (legacy PEM encryption, AES-256-CBC).
	encKey := g.b.encryptedKey(cleaf, "correct horse")
	add("encrypted-key/right-password", "encrypted client key, right sslpassword, cert authentication", needs,
		[]File{crt(chain), key(encKey)}, "sslmode=require sslpassword='correct horse'", nil, true)
	add("encrypted-key/wrong-password", "encrypted client key, wrong sslpassword", needs,
		[]File{crt(chain), key(encKey)}, "sslmode=require sslpassword=wrong", nil, false)
	add("encrypted-key/no-password", "encrypted client key, no sslpassword (libpq cannot prompt without a terminal)", needs,
		[]File{crt(chain), key(encKey)}, "sslmode=require", nil, false)

	// sslcertmode (libpq 16): the local libpq rejects the keyword, so the
	// expected verdicts come from libpq 16's source (fe-auth.c,
	// check_expected_areq; fe-secure-openssl.c, cert_cb).
	ok := &Verdict{Outcome: TLS}
	needCert := &Verdict{Outcome: Fail, Message: `FATAL: connection requires a valid client certificate`}
	notRequested := &Verdict{Outcome: Fail, Message: "server did not request an SSL certificate"}
	notSent := &Verdict{Outcome: Fail, Message: "server accepted connection without a valid SSL certificate"}
	invalid := &Verdict{Outcome: Fail, Message: `invalid sslcertmode value: "sometimes"`}
	certmode := []struct {
		mode    string
		srv     string
		hasCert bool
		want    *Verdict
		fast    bool
	}{
		{"disable", "asks-trust", true, ok, false},
		{"disable", "asks-cert", true, needCert, true},
		{"disable", "no-ask", true, ok, false},
		{"allow", "asks-trust", true, ok, false},
		{"allow", "asks-cert", true, ok, false},
		{"allow", "asks-cert", false, needCert, false},
		{"allow", "no-ask", false, ok, false},
		{"require", "asks-trust", true, ok, false},
		{"require", "asks-trust", false, notSent, true},
		{"require", "asks-cert", true, ok, true},
		{"require", "asks-cert", false, needCert, false},
		{"require", "no-ask", true, notRequested, true},
		{"require", "no-ask", false, notRequested, false},
		{"sometimes", "no-ask", false, invalid, false},
	}
	srvByID := map[string]*Server{"asks-trust": asks, "asks-cert": needs, "no-ask": quiet}
	for _, c := range certmode {
		var files []File
		have := "no client certificate"
		id := "nocert"
		if c.hasCert {
			files, have, id = []File{crt(chain), key(cleaf.KeyPEM)}, "client chain present", "cert"
		}
		var sdesc string
		for _, s := range servers {
			if s.id == c.srv {
				sdesc = s.desc
			}
		}
		g.add(Case{
			ID: fmt.Sprintf("%s/sslcertmode-%s/%s/%s", GroupClient, c.mode, c.srv, id), Group: GroupClient,
			Desc:   fmt.Sprintf("sslcertmode=%s; %s; %s, require", c.mode, sdesc, have),
			Server: srvByID[c.srv], Files: files,
			DSN:      dsn("localhost", "sslmode=require sslcertmode="+c.mode),
			Fast:     c.fast,
			MinLibpq: 16, Expect: c.want,
			Note: "sslcertmode is new in libpq 16; expected verdict from libpq 16's source",
		})
	}
	g.add(Case{
		ID: GroupClient + "/env-PGSSLCERTMODE-require/no-ask", Group: GroupClient,
		Desc:   "PGSSLCERTMODE=require; server does not ask for a certificate; client chain present, require",
		Server: quiet, Files: []File{crt(chain), key(cleaf.KeyPEM)},
		DSN:      dsn("localhost", "sslmode=require"),
		Env:      map[string]string{"PGSSLCERTMODE": "require"},
		MinLibpq: 16, Expect: notRequested,
		Note: "libpq 15 ignores PGSSLCERTMODE; expected verdict from libpq 16's source",
	})
	g.add(Case{
		ID: GroupClient + "/sslcertmode-require/prefer-plaintext", Group: GroupClient,
		Desc:   "sslcertmode=require with sslmode=prefer against a plaintext-only server",
		Server: g.existing("std-plain"),
		DSN:    dsn("localhost", "sslmode=prefer sslcertmode=require"),
		// pg_hba.conf refuses the TLS session; prefer retries in plaintext,
		// where nothing asked for a certificate, so check_expected_areq
		// fails that session at AuthenticationOk.
		MinLibpq: 16, Expect: &Verdict{Outcome: Fail, Message: `FATAL: no pg_hba.conf entry for host "127.0.0.1", user "postgres", ` +
			`database "postgres", SSL encryption / server did not request an SSL certificate`},
		Note: "sslcertmode is new in libpq 16; expected verdict from libpq 16's source",
	})
}
