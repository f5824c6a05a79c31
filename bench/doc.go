// Package bench compares the cost of a new verified TLS connection with
// pqssl, plain lib/pq and pgx, through a relay that counts round trips and
// can emulate network latency. It is a module of its own so that pgx never
// becomes a dependency of applications that import pqssl; see
// BENCHMARKS.md in the repository root for results and the command.
package bench
