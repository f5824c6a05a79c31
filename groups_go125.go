//go:build go1.25

package pqssl

import "crypto/tls"

// negotiatedGroup is the key-exchange group of a completed handshake.
func negotiatedGroup(cs tls.ConnectionState) tls.CurveID { return cs.CurveID }
