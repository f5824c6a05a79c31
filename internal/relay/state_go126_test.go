//go:build go1.26

package relay

import "crypto/tls"

// handshakeState is what crypto/tls itself reports of the key exchange:
// the group it used and whether the server sent a HelloRetryRequest.
func handshakeState(s tls.ConnectionState) (group tls.CurveID, hrr, ok bool) {
	return s.CurveID, s.HelloRetryRequest, true
}
