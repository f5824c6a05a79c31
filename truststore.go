// This file holds trust stores: root certificate files, CRL files and the
// system store, read as OpenSSL reads them, and their caching per
// Connector.

package pqssl

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// trustStore is the content of a root certificate file (sslrootcert), or of
// the system's trust store. Like OpenSSL's X509_STORE it holds every
// certificate of the file: self-signed ones can end a chain, the others only
// serve as intermediates (unless a TRUSTED CERTIFICATE entry says
// otherwise).
type trustStore struct {
	certs     []*certInfo            // in file order, without duplicates
	bySubject map[string][]*certInfo // keyed by canonical subject
	// crls are the CRLs found in the root file (and, see hasheddir.go, in the
	// CRL file). OpenSSL loads them into the store along with the
	// certificates; they take part in revocation checking when that is
	// switched on.
	crls []*crlInfo
	// crlCheck is set when a CRL location was loaded: every certificate of
	// a chain must then be covered by a CRL. crlDirs are the hashed
	// directories (sslcrldir) searched for CRLs and certificates.
	crlCheck bool
	crlDirs  []string
}

func newTrustStore() *trustStore {
	return &trustStore{bySubject: make(map[string][]*certInfo)}
}

func (s *trustStore) add(ci *certInfo) {
	for _, c := range s.bySubject[ci.subject] {
		if bytes.Equal(c.cert.Raw, ci.cert.Raw) {
			return // OpenSSL keeps the first copy
		}
	}
	s.certs = append(s.certs, ci)
	s.bySubject[ci.subject] = append(s.bySubject[ci.subject], ci)
}

// loadTrustStore reads a root certificate file: PEM blocks CERTIFICATE,
// X509 CERTIFICATE, TRUSTED CERTIFICATE and X509 CRL, anything else being
// skipped, like OpenSSL's SSL_CTX_load_verify_locations. With inline set,
// path holds the PEM data itself (lib/pq's sslinline).
//
// Errors are *RootCertError values with OpenSSL's reason texts. A file that
// does not exist gives an error satisfying errors.Is(err, fs.ErrNotExist);
// callers are expected to have checked for that first, as libpq does.
func loadTrustStore(path string, inline bool) (*trustStore, error) {
	var data []byte
	name := path
	if inline {
		data, name = []byte(path), ""
	} else {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, &RootCertError{Path: path, Kind: RootCertUnreadable, Reason: sysErrText(err), Err: err}
		}
		if fi.IsDir() {
			// OpenSSL opens the directory, reads nothing and finds no PEM.
			return nil, &RootCertError{Path: path, Kind: RootCertEmpty, Reason: "no certificate or crl found"}
		}
		if data, err = os.ReadFile(path); err != nil {
			return nil, &RootCertError{Path: path, Kind: RootCertUnreadable, Reason: sysErrText(err), Err: err}
		}
	}
	s := newTrustStore()
	if err := s.addPEM(data); err != nil {
		err.Path = name
		return nil, err
	}
	return s, nil
}

// addPEM adds every certificate and CRL of a PEM file. Like OpenSSL, the
// whole file is rejected if any certificate or CRL block is malformed, and a
// file with neither is an error.
func (s *trustStore) addPEM(data []byte) *RootCertError {
	blocks, reason := readPEM(data)
	if reason != "" {
		return &RootCertError{Kind: RootCertMalformed, Reason: reason}
	}
	var certs []*certInfo
	var crls []*crlInfo
	for _, b := range blocks {
		switch {
		case isCertPEM(b.name):
			ci, reason, err := parseStoreCert(b.data, b.name == "TRUSTED CERTIFICATE")
			if reason != "" {
				return &RootCertError{Kind: RootCertMalformed, Reason: reason, Err: err}
			}
			certs = append(certs, ci)
		case b.name == "X509 CRL":
			der, reason := firstTLV(b.data)
			if reason != "" {
				return &RootCertError{Kind: RootCertMalformed, Reason: reason}
			}
			crl, err := parseCRL(der)
			if err != nil {
				return &RootCertError{Kind: RootCertMalformed, Reason: err.Error(), Err: err}
			}
			crls = append(crls, newCRLInfo(crl))
		}
	}
	if len(certs) == 0 && len(crls) == 0 {
		return &RootCertError{Kind: RootCertEmpty, Reason: "no certificate or crl found"}
	}
	for _, ci := range certs {
		s.add(ci)
	}
	s.crls = append(s.crls, crls...)
	return nil
}

