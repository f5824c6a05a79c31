module github.com/pqssl/pqssl

go 1.24.0

require (
	github.com/google/go-cmp v0.7.0
	github.com/lib/pq v1.12.3
	github.com/youmark/pkcs8 v0.0.0-20240726163527-a2c0da244d78
	golang.org/x/crypto v0.48.0
	golang.org/x/text v0.34.0
)

require golang.org/x/sys v0.41.0 // indirect
