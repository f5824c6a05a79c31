// This file holds server certificate verification: the chain building and
// checks of OpenSSL's X509_verify_cert.

package pqssl

// Server certificate verification as libpq does it with OpenSSL 3.0.
//
// libpq hands certificate verification to OpenSSL (X509_verify_cert with
// the "ssl_server" parameters: purpose sslserver, trust sslserver, depth
// 100, trusted-first chain building, no partial chains) and then checks the
// host name itself. crypto/x509's Verify differs from that in many details
// (which certificates act as anchors, issuer selection, CA and purpose rules,
// path length counting, name constraints on the common name, security
// levels), so this file reimplements OpenSSL's algorithm on top of
// crypto/x509's parsing and signature primitives. The order of the checks,
// and so the error reported when several apply, follows OpenSSL:
//
//  1. the leaf key's strength (security level),
//  2. chain building and trust,
//  3. extensions: critical extensions, CA-ness, purpose, path length,
//  4. key and signature strength of the rest of the chain,
//  5. revocation (checkRevocation, in revocation.go),
//  6. signatures, issuers' key usage and validity periods, top down,
//  7. name constraints.
//
// Known differences from OpenSSL, all in corners PostgreSQL deployments do
// not reach in practice:
//   - Certificates that crypto/x509 cannot parse never get here: crypto/tls
//     rejects them during the handshake, and in a root file they are an
//     error. Among them: negative serial numbers (unless
//     GODEBUG=x509negativeserial=1), iPAddress names that are not 4 or 16
//     bytes long, explicit elliptic curve parameters, malformed or duplicate
//     extensions, key identifier extensions marked critical (which OpenSSL
//     rejects too, as unhandled critical extensions).
//   - DSA, Ed448 and other algorithms crypto/x509 cannot verify fail, with
//     a signature or key strength error, where OpenSSL might succeed.
//   - Extensions OpenSSL flags as invalid (EXFLAG_INVALID) are not modelled.
//   - An otherName (SmtpUTF8Mailbox) is not checked against rfc822Name
//     constraints; otherName constraints are reported as unsupported.
//   - The system trust store (sslrootcert=system) is read eagerly from a
//     fixed list of locations instead of from OpenSSL's compiled-in
//     OPENSSLDIR.
//   - Root files: the texts for malformed PEM and DER follow OpenSSL for
//     the common cases (measured with libpq 15), not for every malformation;
//     private keys in the file are skipped without being parsed; a file
//     that cannot be read gets the system's reason where libpq 15 prints an
//     empty one.

import (
	"bytes"
	"crypto/x509"
	"errors"
	"time"
)

// maxVerifyDepth is the default verify depth of OpenSSL's "default" and
// "ssl_server" parameters: at most that many certificates above the leaf.
const maxVerifyDepth = 100

// checkSignature verifies subject's signature with issuer's key. Only the
// signature is checked here; CA-ness and key usage are checked elsewhere.
func checkSignature(issuer, subject *x509.Certificate) error {
	if issuer.PublicKey == nil {
		return errors.New("unsupported public key algorithm")
	}
	// SHA-1 and MD5 signatures, which crypto/x509 refuses, never get here:
	// security level 2 rejects them first (sigLevelOK).
	return issuer.CheckSignature(subject.SignatureAlgorithm, subject.RawTBSCertificate, subject.Signature)
}

// certTimeReason checks a validity period as OpenSSL does, to the second:
// valid when notBefore <= now < notAfter.
func certTimeReason(c *x509.Certificate, now time.Time) VerifyReason {
	t := now.Unix()
	if c.NotBefore.Unix() > t {
		return CertNotYetValid
	}
	if c.NotAfter.Unix() <= t {
		return CertHasExpired
	}
	return 0
}

