// This file holds the client certificate and key: finding, reading and
// caching them, with libpq's file rules.

package pqssl

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// keyStatError is libpq's "could not stat private key file" failure.
type keyStatError struct{ err error }

func (e *keyStatError) Error() string { return sysErrText(e.err) }
func (e *keyStatError) Unwrap() error { return e.err }

// clientCertSource loads the client certificate and key of a Connector,
// caching the decrypted key until either file changes.
//
// The cache is keyed by the identity of both files (device, inode, size,
// modification time), so a certificate and key replaced on disk are picked
// up by the next connection, while an unchanged key file is never decrypted
// twice, even when its certificate is renewed. Concurrent callers share one load; a failed load is not cached.
type clientCertSource struct {
	certFile, keyFile string
	inline            bool
	password          string
	passwordFunc      func(ctx context.Context, keyFile string) (string, error)

	mu       sync.Mutex
	cached   *certLoad // the last successful load
	inflight *certLoad // a load in progress, shared by concurrent callers

	// keyLoads counts key parses (and so decryptions), for tests.
	keyLoads atomic.Int64
}

// certLoad is one load of the certificate and key, for given file stamps.
type certLoad struct {
	certStamp, keyStamp fileStamp
	done                chan struct{} // closed when cert/err are set
	cert                *tls.Certificate
	err                 error
}

// newClientCertSource returns the source for a Connector. certFile and
// keyFile are resolved paths, or PEM data when inline (lib/pq's sslinline).
// password is sslpassword ("" for none); passwordFunc, which may be nil, is
// asked for the password of an encrypted key when password is "".
func newClientCertSource(certFile, keyFile string, inline bool, password string, passwordFunc func(ctx context.Context, keyFile string) (string, error)) *clientCertSource {
	return &clientCertSource{
		certFile:     certFile,
		keyFile:      keyFile,
		inline:       inline,
		password:     password,
		passwordFunc: passwordFunc,
	}
}

// certificate returns the certificate chain and key to present, or (nil,
// nil) when the certificate file does not exist (ENOENT or ENOTDIR), in
// which case libpq goes on without a client certificate. Every certificate
// in the file is included: the chain is sent whole.
func (s *clientCertSource) certificate(ctx context.Context) (*tls.Certificate, error) {
	var certStamp, keyStamp fileStamp
	if !s.inline {
		if s.certFile == "" {
			// No sslcert and no home directory for the default.
			return nil, nil
		}
		fi, err := os.Stat(s.certFile)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return nil, nil
			}
			return nil, &CertFileError{Path: s.certFile, Op: "open", Err: err}
		}
		certStamp = stampOf(fi)
		if s.keyFile != "" {
			kfi, err := statKeyFile(s.keyFile)
			if err != nil {
				return nil, err
			}
			keyStamp = stampOf(kfi)
		}
	}

	s.mu.Lock()
	if c := s.cached; c != nil && c.certStamp == certStamp && c.keyStamp == keyStamp {
		s.mu.Unlock()
		return c.cert, nil
	}
	l := s.inflight
	if l == nil || l.certStamp != certStamp || l.keyStamp != keyStamp {
		l = &certLoad{certStamp: certStamp, keyStamp: keyStamp, done: make(chan struct{})}
		s.inflight = l
		// The load runs on its own so that one caller giving up does not
		// fail the others waiting for the same load; it keeps the
		// context's values for the password function. It goes on even
		// when every caller has left: its cost is bounded (MaxIterations,
		// the scrypt memory limit), and its cached result is what lets a
		// retry succeed when the derivation outlasts connect_timeout.
		go s.load(context.WithoutCancel(ctx), l)
	}
	s.mu.Unlock()

	select {
	case <-l.done:
		return l.cert, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *clientCertSource) load(ctx context.Context, l *certLoad) {
	cert, certStamp, keyStamp, err := s.loadFiles(ctx)
	s.mu.Lock()
	if s.inflight == l {
		s.inflight = nil
	}
	if err == nil {
		// Stamp the cache with what was actually read, so that a file
		// replaced between stat and open is loaded again next time.
		s.cached = &certLoad{certStamp: certStamp, keyStamp: keyStamp, cert: cert}
	}
	s.mu.Unlock()
	l.cert, l.err = cert, err
	close(l.done)
}

