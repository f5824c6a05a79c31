// Package tlswire reads the plaintext start of TLS handshakes as it crosses
// the wire: which versions, cipher suites, groups and key shares a client
// offers, which ones the server picks, and whether it asked the client to
// retry with another group (a HelloRetryRequest, which costs the handshake
// a round trip).
//
// [ParseClientHello] and [ParseServerHello] parse one message. An
// [Observer] follows one direction of a connection as it streams, in chunks
// of any size, and stops at the point the handshake becomes encrypted, so
// it can wrap a connection for its whole life at no cost after the
// handshake; [Conn] does that for one end of a connection.
// [NewPostgresObserver] returns one that first skips PostgreSQL's
// negotiation before TLS: the SSLRequest and the server's one-byte answer.
//
// Nothing here panics or grows without bound on hostile input; malformed
// input gives a *[ParseError].
//
// The package uses nothing newer than Go 1.24, so that it works on Go
// versions whose tls.ConnectionState lacks the CurveID and
// HelloRetryRequest fields.
package tlswire