// verifyChain verifies the server's certificates (as sent, leaf first) like
// OpenSSL's X509_verify_cert with the parameters libpq uses, and returns the
// verified chain from the leaf to the trust anchor. Failures are
// *CertificateVerifyError values.
func (s *trustStore) verifyChain(peer []*x509.Certificate, now time.Time) ([]*x509.Certificate, error) {
	chain, _, err := s.verifyChainChecks(peer, now)
	if err != nil {
		return nil, err
	}
	return chain, nil
}

// verifyChainChecks is verifyChain, also returning the checks in the order
// they ran, and on failure the chain as far as it was built.
func (s *trustStore) verifyChainChecks(peer []*x509.Certificate, now time.Time) ([]*x509.Certificate, []VerifyCheck, error) {
	if len(peer) == 0 || peer[0] == nil {
		return nil, nil, &CertificateVerifyError{Reason: Unspecified, Err: errors.New("server sent no certificate")}
	}
	v := &verifier{store: s, now: now}
	for _, c := range peer {
		if c != nil {
			v.untrusted = append(v.untrusted, newCertInfo(c))
		}
	}
	v.chain = []*certInfo{v.untrusted[0]}
	v.numUntrusted = 1

	steps := []struct {
		name  string
		check func() error
	}{
		// A weak leaf key ends verification before anything else.
		{CheckLeafKey, func() error {
			if !keyLevelOK(peer[0]) {
				return v.fail(EEKeyTooSmall, 0, nil)
			}
			return nil
		}},
		{CheckChain, v.buildChain},
		{CheckExtensions, v.checkExtensions},
		{CheckSecurityLevel, v.checkAuthLevel},
		{CheckRevocation, v.checkRevocation},
		{CheckSignaturesAndValidity, v.checkSignaturesAndTimes},
		{CheckNameConstraints, v.checkNameConstraints},
	}
	checks := make([]VerifyCheck, 0, len(steps))
	var err error
	for _, step := range steps {
		switch {
		case err != nil:
			checks = append(checks, VerifyCheck{step.name, CheckNotRun})
		case step.name == CheckRevocation && !s.crlCheck:
			checks = append(checks, VerifyCheck{step.name, CheckNotConfigured})
		default:
			if err = step.check(); err != nil {
				checks = append(checks, VerifyCheck{step.name, CheckFailed})
			} else {
				checks = append(checks, VerifyCheck{step.name, CheckPassed})
			}
		}
	}
	out := make([]*x509.Certificate, len(v.chain))
	for i, ci := range v.chain {
		out[i] = ci.cert
	}
	return out, checks, err
}

// verifier is the state of one verification, like OpenSSL's X509_STORE_CTX.
type verifier struct {
	store        *trustStore
	now          time.Time
	untrusted    []*certInfo // server-sent certificates still available as issuers
	chain        []*certInfo // leaf first
	numUntrusted int         // chain[:numUntrusted] came from the server
	lookup       *dirLookup  // what the hashed directories added to the store
}

func (v *verifier) fail(r VerifyReason, depth int, err error) *CertificateVerifyError {
	var c *x509.Certificate
	if depth >= 0 && depth < len(v.chain) {
		c = v.chain[depth].cert
	}
	return &CertificateVerifyError{Reason: r, Cert: c, Depth: depth, Err: err}
}

// bestIssuer picks among candidates the first likely issuer of x that is
// currently valid, else the one expiring last (OpenSSL's preference in both
// the trust store and the server's list).
func (v *verifier) bestIssuer(x *certInfo, candidates []*certInfo, noDup bool) *certInfo {
	var best *certInfo
	for _, c := range candidates {
		if noDup && !(x.selfIssued && len(v.chain) == 1) && v.inChain(c) {
			continue
		}
		if !likelyIssued(c, x) {
			continue
		}
		if certTimeReason(c.cert, v.now) == 0 {
			return c
		}
		if best == nil || c.cert.NotAfter.After(best.cert.NotAfter) {
			best = c
		}
	}
	return best
}

