// This file holds the cases of server behaviour and protocol settings.

package conformance

import "fmt"

// serverBehaviour: servers with TLS off or limited to some protocol
// versions, client protocol settings, SNI, and hosts that cannot be reached.
func (g *gen) serverBehaviour() {
	p := g.std()
	off := g.server("ssl-off", p.chain, p.leaf.KeyPEM, "both", nil, map[string]string{"ssl": "off"})
	for _, m := range []string{"", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"} {
		extra, mname := "sslmode="+m, m
		if m == "" {
			extra, mname = "", "unset"
		}
		for _, withRoot := range []bool{false, true} {
			var files []File
			rdesc, rid := "no root file", "noroot"
			if withRoot {
				files, rdesc, rid = []File{rootFile(p.rootA)}, "right root file", "rootok"
			}
			g.add(Case{
				ID:     fmt.Sprintf("%s/ssl-off/%s/%s", GroupServer, mname, rid),
				Group:  GroupServer,
				Desc:   fmt.Sprintf("server with ssl=off, sslmode %s, %s", mname, rdesc),
				Server: off, Files: files, DSN: dsn("localhost", extra),
				Fast: !withRoot && (m == "prefer" || m == "require"),
			})
		}
	}

	tls13 := g.server("tls13-only", p.chain, p.leaf.KeyPEM, "both", nil, map[string]string{"ssl_min_protocol_version": "TLSv1.3"})
	tls12 := g.server("tls12-only", p.chain, p.leaf.KeyPEM, "both", nil, map[string]string{"ssl_max_protocol_version": "TLSv1.2"})
	std := g.existing("std-both")
	stdTLS := g.existing("std-tls")
	add := func(id, desc string, srv *Server, files []File, d string, fast bool) {
		g.add(Case{ID: GroupServer + "/" + id, Group: GroupServer, Desc: desc, Server: srv, Files: files, DSN: d, Fast: fast})
	}
	add("tls13-server/client-max-1.2/require", "server needs TLS 1.3, client ssl_max_protocol_version=TLSv1.2, require",
		tls13, nil, dsn("localhost", "sslmode=require ssl_max_protocol_version=TLSv1.2"), true)
	add("tls13-server/client-max-1.2/prefer", "server needs TLS 1.3, client ssl_max_protocol_version=TLSv1.2, prefer",
		tls13, nil, dsn("localhost", "sslmode=prefer ssl_max_protocol_version=TLSv1.2"), true)
	add("tls13-server/client-max-1.2/allow", "server needs TLS 1.3, client ssl_max_protocol_version=TLSv1.2, allow",
		tls13, nil, dsn("localhost", "sslmode=allow ssl_max_protocol_version=TLSv1.2"), false)
	add("tls13-server/client-default", "server needs TLS 1.3, client defaults, verify-full",
		tls13, []File{rootFile(p.rootA)}, dsn("localhost", "sslmode=verify-full"), false)
	add("tls12-server/client-min-1.3/require", "server allows at most TLS 1.2, client ssl_min_protocol_version=TLSv1.3",
		tls12, nil, dsn("localhost", "sslmode=require ssl_min_protocol_version=TLSv1.3"), false)
	add("tls12-server/client-default", "server allows at most TLS 1.2, client defaults, verify-full",
		tls12, []File{rootFile(p.rootA)}, dsn("localhost", "sslmode=verify-full"), false)
	add("tls12-server/client-max-1.1", "server allows TLS 1.2, client ssl_max_protocol_version=TLSv1.1",
		tls12, nil, dsn("localhost", "sslmode=require ssl_max_protocol_version=TLSv1.1"), false)
	add("client-min-tls1.3", "ssl_min_protocol_version=TLSv1.3",
		std, nil, dsn("localhost", "sslmode=require ssl_min_protocol_version=TLSv1.3"), false)
	add("client-min-lowercase", "ssl_min_protocol_version=tlsv1.2 (lower case)",
		std, nil, dsn("localhost", "sslmode=require ssl_min_protocol_version=tlsv1.2"), false)
	add("client-min-invalid", "ssl_min_protocol_version=TLSv1.4",
		std, nil, dsn("localhost", "sslmode=require ssl_min_protocol_version=TLSv1.4"), true)
	add("client-max-invalid", "ssl_max_protocol_version=SSLv3",
		std, nil, dsn("localhost", "sslmode=require ssl_max_protocol_version=SSLv3"), false)
	add("client-range-inverted", "ssl_min_protocol_version=TLSv1.3 above ssl_max_protocol_version=TLSv1.2",
		std, nil, dsn("localhost", "sslmode=require ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2"), false)
	add("client-range-inverted-disable", "inverted protocol range with sslmode=disable",
		std, nil, dsn("localhost", "sslmode=disable ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2"), false)
	add("sslsni-0", "sslsni=0, verify-full",
		std, []File{rootFile(p.rootA)}, dsn("localhost", "sslmode=verify-full sslsni=0"), false)
	add("sslcompression-1", "sslcompression=1 (obsolete, ignored)",
		std, nil, dsn("localhost", "sslmode=require sslcompression=1"), false)
	add("multi-host/closed-then-good", "two hosts, the first port closed, verify-full",
		std, []File{rootFile(p.rootA)},
		"host=localhost,localhost hostaddr=127.0.0.1,127.0.0.1 port={closed},{port} user=postgres dbname=postgres connect_timeout=10 sslmode=verify-full", true)
	add("multi-host/wrong-name-first", "two hosts, the first one's name not in the certificate, verify-full",
		std, []File{rootFile(p.rootA)},
		"host=other.test,localhost hostaddr=127.0.0.1,127.0.0.1 port={port},{port} user=postgres dbname=postgres connect_timeout=10 sslmode=verify-full", true)
	add("multi-host/plain-refused-then-tls", "two hosts, TLS-only server, sslmode disable then the same",
		stdTLS, nil,
		"host=localhost,localhost hostaddr=127.0.0.1,127.0.0.1 port={port},{port} user=postgres dbname=postgres connect_timeout=10 sslmode=disable", false)
	add("closed-port/prefer", "nothing listens on the port, prefer",
		std, nil, "host=localhost hostaddr=127.0.0.1 port={closed} user=postgres dbname=postgres connect_timeout=10 sslmode=prefer", false)
	add("tls-server/prefer-wrong-root", "TLS-only server, prefer with a wrong root file",
		stdTLS, []File{rootFile(p.rootB)}, dsn("localhost", "sslmode=prefer"), false)
	add("tls-server/allow-wrong-root", "TLS-only server, allow with a wrong root file",
		stdTLS, []File{rootFile(p.rootB)}, dsn("localhost", "sslmode=allow"), false)
}
