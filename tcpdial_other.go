// This file holds tcp_user_timeout where the system has no
// TCP_USER_TIMEOUT: the parameter is accepted and has no effect.

//go:build !linux

package pqssl

import (
	"net"
	"time"
)

// setUserTimeout does nothing: libpq too ignores tcp_user_timeout where the
// system has no TCP_USER_TIMEOUT.
func setUserTimeout(*net.TCPConn, time.Duration) error { return nil }
