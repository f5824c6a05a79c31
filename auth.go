// This file holds the hand-over to internal/pgauth: the parameters and the
// sslcertmode hook each connection's password authentication gets.

package pqssl

import (
	"net"
	"strconv"

	"github.com/pqssl/pqssl/internal/pgauth"
)

// wrapAuth returns conn for lib/pq, wrapped so that pqssl answers the
// server's password authentication requests on lib/pq's behalf (package
// pgauth). certs is what became of the client certificate in the handshake,
// nil on a plaintext session: sslcertmode=require is checked against it when
// the server reports successful authentication, as libpq does.
func (d *dialer) wrapAuth(conn net.Conn, certs *clientCertExchange) net.Conn {
	cfg := d.c.cfg
	port := ""
	if d.host.port != 0 {
		port = strconv.Itoa(int(d.host.port))
	}
	p := pgauth.Params{
		ChannelBinding:   cfg.channelBinding,
		RequireAuth:      cfg.requireAuth,
		MinProtocolMinor: cfg.minProtocolMinor,
		User:             cfg.user,
		Password:         cfg.password,
		Passfile:         cfg.passfile,
		DBName:           cfg.dbname,
		Host:             d.host.host,
		HostAddr:         d.host.hostaddr,
		Port:             port,
		BeforeOK:         func() error { return certs.check(cfg.sslcertmode) },
	}
	if d.trace != nil {
		p.OnOK = func(o pgauth.Outcome) {
			d.trace.record(func(a *Attempt) { a.Authentication, a.ChannelBinding = o.Mechanism, o.Bound })
		}
	}
	return pgauth.Wrap(conn, p)
}
