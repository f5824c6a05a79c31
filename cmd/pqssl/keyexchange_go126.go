//go:build go1.26

package main

import "crypto/tls"

// keyExchange returns the key-exchange group of a handshake and whether the
// server asked for another key share first.
func keyExchange(cs *tls.ConnectionState) (group string, helloRetry bool) {
	if cs.CurveID == 0 {
		return "", cs.HelloRetryRequest
	}
	return cs.CurveID.String(), cs.HelloRetryRequest
}