// isCertPEM reports whether a PEM block of that name holds a certificate:
// the names OpenSSL's PEM_read_bio_X509_AUX accepts, TRUSTED CERTIFICATE
// carrying OpenSSL's trust settings after the certificate.
func isCertPEM(name string) bool {
	return name == "CERTIFICATE" || name == "X509 CERTIFICATE" || name == "TRUSTED CERTIFICATE"
}

type pemBlock struct {
	name string
	data []byte
}

// readPEM splits data into PEM blocks the way OpenSSL's PEM_read_bio does
// (in its lenient "EAY compatible" mode): text outside blocks is skipped,
// header lines (those with a colon before the data) are ignored, and the
// problems OpenSSL reports are returned as its reason texts, along with the
// blocks read before the malformed one.
func readPEM(data []byte) ([]pemBlock, string) {
	lines := strings.Split(string(data), "\n")
	// A UTF-8 byte order mark is skipped at the start of the file.
	if len(lines) > 0 {
		lines[0] = strings.TrimPrefix(lines[0], "\ufeff")
	}
	clean := func(s string) string {
		// Trailing whitespace and control characters are dropped.
		return strings.TrimRightFunc(s, func(r rune) bool { return r <= ' ' })
	}
	var blocks []pemBlock
	for i := 0; i < len(lines); i++ {
		l := clean(lines[i])
		if !strings.HasPrefix(l, "-----BEGIN ") || len(l) < len("-----BEGIN -----") || !strings.HasSuffix(l, "-----") {
			continue
		}
		name := l[len("-----BEGIN ") : len(l)-len("-----")]
		var body strings.Builder
		header, ended := 0, false // header: 0 maybe, 1 in header, 2 after
		for i++; i < len(lines); i++ {
			l := clean(lines[i])
			if header == 0 && strings.Contains(l, ":") {
				header = 1
			}
			if l == "" {
				if header == 2 {
					return blocks, "bad end line"
				}
				header = 2
				body.Reset() // what came before was a header
				continue
			}
			if strings.HasPrefix(l, "-----END ") {
				if l != "-----END "+name+"-----" {
					return blocks, "bad end line"
				}
				ended = true
				break
			}
			if header != 1 {
				body.WriteString(l)
			}
		}
		if !ended {
			return blocks, "bad end line"
		}
		b64 := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' {
				return -1
			}
			return r
		}, body.String())
		der, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return blocks, "bad base64 decode"
		}
		blocks = append(blocks, pemBlock{name: name, data: der})
	}
	return blocks, ""
}

// firstTLV returns the first DER element of data; OpenSSL's d2i functions
// ignore what follows it. The reasons are OpenSSL's ASN.1 error texts.
func firstTLV(data []byte) ([]byte, string) {
	if len(data) == 0 {
		return nil, "PEM lib"
	}
	var v asn1.RawValue
	if _, err := asn1.Unmarshal(data, &v); err != nil {
		if data[0] != 0x30 {
			return nil, "wrong tag"
		}
		var se asn1.SyntaxError
		if errors.As(err, &se) && strings.Contains(se.Msg, "truncated") {
			return nil, "too long"
		}
		return nil, "header too long"
	}
	if v.Class != asn1.ClassUniversal || v.Tag != asn1.TagSequence || !v.IsCompound {
		return nil, "wrong tag"
	}
	return v.FullBytes, ""
}

// certAux is the OpenSSL-specific trust information that follows the
// certificate in a TRUSTED CERTIFICATE block (X509_CERT_AUX).
type certAux struct {
	Trust  []asn1.ObjectIdentifier `asn1:"optional"`
	Reject []asn1.ObjectIdentifier `asn1:"optional,tag:0"`
	Alias  asn1.RawValue           `asn1:"optional,tag:12"`
	KeyID  []byte                  `asn1:"optional"`
	Other  asn1.RawValue           `asn1:"optional,tag:1"`
}

func parseStoreCert(der []byte, trusted bool) (*certInfo, string, error) {
	certDER, reason := firstTLV(der)
	if reason != "" {
		return nil, reason, nil
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		// Where OpenSSL would name an ASN.1 problem ("wrong tag" mostly),
		// or would accept the certificate (a negative serial number),
		// crypto/x509's own explanation is the more useful one.
		return nil, err.Error(), err
	}
	ci := newCertInfo(cert)
	if rest := der[len(certDER):]; trusted && len(rest) > 0 {
		var aux certAux
		if _, err := asn1.Unmarshal(rest, &aux); err != nil {
			return nil, "wrong tag", err // what OpenSSL says of a bad X509_CERT_AUX
		}
		ci.aux = &aux
	}
	return ci, "", nil
}

