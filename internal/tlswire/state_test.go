//go:build !go1.26

package tlswire

import (
	"crypto/tls"
	"testing"
)

// checkHRRState has nothing to compare with before Go 1.26, whose
// ConnectionState first reports HelloRetryRequest.
func checkHRRState(*testing.T, tls.ConnectionState, tls.ConnectionState, *Observer) {}
