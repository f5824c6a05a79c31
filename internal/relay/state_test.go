//go:build !go1.26

package relay

import "crypto/tls"

// handshakeState has nothing to report before Go 1.26, whose
// ConnectionState first has HelloRetryRequest (CurveID came in Go 1.25).
func handshakeState(tls.ConnectionState) (group tls.CurveID, hrr, ok bool) { return 0, false, false }