func (s *clientCertSource) loadFiles(ctx context.Context) (*tls.Certificate, fileStamp, fileStamp, error) {
	var certStamp, keyStamp fileStamp
	var certData, keyData []byte
	certPath, keyPath := s.certFile, s.keyFile
	if s.inline {
		certData, keyData = []byte(s.certFile), []byte(s.keyFile)
		// Never put inline PEM data into messages.
		certPath, keyPath = "sslcert", "sslkey"
	} else {
		var err error
		certData, certStamp, err = readCertFile(s.certFile)
		if err != nil {
			return nil, certStamp, keyStamp, err
		}
		if s.keyFile != "" {
			keyData, keyStamp, err = readKeyFile(s.keyFile)
			if err != nil {
				return nil, certStamp, keyStamp, err
			}
		}
	}

	chain, leaf, err := parseCertChain(certData)
	if err != nil {
		return nil, certStamp, keyStamp, &CertFileError{Path: certPath, Op: "read", Err: err}
	}
	if !s.inline && s.keyFile == "" {
		// A certificate but no key file name (no home directory for the
		// default): libpq loads no key, and its pairing check fails.
		return nil, certStamp, keyStamp, &KeyFileError{Path: "", Reason: KeyMismatch, Err: errors.New("no private key assigned")}
	}

	// A certificate renewed for the same key must not cost another
	// decryption: reuse the key of the last load if its file is unchanged.
	s.mu.Lock()
	prev := s.cached
	s.mu.Unlock()
	if prev != nil && prev.keyStamp == keyStamp {
		if key, ok := prev.cert.PrivateKey.(crypto.Signer); ok {
			if !keyMatchesCertificate(leaf, key) {
				return nil, certStamp, keyStamp, &KeyFileError{Path: keyPath, Reason: KeyMismatch, Err: errKeyValuesMismatch}
			}
			return &tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, certStamp, keyStamp, nil
		}
	}

	s.keyLoads.Add(1)
	key, err := loadPrivateKey(keyPath, keyData, func() (string, error) {
		if s.password != "" {
			return s.password, nil
		}
		if s.passwordFunc == nil {
			return "", ErrPasswordRequired
		}
		pw, err := s.passwordFunc(ctx, keyPath)
		if err != nil {
			return "", fmt.Errorf("password function: %w", err)
		}
		return pw, nil
	})
	if err != nil {
		return nil, certStamp, keyStamp, err
	}
	if !keyMatchesCertificate(leaf, key) {
		return nil, certStamp, keyStamp, &KeyFileError{Path: keyPath, Reason: KeyMismatch, Err: errKeyValuesMismatch}
	}
	return &tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, certStamp, keyStamp, nil
}

// maxFileSize bounds what is read from a certificate or key file: real
// ones are a few kilobytes, and a huge or endless file must not exhaust
// memory.
const maxFileSize = 16 << 20

func readCertFile(path string) ([]byte, fileStamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileStamp{}, &CertFileError{Path: path, Op: "open", Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileStamp{}, &CertFileError{Path: path, Op: "open", Err: err}
	}
	data, err := readLimited(f)
	if err != nil {
		return nil, fileStamp{}, &CertFileError{Path: path, Op: "read", Err: err}
	}
	return data, stampOf(fi), nil
}

// statKeyFile applies libpq's checks to the key file before anything is
// read: it must exist, be a regular file, and have no group or world
// access beyond what the permission rule allows.
func statKeyFile(path string) (os.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &KeyFileError{Path: path, Reason: KeyMissing, Err: err}
		}
		return nil, &KeyFileError{Path: path, Reason: KeyStatFailed, Err: &keyStatError{err}}
	}
	if err := checkKeyFileInfo(path, fi); err != nil {
		return nil, err
	}
	return fi, nil
}

func checkKeyFileInfo(path string, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return &KeyFileError{Path: path, Reason: KeyNotRegular}
	}
	if !keyPermissionsOK(fi) {
		return &KeyFileError{Path: path, Reason: KeyPermissions}
	}
	return nil
}

func readKeyFile(path string) ([]byte, fileStamp, error) {
	// Check before opening: opening a FIFO would block.
	if _, err := statKeyFile(path); err != nil {
		return nil, fileStamp{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fileStamp{}, &KeyFileError{Path: path, Reason: KeyMissing, Err: err}
		}
		return nil, fileStamp{}, &KeyFileError{Path: path, Reason: KeyUnloadable, Err: &keyStatError{err}}
	}
	defer f.Close()
	// Check again what was opened, in case the file was replaced.
	fi, err := f.Stat()
	if err != nil {
		return nil, fileStamp{}, &KeyFileError{Path: path, Reason: KeyStatFailed, Err: &keyStatError{err}}
	}
	if err := checkKeyFileInfo(path, fi); err != nil {
		return nil, fileStamp{}, err
	}
	data, err := readLimited(f)
	if err != nil {
		return nil, fileStamp{}, &KeyFileError{Path: path, Reason: KeyUnloadable, Err: &keyStatError{err}}
	}
	return data, stampOf(fi), nil
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("file larger than %d MiB", maxFileSize>>20)
	}
	return data, nil
}

// parseCertChain returns every certificate of a PEM file, in order, the
// first being the client's own. Other PEM blocks (a key in the same file,
// say) are skipped, as OpenSSL does.
func parseCertChain(data []byte) ([][]byte, *x509.Certificate, error) {
	var chain [][]byte
	var leaf *x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if !isCertPEM(block.Type) {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("certificate %d: %w", len(chain)+1, err)
		}
		if leaf == nil {
			leaf = c
		}
		chain = append(chain, block.Bytes)
	}
	if leaf == nil {
		return nil, nil, errors.New("no PEM certificate found")
	}
	return chain, leaf, nil
}