// systemTrustStore returns the system's trusted roots, for
// sslrootcert=system. Like OpenSSL's default verify paths it reads the file
// named by SSL_CERT_FILE and the hashed directories listed in SSL_CERT_DIR,
// defaulting to the usual OpenSSL locations. Unreadable or malformed sources
// are skipped, as OpenSSL does; the result may be empty.
func systemTrustStore() (*trustStore, error) {
	s := newTrustStore()
	file, fileSet := os.LookupEnv("SSL_CERT_FILE")
	if !fileSet {
		file = firstExisting(systemCertFiles)
	}
	if file != "" {
		if data, err := os.ReadFile(file); err == nil {
			_ = s.addPEM(data) // a bad bundle is ignored as a whole, as in OpenSSL
		}
	}
	var dirs []string
	if d, ok := os.LookupEnv("SSL_CERT_DIR"); ok {
		dirs = filepath.SplitList(d)
	} else if d := firstExisting(systemCertDirs); d != "" {
		dirs = []string{d}
	}
	for _, d := range dirs {
		s.addHashedDir(d)
	}
	return s, nil
}

// Default locations of OpenSSL's cert.pem and certs/ on common systems
// (OPENSSLDIR of Debian/Ubuntu, RHEL/Fedora, Alpine/Arch/BSD, source builds),
// followed by the bundles crypto/x509 knows of.
var (
	systemCertFiles = []string{
		"/usr/lib/ssl/cert.pem",
		"/etc/pki/tls/cert.pem",
		"/etc/ssl/cert.pem",
		"/usr/local/ssl/cert.pem",
		"/etc/ssl/certs/ca-certificates.crt",
		"/etc/pki/tls/certs/ca-bundle.crt",
	}
	systemCertDirs = []string{
		"/usr/lib/ssl/certs",
		"/etc/pki/tls/certs",
		"/etc/ssl/certs",
		"/usr/local/ssl/certs",
	}
)

