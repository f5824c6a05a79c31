// This file holds LISTEN/NOTIFY over pqssl: a pq.Listener whose
// connections, reconnects included, are opened by pqssl's dialer.

package pqssl

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// NewListener returns a [pq.Listener] for the Connector's connection string.
// Every connection it opens, the first and each reconnect after a lost
// connection, goes through pqssl: the SSLRequest or direct TLS, verification
// by libpq's rules, the client certificate and key, and password
// authentication with channel_binding and the password file. An attempt
// that fails, a certificate that does not verify for instance, is reported
// to eventCallback as a [pq.ListenerEventConnectionAttemptFailed] event with
// pqssl's error, and the Listener tries again after minReconnectInterval,
// doubling up to maxReconnectInterval, as lib/pq's Listener does.
//
// The Listener tries the hosts of the connection string in order (shuffled
// for load_balance_hosts=random) and checks target_session_attrs with
// lib/pq's rules. It makes one encryption attempt per host: TLS for
// sslmode=require and stronger, TLS or the plaintext the server offers for
// prefer, plaintext for allow and disable. A prefer or allow session that
// libpq would retry with the other encryption after a failed attempt is not
// retried; the next reconnect tries again.
func (c *Connector) NewListener(minReconnectInterval, maxReconnectInterval time.Duration, eventCallback pq.EventCallbackType) *pq.Listener {
	d := &listenerDialer{c: c, hosts: make(map[string]hostSpec)}
	for _, h := range c.cfg.hosts {
		network, address := h.pqAddress()
		if _, dup := d.hosts[network+" "+address]; !dup {
			d.hosts[network+" "+address] = h
		}
	}
	return pq.NewDialListener(pqDialer(d.DialContext), c.listenerConnString(), minReconnectInterval, maxReconnectInterval, eventCallback)
}

// listenerDialer is the pq.Dialer of a Listener. lib/pq dials the address
// of each host of the connection string listenerConnString gave it; the
// dialer finds that host again and connects to it as Connect would.
type listenerDialer struct {
	c     *Connector
	hosts map[string]hostSpec // by network and address, as lib/pq dials them
}

// DialContext connects to the host lib/pq chose, with the first encryption
// attempt of the host's sslmode.
func (d *listenerDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	h, ok := d.hosts[network+" "+address]
	if !ok {
		// lib/pq dials only the addresses of listenerConnString; anything
		// else would be a connection pqssl has not vetted.
		return nil, fmt.Errorf("pqssl: listener asked to dial %s %s, which is not a host of the connection string", network, address)
	}
	enc := encTLS
	switch d.c.cfg.sslmode {
	case "disable", "allow":
		enc = encPlain
	case "prefer":
		enc = encTLSOrPlain
	}
	// Each dial is a session of its own: lib/pq's Listener never cancels.
	nd := &dialer{c: d.c, host: h, enc: enc, session: &sessionSocket{}}
	return nd.DialContext(ctx, network, address)
}

// pqAddress is the network and address lib/pq dials for h.
func (h hostSpec) pqAddress() (network, address string) {
	port := strconv.Itoa(int(h.port))
	switch {
	case h.hostaddr != "":
		return "tcp", net.JoinHostPort(h.hostaddr, port)
	case h.isSocket():
		return "unix", filepath.Join(h.host, ".s.PGSQL."+port)
	default:
		return "tcp", net.JoinHostPort(h.host, port)
	}
}

// listenerConnString is the connection string lib/pq's Listener parses: the
// session parameters of the Connector's configuration, with TLS switched
// off because the dialer has done it by the time lib/pq sees the connection,
// and no password, which the dialer's authentication answers. Every
// parameter lib/pq would otherwise take from the environment or a service
// file is given explicitly, so that lib/pq connects exactly as configured.
func (c *Connector) listenerConnString() string {
	cfg := c.cfg
	var hosts, addrs, ports []string
	for _, h := range cfg.hosts {
		name := h.host
		if name == "" {
			name = h.hostaddr
		}
		hosts = append(hosts, name)
		addrs = append(addrs, h.hostaddr)
		ports = append(ports, strconv.Itoa(int(h.port)))
	}
	pc := c.pqConfig(cfg.hosts[0])
	tsa := cfg.targetSessionAttrs
	kv := [][2]string{
		{"host", strings.Join(hosts, ",")},
		{"port", strings.Join(ports, ",")},
		{"dbname", pc.Database},
		{"user", pc.User},
		{"passfile", filepath.Join(os.DevNull, "pgpass")},
		{"service", ""},
		{"sslmode", "disable"},
		{"options", pc.Options},
		{"application_name", pc.ApplicationName},
		{"connect_timeout", strconv.Itoa(int(pc.ConnectTimeout / time.Second))},
		{"binary_parameters", boolParam(pc.BinaryParameters)},
		{"disable_prepared_binary_result", boolParam(pc.DisablePreparedBinaryResult)},
		{"client_encoding", pc.ClientEncoding},
		{"datestyle", pc.Datestyle},
		{"target_session_attrs", tsa},
		{"load_balance_hosts", cfg.loadBalanceHosts},
		{"min_protocol_version", string(pc.MinProtocolVersion)},
		{"max_protocol_version", string(pc.MaxProtocolVersion)},
	}
	if strings.Join(addrs, "") != "" {
		kv = append(kv, [2]string{"hostaddr", strings.Join(addrs, ",")})
	}
	if pc.KrbSrvname != "" {
		kv = append(kv, [2]string{"krbsrvname", pc.KrbSrvname})
	}
	if pc.KrbSpn != "" {
		kv = append(kv, [2]string{"krbspn", pc.KrbSpn})
	}
	keys := make([]string, 0, len(pc.Runtime))
	for k := range pc.Runtime {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv = append(kv, [2]string{k, pc.Runtime[k]})
	}
	var b strings.Builder
	for _, p := range kv {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p[0])
		b.WriteString("='")
		b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(p[1]))
		b.WriteByte('\'')
	}
	return b.String()
}

func boolParam(v bool) string {
	if v {
		return "1"
	}
	return "0"
}
