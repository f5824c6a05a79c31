// This file holds the description of the connection's files: the
// certificates, revocation lists and key each holds, and the problem pqssl
// finds with each.

package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pqssl/pqssl"
)

// describeFiles describes the files of cfg and attaches to each the part of
// fileErr (CheckFiles' result) that names it.
func describeFiles(cfg *pqssl.Config, fileErr error) []File {
	files := []File{}
	add := func(param, path string, describe func(*File, []byte)) {
		if path == "" || path == "system" || path == "inline" {
			return
		}
		f := File{Parameter: param, Path: path}
		if fi, err := os.Stat(path); err == nil {
			f.Exists = true
			f.Mode = fmt.Sprintf("%#o", fi.Mode().Perm())
			switch {
			case fi.IsDir():
				if entries, err := os.ReadDir(path); err == nil {
					n := len(entries)
					f.Entries = &n
				}
			case describe != nil:
				// A key file the permission rule forbids is still
				// described: only its encoding is shown.
				if data, err := os.ReadFile(path); err == nil && len(data) < 16<<20 {
					describe(&f, data)
				}
			}
		}
		f.Problem = problemFor(fileErr, path)
		files = append(files, f)
	}
	add("sslrootcert", cfg.SSLRootCert, describeCerts)
	add("sslcrl", cfg.SSLCRL, describeCRLs)
	add("sslcrldir", cfg.SSLCRLDir, nil)
	add("sslcert", cfg.SSLCert, describeCerts)
	add("sslkey", cfg.SSLKey, describeKey)
	return files
}

func describeCerts(f *File, data []byte) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil && strings.HasSuffix(b.Type, "CERTIFICATE") {
			f.Certificates = append(f.Certificates, describeCert(c))
		}
	}
	if len(f.Certificates) == 0 {
		if c, err := x509.ParseCertificate(data); err == nil {
			f.Certificates = append(f.Certificates, describeCert(c))
		}
	}
}

func describeCRLs(f *File, data []byte) {
	addCRL := func(der []byte) {
		if l, err := x509.ParseRevocationList(der); err == nil {
			f.CRLs = append(f.CRLs, CRL{Issuer: l.Issuer.String(), ThisUpdate: l.ThisUpdate.UTC(),
				NextUpdate: l.NextUpdate.UTC(), Entries: len(l.RevokedCertificateEntries)})
		}
	}
	found := false
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "X509 CRL" {
			found = true
			addCRL(b.Bytes)
		}
	}
	if !found {
		addCRL(data)
	}
}

// describeKey names a key file's encoding and whether it is encrypted,
// from its PEM type and headers only.
func describeKey(f *File, data []byte) {
	k := &Key{Format: "DER"}
	if b, _ := pem.Decode(data); b != nil {
		k.Format = "PEM " + b.Type
		k.Encrypted = b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED")
		if dek := b.Headers["DEK-Info"]; k.Encrypted && dek != "" {
			cipher, _, _ := strings.Cut(dek, ",") // the IV after the comma is not shown
			k.Format += " (" + cipher + ")"
		}
	}
	f.Key = k
}

// problemFor returns the errors of err (a join) that concern path.
func problemFor(err error, path string) string {
	if err == nil {
		return ""
	}
	var parts []string
	for _, e := range unjoin(err) {
		if strings.Contains(e.Error(), fmt.Sprintf("%q", path)) || mentionsPath(e, path) {
			parts = append(parts, strings.TrimPrefix(e.Error(), "pqssl: "))
		}
	}
	return strings.Join(parts, "; ")
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func mentionsPath(err error, path string) bool {
	var ke *pqssl.KeyFileError
	var ce *pqssl.CertFileError
	var re *pqssl.RootCertError
	switch {
	case errors.As(err, &ke):
		return ke.Path == path
	case errors.As(err, &ce):
		return ce.Path == path
	case errors.As(err, &re):
		return re.Path == path
	}
	return false
}
