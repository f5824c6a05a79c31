// This file holds the phases of a connection, as a pipe's Observer sees
// PostgreSQL's negotiation and the TLS handshake pass.

package relay

import (
	"encoding/binary"

	"github.com/pqssl/pqssl/internal/tlswire"
)

// negotiation is what the two directions' Observers saw of PostgreSQL's
// negotiation before TLS.
type negotiation struct {
	sslRequest, gssRequest   bool
	sslResponse, gssResponse byte
	direct                   bool
}

// negotiated pairs the client's requests with the server's one-byte
// answers, which come in the same order.
func negotiated(client, server *tlswire.Observer) negotiation {
	var n negotiation
	if client == nil {
		return n
	}
	n.direct = client.TLSStart() == 0
	var answers []byte
	if server != nil {
		answers = server.Preamble()
	}
	pre := client.Preamble()
	for i := 0; (i+1)*8 <= len(pre); i++ {
		var answer byte
		if i < len(answers) {
			answer = answers[i]
		}
		switch binary.BigEndian.Uint32(pre[i*8+4:]) {
		case tlswire.SSLRequestCode:
			n.sslRequest, n.sslResponse = true, answer
		case tlswire.GSSENCRequestCode:
			n.gssRequest, n.gssResponse = true, answer
		}
	}
	return n
}

// tls reports whether the connection went on in TLS.
func (n negotiation) tls() bool { return n.direct || n.sslResponse == 'S' }

// analyze feeds data, the bytes that just arrived, to the pipe's Observer
// and reports the phases it has seen pass.
func (p *pipe) analyze(data []byte) {
	p.obs.Write(data)
	if p.obs.Done() {
		p.analyzing = false
	}
	switch p.dir {
	case ToClient:
		if !p.sslSeen && p.obs.TLSStart() > 0 {
			// TLS starts after the server's 'S'.
			p.sslSeen = true
			p.c.reachPhase(PhaseSSLResponse, ToClient, p.obs.TLSStart())
		}
		// Version is set by the ServerHello that is not a HelloRetryRequest.
		if !p.helloSeen && p.obs.Version() != 0 {
			p.helloSeen = true
			p.c.reachPhase(PhaseServerHello, ToClient, p.obs.HelloEnd())
		}
	case ToServer:
		if end := p.obs.EncryptedRecordEnd(); !p.helloSeen && end > 0 {
			p.helloSeen = true
			p.c.reachPhase(PhaseHandshake, ToServer, end)
		}
	}
}