func firstExisting(paths []string) string {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// withCRLs returns a copy of the store with CRL checking switched on, the
// certificates and CRLs of a loaded CRL file added (extra, which may be
// nil) and the hashed directories to search.
func (s *trustStore) withCRLs(extra *trustStore, dirs []string) *trustStore {
	n := &trustStore{
		certs:     append([]*certInfo(nil), s.certs...),
		bySubject: make(map[string][]*certInfo, len(s.bySubject)),
		crls:      append([]*crlInfo(nil), s.crls...),
		crlCheck:  true,
		crlDirs:   dirs,
	}
	for k, v := range s.bySubject {
		n.bySubject[k] = v[:len(v):len(v)]
	}
	if extra != nil {
		for _, ci := range extra.certs {
			n.add(ci)
		}
		n.crls = append(n.crls, extra.crls...)
	}
	return n
}

// splitCRLDirs splits sslcrldir into its directories as OpenSSL does:
// separated like PATH, empty entries and repetitions dropped.
func splitCRLDirs(s string) []string {
	var dirs []string
	for _, d := range strings.Split(s, string(filepath.ListSeparator)) {
		if d != "" && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// crlLocations returns the CRL file and directory libpq loads for cfg: the
// sslcrl and sslcrldir given, and the default ~/.postgresql/root.crl only
// when neither is.
func crlLocations(cfg *config) (file, dir string) {
	file, dir = cfg.sslcrl, cfg.sslcrldir
	if !cfg.sslcrlSet && cfg.sslcrldirSet {
		file = ""
	}
	return file, dir
}

// crlSource adds a Connector's CRL locations to the trust store loaded from
// the root file. The CRL file is parsed again only when it changes; the
// directories are read during each verification, as OpenSSL reads them for
// each connection.
type crlSource struct {
	file string   // "" for none
	dir  string   // sslcrldir as given, "" for none
	dirs []string // its directories

	mu        sync.Mutex
	stamp     fileStamp
	haveStamp bool
	fromFile  *trustStore // the CRL file's content; nil when it cannot be loaded
	root      *trustStore // the store combined last, and the result
	combined  *trustStore
	combFrom  *trustStore
}

func newCRLSource(file, dir string) *crlSource {
	return &crlSource{file: file, dir: dir, dirs: splitCRLDirs(dir)}
}

// apply returns the store to verify with, given the root file's store:
// root itself when no CRL location loads, as libpq then checks no
// revocation.
func (c *crlSource) apply(root *trustStore) *trustStore {
	if c == nil || root == nil || (c.file == "" && c.dir == "") {
		return root
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var fromFile *trustStore
	if c.file != "" {
		if fromFile = c.loadFile(); fromFile == nil {
			// X509_STORE_load_locations fails on the file and never gets
			// to the directory.
			return root
		}
	}
	if c.combined == nil || c.root != root || c.combFrom != fromFile {
		c.combined, c.root, c.combFrom = root.withCRLs(fromFile, c.dirs), root, fromFile
	}
	return c.combined
}

// loadFile returns the certificates and CRLs of the CRL file, nil when
// OpenSSL would fail to load it.
func (c *crlSource) loadFile() *trustStore {
	fi, err := os.Stat(c.file)
	if err != nil || fi.IsDir() {
		c.haveStamp, c.fromFile = false, nil
		return nil
	}
	stamp := stampOf(fi)
	if c.haveStamp && stamp == c.stamp {
		return c.fromFile
	}
	data, err := os.ReadFile(c.file)
	if err != nil {
		// Not remembered: a change of permissions changes no stamp.
		c.haveStamp, c.fromFile = false, nil
		return nil
	}
	s := newTrustStore()
	if s.addPEM(data) != nil {
		s = nil
		// Deliberately stricter than libpq: OpenSSL reads the CRL file as
		// PEM only, so libpq silently checks no revocation at all when
		// sslcrl names a DER CRL. pqssl uses it, rather than leave a
		// revocation list the user configured without effect.
		if crl, err := parseCRL(data); err == nil {
			s = newTrustStore()
			s.crls = append(s.crls, newCRLInfo(crl))
		}
	}
	c.stamp, c.haveStamp, c.fromFile = stamp, true, s
	return s
}

// rootCertMissingError carries libpq's message for a missing root file, in
// libpq 18's words (libpq 15 does not mention sslrootcert=system).
type rootCertMissingError struct{ path string }

const rootCertMissingHint = "Either provide the file, use the system's trusted roots with sslrootcert=system, " +
	"or change sslmode to disable server certificate verification."

func (e *rootCertMissingError) Error() string {
	if e.path == "" {
		return "pqssl: could not get home directory to locate root certificate file\n" +
			rootCertMissingHint
	}
	return fmt.Sprintf("pqssl: root certificate file %q does not exist\n"+
		rootCertMissingHint, e.path)
}

func (e *rootCertMissingError) Unwrap() error { return ErrRootCertMissing }

// trustStoreSource supplies a Connector's trust store. Like libpq it looks
// for the root file on every connection, so a file that appears, changes or
// disappears is noticed, but it parses the file again only when it changed.
// The CRL locations are added to a root file's store (never to the system
// store), as libpq adds them.
type trustStoreSource struct {
	path   string // sslrootcert: a file, "system", or PEM data with sslinline
	inline bool
	crls   *crlSource

	mu    sync.Mutex
	stamp fileStamp
	store *trustStore // the root file's, without the CRL locations
}

// newTrustStoreSource returns the source for the root file path and the CRL
// file and directory (sslcrl and sslcrldir as crlLocations resolves them;
// "" for none).
func newTrustStoreSource(path, crlFile, crlDir string, inline bool) *trustStoreSource {
	return &trustStoreSource{path: path, inline: inline, crls: newCRLSource(crlFile, crlDir)}
}

// load returns the trust store for one TLS attempt, or nil when there is no
// root file and sslmode does not require one.
func (s *trustStoreSource) load(sslmode string) (*trustStore, error) {
	verify := sslmode == "verify-ca" || sslmode == "verify-full"
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.path == "system":
		if s.store == nil {
			st, err := systemTrustStore()
			if err != nil {
				return nil, err
			}
			s.store = st
		}
		return s.store, nil
	case s.inline && s.path != "":
		if s.store == nil {
			st, err := loadTrustStore(s.path, true)
			if err != nil {
				return nil, err
			}
			s.store = st
		}
		return s.crls.apply(s.store), nil
	}
	var fi os.FileInfo
	err := errors.New("no root certificate file")
	if s.path != "" {
		fi, err = os.Stat(s.path)
	}
	if err != nil {
		// libpq only asks whether stat succeeds.
		s.store = nil
		if verify {
			return nil, &rootCertMissingError{path: s.path}
		}
		return nil, nil
	}
	stamp := stampOf(fi)
	if s.store != nil && stamp == s.stamp {
		return s.crls.apply(s.store), nil
	}
	st, err := loadTrustStore(s.path, false)
	if err != nil {
		return nil, err
	}
	s.store, s.stamp = st, stamp
	return s.crls.apply(st), nil
}
