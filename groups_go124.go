//go:build !go1.25

package pqssl

import "crypto/tls"

// negotiatedGroup is the key-exchange group of a completed handshake, which
// crypto/tls reports from Go 1.25 on; before, nothing is learned.
func negotiatedGroup(tls.ConnectionState) tls.CurveID { return 0 }
