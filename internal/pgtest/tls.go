// This file holds the harness's TLS: the default self-signed server
// certificate, and the SSLRequest probe that reads what a server presents.

package pgtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"time"
)

var defaultCert struct {
	once sync.Once
	cert []byte
	key  []byte
}

// DefaultServerCert returns the certificate and key (PEM) of the default
// scenario: a self-signed ECDSA P-256 certificate, generated once per
// process, for CN "localhost" with the subjectAltNames localhost, 127.0.0.1
// and ::1. Being self-signed, the certificate is its own root: a file
// holding it serves as sslrootcert for verify-ca and verify-full.
func DefaultServerCert() (certPEM, keyPEM []byte) {
	defaultCert.once.Do(func() {
		cert, key, err := selfSigned("localhost", net.IPv4(127, 0, 0, 1), net.IPv6loopback)
		if err != nil {
			// crypto/rand and the marshalling of a fresh key do not fail.
			panic(fmt.Sprintf("pgtest: generating the default certificate: %v", err))
		}
		defaultCert.cert, defaultCert.key = cert, key
	})
	return append([]byte(nil), defaultCert.cert...), append([]byte(nil), defaultCert.key...)
}

// selfSigned makes a self-signed certificate for the DNS name cn and the
// addresses ips.
func selfSigned(cn string, ips ...net.IP) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"pgtest"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{cn},
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), nil
}

// ErrNoTLS is returned by [Cluster.ServerCertificate] when the server
// answers the SSLRequest with 'N' (ssl is off).
var ErrNoTLS = errors.New("pgtest: the server declined TLS (answered N to the SSLRequest)")

// sslRequestCode is the protocol code of an SSLRequest (1234 << 16 | 5679).
const sslRequestCode = 80877103

// ServerCertificate connects to the server's IPv4 address, sends an
// SSLRequest and, if the server answers 'S', performs a TLS handshake
// without verifying anything, and returns the certificate the server
// presents. It sends no startup packet, so pg_hba.conf plays no part.
func (c *Cluster) ServerCertificate(ctx context.Context) (*x509.Certificate, error) {
	state, err := TLSProbe(ctx, c.Addr(), nil)
	if err != nil {
		return nil, err
	}
	if len(state.PeerCertificates) == 0 {
		return nil, errors.New("pgtest: the server presented no certificate")
	}
	return state.PeerCertificates[0], nil
}

// TLSProbe sends an SSLRequest to addr and, when the server answers 'S',
// performs a TLS handshake with conf (nil: no verification, any version
// from TLS 1.0) and returns the connection state. The connection is closed
// before returning. An 'N' answer gives [ErrNoTLS].
func TLSProbe(ctx context.Context, addr string, conf *tls.Config) (tls.ConnectionState, error) {
	if conf == nil {
		conf = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	var req [8]byte
	binary.BigEndian.PutUint32(req[0:4], 8)
	binary.BigEndian.PutUint32(req[4:8], sslRequestCode)
	if _, err := conn.Write(req[:]); err != nil {
		return tls.ConnectionState{}, fmt.Errorf("pgtest: sending SSLRequest: %w", err)
	}
	var answer [1]byte
	if _, err := io.ReadFull(conn, answer[:]); err != nil {
		return tls.ConnectionState{}, fmt.Errorf("pgtest: reading the answer to SSLRequest: %w", err)
	}
	switch answer[0] {
	case 'S':
	case 'N':
		return tls.ConnectionState{}, ErrNoTLS
	default:
		return tls.ConnectionState{}, fmt.Errorf("pgtest: unexpected answer %q to SSLRequest", answer[0])
	}
	tc := tls.Client(conn, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return tls.ConnectionState{}, fmt.Errorf("pgtest: TLS handshake: %w", err)
	}
	state := tc.ConnectionState()
	tc.Close()
	return state, nil
}