func (v *verifier) inChain(c *certInfo) bool {
	for _, x := range v.chain {
		if bytes.Equal(x.cert.Raw, c.cert.Raw) {
			return true
		}
	}
	return false
}

// checkTrust is OpenSSL's check_trust over the trusted certificates added
// to the chain since position from.
func (v *verifier) checkTrust(from int) (int, error) {
	for i := from; i < len(v.chain); i++ {
		switch v.chain[i].checkTrust(false) {
		case trustTrusted:
			return trustTrusted, nil
		case trustRejected:
			return trustRejected, v.fail(CertRejected, i, nil)
		}
	}
	return trustUntrusted, nil
}

// buildChain is OpenSSL's build_chain with trusted-first issuer search and
// without partial chains: the chain grows from the leaf, each issuer taken
// from the trust store when it has one, else from the server's list; once a
// trusted certificate is in the chain only the trust store is searched.
func (v *verifier) buildChain() error {
	const (
		searchTrusted = 1 << iota
		searchUntrusted
	)
	maxDepth := maxVerifyDepth + 1
	search := searchTrusted | searchUntrusted
	trust := trustUntrusted
	for search != 0 {
		num := len(v.chain)
		if search&searchTrusted != 0 {
			curr := v.chain[num-1]
			var issuer *certInfo
			if num <= maxDepth {
				issuer = v.bestIssuer(curr, v.trustedIssuers(curr), false)
			}
			if issuer != nil {
				ok := true
				selfSigned := curr.selfSigned
				if !selfSigned {
					v.chain = append(v.chain, issuer)
					selfSigned = issuer.selfSigned
				} else if !bytes.Equal(curr.cert.Raw, issuer.cert.Raw) {
					// A self-signed certificate that merely resembles a
					// trusted one is not trusted.
					ok = false
				} else {
					num--
					v.numUntrusted = num
					v.chain[num] = issuer
				}
				if ok {
					search &^= searchUntrusted
					var err error
					if trust, err = v.checkTrust(num); err != nil {
						return err
					}
					if trust == trustTrusted {
						break
					}
					if !selfSigned {
						continue
					}
				}
			}
			if search&searchUntrusted == 0 {
				break
			}
		}
		if search&searchUntrusted != 0 {
			curr := v.chain[num-1]
			var issuer *certInfo
			if !curr.selfSigned && num <= maxDepth {
				issuer = v.bestIssuer(curr, v.untrusted, true)
			}
			if issuer == nil {
				search &^= searchUntrusted
				search |= searchTrusted
				continue
			}
			for i, c := range v.untrusted {
				if c == issuer {
					v.untrusted = append(v.untrusted[:i:i], v.untrusted[i+1:]...)
					break
				}
			}
			v.chain = append(v.chain, issuer)
			v.numUntrusted++
		}
	}
	if trust == trustTrusted {
		return nil
	}
	num := len(v.chain)
	switch {
	case num > maxDepth:
		return v.fail(CertChainTooLong, num-1, nil)
	case v.chain[num-1].selfSigned && num == 1:
		return v.fail(DepthZeroSelfSignedCert, num-1, nil)
	case v.chain[num-1].selfSigned:
		return v.fail(SelfSignedCertInChain, num-1, nil)
	case v.numUntrusted < num:
		return v.fail(UnableToGetIssuerCert, num-1, nil)
	}
	return v.fail(UnableToGetIssuerCertLocally, num-1, nil)
}

// checkExtensions is OpenSSL's check_extensions for the sslserver purpose.
func (v *verifier) checkExtensions() error {
	num := len(v.chain)
	mustBeCA := -1
	plen := 0
	for i, x := range v.chain {
		if x.unhandledCritical {
			return v.fail(UnhandledCriticalExtension, i, nil)
		}
		if x.proxy {
			return v.fail(ProxyCertificatesNotAllowed, i, nil)
		}
		if mustBeCA == 1 {
			// Intermediates must be proper CAs; the top of the chain may
			// also be a v1 root or a CA by key usage or Netscape type.
			if r := x.checkCA(); r == 0 || (i+1 < num && r != 1) {
				return v.fail(InvalidCA, i, nil)
			}
		}
		if err := v.checkPurpose(x, i, mustBeCA); err != nil {
			return err
		}
		if i > 1 && x.pathLen != -1 && plen > x.pathLen {
			return v.fail(PathLengthExceeded, i, nil)
		}
		if i > 0 && !x.selfIssued {
			plen++
		}
		mustBeCA = 1
	}
	return nil
}

