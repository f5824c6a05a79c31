package pgauth

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"strings"
	"testing"

	"github.com/pqssl/pqssl/internal/testpki"
)

// fakeCert returns a certificate whose outer signature algorithm is alg and
// whose other parts are placeholders: tls-server-end-point looks at nothing
// else.
func fakeCert(t *testing.T, alg pkix.AlgorithmIdentifier) *x509.Certificate {
	t.Helper()
	der, err := asn1.Marshal(struct {
		TBS    asn1.RawValue
		SigAlg pkix.AlgorithmIdentifier
		Sig    asn1.BitString
	}{asn1.RawValue{FullBytes: []byte{0x30, 0}}, alg, asn1.BitString{Bytes: []byte{1}, BitLength: 8}})
	if err != nil {
		t.Fatal(err)
	}
	return &x509.Certificate{Raw: der}
}

func parseOID(s string) asn1.ObjectIdentifier {
	var o asn1.ObjectIdentifier
	for _, f := range strings.Split(s, ".") {
		var n int
		fmt.Sscan(f, &n)
		o = append(o, n)
	}
	return o
}

func pssParams(t *testing.T, hashOID string) asn1.RawValue {
	t.Helper()
	type params struct {
		Hash pkix.AlgorithmIdentifier `asn1:"explicit,tag:0,optional"`
	}
	var p params
	if hashOID != "" {
		p.Hash = pkix.AlgorithmIdentifier{Algorithm: parseOID(hashOID), Parameters: asn1.NullRawValue}
	}
	der, err := asn1.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return asn1.RawValue{FullBytes: der}
}

func TestTLSServerEndPoint(t *testing.T) {
	sha3_256 := func() hash.Hash { return sha3.New256() }
	tests := []struct {
		name    string
		alg     pkix.AlgorithmIdentifier
		hash    func() hash.Hash // nil: an error is expected
		wantErr string
	}{
		{"md5WithRSA", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.113549.1.1.4")}, sha256.New, ""},
		{"sha1WithRSA", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.113549.1.1.5")}, sha256.New, ""},
		{"ecdsa-with-SHA1", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.10045.4.1")}, sha256.New, ""},
		{"sha224WithRSA", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.113549.1.1.14")}, sha256.New224, ""},
		{"sha256WithRSA", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.113549.1.1.11")}, sha256.New, ""},
		{"ecdsa-with-SHA384", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.10045.4.3.3")}, sha512.New384, ""},
		{"ecdsa-with-SHA512", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.10045.4.3.4")}, sha512.New, ""},
		{"dsa-with-sha256", pkix.AlgorithmIdentifier{Algorithm: parseOID("2.16.840.1.101.3.4.3.2")}, sha256.New, ""},
		{"rsa-with-sha3-256", pkix.AlgorithmIdentifier{Algorithm: parseOID("2.16.840.1.101.3.4.3.14")}, sha3_256, ""},
		{"RSASSA-PSS without parameters", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.113549.1.1.10")}, sha256.New, ""},
		{"RSASSA-PSS default hash", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.113549.1.1.10"), Parameters: pssParams(t, "")}, sha256.New, ""},
		{"RSASSA-PSS SHA-384", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.113549.1.1.10"), Parameters: pssParams(t, "2.16.840.1.101.3.4.2.2")}, sha512.New384, ""},
		{"RSASSA-PSS SHA-1", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.113549.1.1.10"), Parameters: pssParams(t, "1.3.14.3.2.26")}, sha256.New, ""},
		{"RSASSA-PSS unknown hash", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.113549.1.1.10"), Parameters: pssParams(t, "1.2.3.4")}, nil, "could not determine server certificate signature algorithm"},
		{"Ed25519", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.3.101.112")}, nil, "could not find digest for NID UNDEF"},
		{"Ed448", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.3.101.113")}, nil, "could not find digest for NID UNDEF"},
		{"md2WithRSA", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.840.113549.1.1.2")}, nil, "could not find digest"},
		{"unknown", pkix.AlgorithmIdentifier{Algorithm: parseOID("1.2.3.4.5")}, nil, "could not determine server certificate signature algorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := fakeCert(t, tt.alg)
			got, err := tlsServerEndPoint(cert)
			if tt.hash == nil {
				var cbe *ChannelBindingError
				if !errors.As(err, &cbe) || !strings.Contains(cbe.Reason, tt.wantErr) {
					t.Fatalf("err = %v, want ChannelBindingError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h := tt.hash()
			h.Write(cert.Raw)
			if want := h.Sum(nil); !bytes.Equal(got, want) {
				t.Errorf("hash = %x, want %x", got, want)
			}
		})
	}

	// A real certificate, as crypto/x509 writes it.
	leaf := testpki.MustSelfSigned(t, testpki.Spec{CommonName: "localhost", KeyType: testpki.P384})
	got, err := tlsServerEndPoint(leaf.Cert)
	if want := sha512.Sum384(leaf.Cert.Raw); err != nil || !bytes.Equal(got, want[:]) {
		t.Errorf("P-384 certificate: %x, %v; want SHA-384 %x", got, err, want)
	}
	if _, err := tlsServerEndPoint(&x509.Certificate{Raw: []byte("junk")}); err == nil {
		t.Error("junk certificate accepted")
	}
}
