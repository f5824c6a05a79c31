// This file holds the doctor's hints: suggestions given only where the
// cause of a failure is certain, and notes that hold whatever the outcome.

package main

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pqssl/pqssl"
)

// hints returns suggestions for err, the connection's (or, offline, the
// files') error, given only where the cause is certain; and notes that hold
// whatever the outcome.
func hints(cfg *pqssl.Config, r *Report, err error) []string {
	var out []string
	if cfg.SSLMode == "require" && cfg.SSLRootCert != "" && rootFileExists(r) {
		out = append(out, fmt.Sprintf("sslmode=require with a root file present (%s) acts as verify-ca, as in libpq", cfg.SSLRootCert))
	}
	if err == nil {
		return out
	}
	var he *pqssl.HostnameError
	var ve *pqssl.CertificateVerifyError
	var ke *pqssl.KeyFileError
	switch {
	case errors.As(err, &he) && he.Host != "" && len(he.Names) > 0:
		_, hostIsIP := parseIP(he.Host)
		var dns []string
		for _, n := range he.Names {
			if _, isIP := parseIP(n); !isIP && !strings.HasPrefix(n, "*.") {
				dns = append(dns, n)
			}
		}
		switch {
		case hostIsIP && len(dns) > 0:
			out = append(out, fmt.Sprintf("the certificate names %s; you connected with host=%s: use host=%s hostaddr=%s",
				strings.Join(dns, ", "), he.Host, dns[0], he.Host))
		default:
			out = append(out, fmt.Sprintf("the certificate names %s, not %s: connect with host set to one of those names (hostaddr can give the address)",
				strings.Join(he.Names, ", "), he.Host))
		}
	case errors.As(err, &ve):
		switch ve.Reason {
		case pqssl.UnableToGetIssuerCertLocally, pqssl.UnableToGetIssuerCert:
			if rootFileHasNoSelfSigned(r) {
				out = append(out, fmt.Sprintf("the root file %s holds no self-signed certificate: add the root CA certificate that issued the chain", cfg.SSLRootCert))
			} else {
				out = append(out, fmt.Sprintf("no certificate of the root file %s issued the server's chain: add the CA that did", cfg.SSLRootCert))
			}
		case pqssl.SelfSignedCertInChain, pqssl.DepthZeroSelfSignedCert:
			out = append(out, fmt.Sprintf("the server's chain ends in a self-signed certificate that is not in the root file %s", cfg.SSLRootCert))
		case pqssl.CertHasExpired:
			if ve.Cert != nil {
				out = append(out, fmt.Sprintf("the certificate %q expired on %s: renew it on the server", ve.Cert.Subject.String(), ve.Cert.NotAfter.UTC().Format("2006-01-02 15:04 MST")))
			}
		case pqssl.CertNotYetValid:
			if ve.Cert != nil {
				out = append(out, fmt.Sprintf("the certificate %q is valid only from %s: check the clocks", ve.Cert.Subject.String(), ve.Cert.NotBefore.UTC().Format("2006-01-02 15:04 MST")))
			}
		case pqssl.CertRevoked:
			if ve.Cert != nil && ve.CRL != nil {
				out = append(out, fmt.Sprintf("the certificate %q (serial %#x) is revoked by the CRL of %q: the server needs a new certificate",
					ve.Cert.Subject.String(), ve.Cert.SerialNumber, ve.CRL.Issuer.String()))
			}
		}
	case errors.As(err, &ke):
		switch {
		case errors.Is(err, pqssl.ErrPasswordRequired):
			out = append(out, fmt.Sprintf("the key %s is encrypted: set sslpassword", ke.Path))
		case errors.Is(err, pqssl.ErrIncorrectPassword):
			out = append(out, fmt.Sprintf("sslpassword does not decrypt the key %s", ke.Path))
		case ke.Reason == pqssl.KeyPermissions:
			out = append(out, fmt.Sprintf("chmod 0600 %s", ke.Path))
		case ke.Reason == pqssl.KeyMismatch:
			out = append(out, fmt.Sprintf("the key %s does not belong to the certificate %s: give sslkey the key the certificate was issued for", ke.Path, cfg.SSLCert))
		case ke.Reason == pqssl.KeyMissing:
			out = append(out, fmt.Sprintf("the certificate %s has no key at %s: set sslkey", cfg.SSLCert, ke.Path))
		}
	case errors.Is(err, pqssl.ErrSSLNotSupported):
		out = append(out, fmt.Sprintf("the server refuses TLS (it answered the SSLRequest with N): turn on ssl in its postgresql.conf, or lower sslmode (now %s) if plaintext is acceptable", cfg.SSLMode))
	case errors.Is(err, pqssl.ErrClientCertNotRequested):
		out = append(out, "the server did not ask for a client certificate (its ssl_ca_file is empty), which sslcertmode=require demands")
	case errors.Is(err, pqssl.ErrClientCertNotSent):
		out = append(out, "the server asked for a client certificate and none was sent: set sslcert and sslkey")
	case errors.Is(err, pqssl.ErrRootCertMissing):
		out = append(out, fmt.Sprintf("%s needs a root file: put the CA certificate at %s, or set sslrootcert", cfg.SSLMode, cfg.SSLRootCert))
	}
	return out
}

func parseIP(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

func rootFileExists(r *Report) bool {
	for _, f := range r.Files {
		if f.Parameter == "sslrootcert" {
			return f.Exists
		}
	}
	return false
}

func rootFileHasNoSelfSigned(r *Report) bool {
	for _, f := range r.Files {
		if f.Parameter != "sslrootcert" || len(f.Certificates) == 0 {
			continue
		}
		for _, c := range f.Certificates {
			if c.SelfSigned {
				return false
			}
		}
		return true
	}
	return false
}
