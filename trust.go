package pqssl

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// rootCertMissingError carries libpq's message for a missing root file.
type rootCertMissingError struct{ path string }

func (e *rootCertMissingError) Error() string {
	if e.path == "" {
		return "pqssl: could not get home directory to locate root certificate file\n" +
			"Either provide the file or change sslmode to disable server certificate verification."
	}
	return fmt.Sprintf("pqssl: root certificate file %q does not exist\n"+
		"Either provide the file or change sslmode to disable server certificate verification.", e.path)
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
