//go:build go1.26

package tlswire

import (
	"crypto/tls"
	"testing"
)

// checkHRRState compares what the Observer saw with what crypto/tls itself
// reports on Go versions that report it (CurveID from Go 1.25,
// HelloRetryRequest from Go 1.26).
func checkHRRState(t *testing.T, client, server tls.ConnectionState, o *Observer) {
	t.Helper()
	for _, s := range []struct {
		name  string
		state tls.ConnectionState
	}{{"client", client}, {"server", server}} {
		if s.state.HelloRetryRequest != o.HelloRetryRequest() {
			t.Errorf("%s ConnectionState.HelloRetryRequest = %v, Observer says %v", s.name, s.state.HelloRetryRequest, o.HelloRetryRequest())
		}
		// A resumed TLS 1.2 session has no key exchange; crypto/tls
		// reports the group of the session it resumed.
		resumed12 := s.state.DidResume && s.state.Version < tls.VersionTLS13
		if !resumed12 && s.state.CurveID != o.Group() {
			t.Errorf("%s ConnectionState.CurveID = %v, Observer says %v", s.name, GroupName(s.state.CurveID), GroupName(o.Group()))
		}
	}
}
