//go:build !go1.26

package main

import "crypto/tls"

// keyExchange returns nothing before Go 1.26, whose crypto/tls is the first
// to report the group (1.25) and the HelloRetryRequest (1.26).
func keyExchange(*tls.ConnectionState) (group string, helloRetry bool) { return "", false }