func (v *verifier) checkPurpose(x *certInfo, depth, mustBeCA int) error {
	if depth >= v.numUntrusted {
		// Explicit trust settings of a trusted certificate override its
		// extensions.
		switch x.checkTrust(true) {
		case trustTrusted:
			return nil
		case trustRejected:
			return v.fail(InvalidPurpose, depth, nil)
		}
	}
	if x.checkPurposeSSLServer(mustBeCA > 0) == 0 {
		return v.fail(InvalidPurpose, depth, nil)
	}
	return nil
}

// checkAuthLevel applies the security level to the issuers' keys and to
// every signature but the trust anchor's own.
func (v *verifier) checkAuthLevel() error {
	num := len(v.chain)
	for i, x := range v.chain {
		if i > 0 && !keyLevelOK(x.cert) {
			return v.fail(CAKeyTooSmall, i, nil)
		}
		if i < num-1 && !sigLevelOK(x.cert) {
			return v.fail(CAMDTooWeak, i, nil)
		}
	}
	return nil
}

// checkSignaturesAndTimes is OpenSSL's internal_verify: from the top of the
// chain down, each certificate's signature is checked with its issuer's key
// (not the self-signature of the anchor), issuers' keyUsage must allow
// certificate signing, and every certificate must be within its validity
// period.
func (v *verifier) checkSignaturesAndTimes() error {
	n := len(v.chain) - 1
	xi := v.chain[n]
	xs := xi
	if !likelyIssued(xi, xi) {
		// The chain ends in a certificate trusted without being
		// self-issued: its own signature cannot be checked.
		if n == 0 {
			return v.fail(UnableToVerifyLeafSignature, 0, nil)
		}
		n--
		xs = v.chain[n]
	}
	for n >= 0 {
		if xs != xi {
			if xi.hasKU && xi.ku&x509.KeyUsageCertSign == 0 {
				return v.fail(KeyUsageNoCertSign, n+1, nil)
			}
			if xi.cert.PublicKey == nil {
				return v.fail(NoIssuerPublicKey, n+1, nil)
			}
			if err := checkSignature(xi.cert, xs.cert); err != nil {
				return v.fail(CertSignatureFailure, n, err)
			}
		}
		if r := certTimeReason(xs.cert, v.now); r != 0 {
			return v.fail(r, n, nil)
		}
		n--
		if n >= 0 {
			xi, xs = xs, v.chain[n]
		}
	}
	return nil
}

// checkNameConstraints applies every CA's name constraints to the
// certificates below it; self-issued intermediates are exempt, and the
// leaf's common names are checked too when it has no dNSName.
func (v *verifier) checkNameConstraints() error {
	num := len(v.chain)
	for i := num - 1; i >= 0; i-- {
		x := v.chain[i]
		if i != 0 && x.selfIssued {
			continue
		}
		for j := num - 1; j > i; j-- {
			nc := v.chain[j].nc
			if nc == nil {
				continue
			}
			r := checkNameConstraintsCert(x, nc)
			if r == 0 && i == 0 && !hasDNSName(x) {
				r = checkNameConstraintsCN(x, nc)
			}
			if r != 0 {
				return v.fail(r, i, nil)
			}
		}
	}
	return nil
}

func hasDNSName(x *certInfo) bool {
	for _, gn := range x.sans {
		if gn.tag == gnDNSName {
			return true
		}
	}
	return false
}
