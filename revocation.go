// This file holds revocation checking: finding the CRL that covers each
// certificate of a chain and applying it, as OpenSSL's check_crl family
// does.

package pqssl

import (
	"crypto/x509"
	"errors"
	"time"
)

// crlTimeReason checks a CRL's dates as OpenSSL does, to the second: valid
// when thisUpdate <= now < nextUpdate, or forever without nextUpdate.
func crlTimeReason(c *crlInfo, now time.Time) VerifyReason {
	t := now.Unix()
	if c.crl.ThisUpdate.Unix() > t {
		return CRLNotYetValid
	}
	if !c.crl.NextUpdate.IsZero() && c.crl.NextUpdate.Unix() <= t {
		return CRLHasExpired
	}
	return 0
}

// checkRevocation is the place of OpenSSL's check_revocation: after the
// extension and strength checks, before signatures and validity periods.
// When a CRL location was loaded, every certificate of the chain, the trust
// anchor included, must be covered by a CRL of its issuer that does not
// list it.
func (v *verifier) checkRevocation() error {
	if !v.store.crlCheck {
		return nil
	}
	for i := range v.chain {
		if err := v.checkCertRevocation(i); err != nil {
			return err
		}
	}
	return nil
}

// checkCertRevocation is OpenSSL's check_cert for the certificate at depth.
func (v *verifier) checkCertRevocation(depth int) error {
	x := v.chain[depth]
	if x.proxy {
		return nil
	}
	reasons := 0
	for reasons != crlAllReasons {
		last := reasons
		c, issuer, score, got := v.findCRL(depth, reasons)
		if c == nil {
			return v.failCRL(UnableToGetCRL, depth, nil, nil)
		}
		reasons = got
		if err := v.checkCRL(depth, c, issuer, score); err != nil {
			return err
		}
		if err := v.checkCRLEntries(depth, c); err != nil {
			return err
		}
		if last == reasons {
			return v.failCRL(UnableToGetCRL, depth, nil, nil)
		}
	}
	return nil
}

// failCRL reports a revocation failure concerning the certificate at depth
// and, when known, the CRL consulted.
func (v *verifier) failCRL(r VerifyReason, depth int, c *crlInfo, err error) *CertificateVerifyError {
	e := v.fail(r, depth, err)
	if c != nil {
		e.CRL = c.crl
	}
	return e
}

// findCRL picks the CRL to check the certificate at depth against, given
// the reasons already covered (OpenSSL's get_crl_delta and get_crl_sk): the
// highest scored candidate, the most recent among equals. It returns the
// CRL's issuer in the chain, its score and the reasons covered with it.
func (v *verifier) findCRL(depth, reasons int) (best *crlInfo, issuer *certInfo, score, covered int) {
	x := v.chain[depth]
	for _, c := range v.lookupCRLs(x) {
		s, iss, r := v.crlScore(depth, c, reasons)
		if s == 0 || s < score {
			continue
		}
		if s == score && best != nil && c.crl.ThisUpdate.Unix() <= best.crl.ThisUpdate.Unix() {
			continue
		}
		best, issuer, score, covered = c, iss, s, r
	}
	return best, issuer, score, covered
}

// crlScore is OpenSSL's get_crl_score, without extended CRL support: 0 when
// the CRL cannot be used for the certificate at depth at all.
func (v *verifier) crlScore(depth int, c *crlInfo, reasons int) (score int, issuer *certInfo, covered int) {
	x := v.chain[depth]
	if c.idpFlags&(idpInvalid|idpIndirect|idpReasons) != 0 {
		return 0, nil, 0
	}
	if !x.nameOK || !c.nameOK || x.issuer != c.issuer {
		return 0, nil, 0 // only an indirect CRL could do
	}
	score = crlScoreIssuerName
	if !c.critical {
		score |= crlScoreNoCritical
	}
	if crlTimeReason(c, v.now) == 0 {
		score |= crlScoreTime
	}
	issuer, bits := v.crlIssuer(depth, c, score)
	score |= bits
	if score&crlScoreAKID == 0 {
		return 0, nil, 0
	}
	if inScope, r := crlCovers(x, c, score); inScope {
		if r&^reasons == 0 {
			return 0, nil, 0
		}
		reasons |= r
		score |= crlScoreScope
	}
	return score, issuer, reasons
}

// crlIssuer is OpenSSL's crl_akid_check: the CRL's issuer is the
// certificate's issuer in the chain (the anchor for the anchor itself) if
// the CRL's authority key identifier allows, else a certificate further up
// the chain with the CRL issuer's name and a matching key identifier.
func (v *verifier) crlIssuer(depth int, c *crlInfo, score int) (*certInfo, int) {
	last := len(v.chain) - 1
	i := depth
	if i != last {
		i++
	}
	if iss := v.chain[i]; checkAKID(iss, c.akid) && score&crlScoreIssuerName != 0 {
		return iss, crlScoreAKID | crlScoreIssuerCert
	}
	for i++; i <= last; i++ {
		iss := v.chain[i]
		if !iss.nameOK || iss.subject != c.issuer {
			continue
		}
		if checkAKID(iss, c.akid) {
			return iss, crlScoreAKID | crlScoreSamePath
		}
	}
	return nil, 0
}

// crlCovers is OpenSSL's crl_crldp_check: whether x is within the CRL's
// scope (its issuingDistributionPoint against x's cRLDistributionPoints),
// and the reasons the CRL covers for it.
func crlCovers(x *certInfo, c *crlInfo, score int) (bool, int) {
	if c.idpFlags&idpOnlyAttr != 0 {
		return false, 0
	}
	if x.hasBC && x.isCA {
		if c.idpFlags&idpOnlyUser != 0 {
			return false, 0
		}
	} else if c.idpFlags&idpOnlyCA != 0 {
		return false, 0
	}
	reasons := c.idpReasons
	hasIDP := c.idpFlags&idpPresent != 0
	for _, dp := range crlDistPoints(x) {
		if !dpIssuerMatches(dp, c, score) {
			continue
		}
		if !hasIDP || idpMatchesDP(dp.name, c.idpName) {
			return true, reasons & dp.reasons
		}
	}
	if (!hasIDP || c.idpName == nil) && score&crlScoreIssuerName != 0 {
		return true, reasons
	}
	return false, 0
}

// dpIssuerMatches is OpenSSL's crldp_check_crlissuer.
func dpIssuerMatches(dp distPoint, c *crlInfo, score int) bool {
	if !dp.hasIssuer {
		return score&crlScoreIssuerName != 0
	}
	for _, gn := range dp.crlIssuer {
		if c.nameOK && dirNameIs(gn, c.issuer) {
			return true
		}
	}
	return false
}

// checkCRL is OpenSSL's check_crl: the issuer may sign CRLs, the CRL covers
// the certificate, is current, and its signature verifies.
func (v *verifier) checkCRL(depth int, c *crlInfo, issuer *certInfo, score int) error {
	if !c.delta {
		if issuer.hasKU && issuer.ku&x509.KeyUsageCRLSign == 0 {
			return v.failCRL(KeyUsageNoCRLSign, depth, c, nil)
		}
		if score&crlScoreScope == 0 {
			return v.failCRL(DifferentCRLScope, depth, c, nil)
		}
	}
	if score&crlScoreTime == 0 {
		if r := crlTimeReason(c, v.now); r != 0 {
			return v.failCRL(r, depth, c, nil)
		}
	}
	if err := checkCRLSignature(issuer.cert, c.crl); err != nil {
		return v.failCRL(CRLSignatureFailure, depth, c, err)
	}
	return nil
}

func checkCRLSignature(issuer *x509.Certificate, crl *x509.RevocationList) error {
	if issuer.PublicKey == nil {
		return errors.New("issuer public key not supported")
	}
	return issuer.CheckSignature(crl.SignatureAlgorithm, crl.RawTBSRevocationList, crl.Signature)
}

// checkCRLEntries is OpenSSL's cert_crl: a CRL with an unhandled critical
// extension cannot vouch for anything, and a listed certificate is revoked
// unless its entry's reason is removeFromCRL.
func (v *verifier) checkCRLEntries(depth int, c *crlInfo) error {
	if c.critical {
		return v.failCRL(UnhandledCriticalCRLExtension, depth, c, nil)
	}
	x := v.chain[depth]
	for _, e := range c.entries {
		if e.serial.Cmp(x.cert.SerialNumber) != 0 || !entryIssuerMatches(c, x, e) {
			continue
		}
		if e.reason == crlReasonRemoveFromCRL {
			return nil
		}
		return v.failCRL(CertRevoked, depth, c, nil)
	}
	return nil
}

// entryIssuerMatches is OpenSSL's crl_revoked_issuer_match.
func entryIssuerMatches(c *crlInfo, x *certInfo, e crlEntry) bool {
	if !x.nameOK {
		return false
	}
	if e.issuers == nil {
		return c.nameOK && x.issuer == c.issuer
	}
	for _, gn := range e.issuers {
		if dirNameIs(gn, x.issuer) {
			return true
		}
	}
	return false
}
