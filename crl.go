package pqssl

// Certificate revocation lists, as libpq 15 uses them with OpenSSL 3.0.
//
// libpq considers CRLs only after it has loaded a root certificate file. It
// then calls X509_STORE_load_locations(store, sslcrl, sslcrldir), with
// sslcrl defaulting to ~/.postgresql/root.crl when neither parameter is
// set, and when that call succeeds it turns on X509_V_FLAG_CRL_CHECK and
// X509_V_FLAG_CRL_CHECK_ALL. What follows from OpenSSL's implementation of
// that call, all measured with libpq 15:
//
//   - The CRL file is read like a root file (PEM only): if it cannot be
//     read, holds a malformed PEM block, certificate or CRL, or holds no
//     certificate and no CRL, the call fails and there is no revocation
//     checking at all, even when sslcrldir is set (OpenSSL gives up before
//     it records the directory). A DER CRL file therefore switches nothing
//     on in libpq; pqssl departs from that on purpose and uses a file that
//     holds exactly one DER CRL (see loadFile).
//   - Certificates in the CRL file join the trust store: a self-signed one
//     becomes a trust anchor.
//   - sslcrldir is a list of directories (separated like PATH) that is only
//     recorded: the call succeeds whether or not they exist, and checking
//     is on.
//   - With checking on, every certificate of the chain, the trust anchor
//     included, needs a CRL from its issuer; CRLs found in the root file
//     count too.
//
// The directories are OpenSSL hashed directories, read lazily during
// verification: the CRLs of issuer N are looked for in files named
// HASH.r0, HASH.r1, ... (HASH being OpenSSL's hash of N, as
// "openssl crl -hash" prints it) up to the first that is missing, cannot be
// read or holds no PEM CRL, and every CRL such a file holds joins the
// store, whatever its issuer (up to a malformed block, if any). The same directories also serve certificates, from files named
// HASH.0, HASH.1, ..., when the trust store has no certificate with the
// subject a chain needs: a root placed there is trusted.
//
// Choosing and checking a CRL follows OpenSSL's check_cert without extended
// CRL support or delta CRLs (libpq sets neither flag): a CRL must be issued
// under the certificate's issuer name, by a certificate of the chain its
// authority key identifier matches; indirect CRLs and CRLs limited to some
// reasons are never used; among the candidates the best scored (no
// unhandled critical extension, current, in scope), then the most recent,
// wins. The chosen CRL's issuer must allow cRLSign, its scope must cover the
// certificate, it must be current and its signature must verify, and then
// the certificate must not be listed (removeFromCRL entries do not count).
// A delta CRL is taken as a complete one, as OpenSSL 3.0 does without
// X509_V_FLAG_USE_DELTAS.
//
// Known differences from OpenSSL: CRLs that crypto/x509 cannot parse count
// as malformed, except v1 CRLs (no version field), which are read; CRL
// signatures with MD5 or other algorithms crypto/x509 refuses fail to
// verify; among CRLs of equal score and date the first loaded is used,
// where OpenSSL's choice depends on its sort order.

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pqssl/pqssl/internal/oid"
)

// crlAllReasons is OpenSSL's CRLDP_ALL_REASONS: the reason flags (as the
// first two octets of a ReasonFlags bit string) a certificate must be
// covered for.
const crlAllReasons = 0x807f

// crlReasonRemoveFromCRL is the CRLReason of an entry that lifts a hold.
const crlReasonRemoveFromCRL = 8

// Flags derived from a CRL's issuingDistributionPoint (OpenSSL's idp_flags).
const (
	idpPresent = 1 << iota
	idpInvalid // more than one of the "only" flags
	idpOnlyUser
	idpOnlyCA
	idpOnlyAttr
	idpIndirect
	idpReasons
)

// The bits of OpenSSL's CRL score, which ranks the CRLs that might cover a
// certificate.
const (
	crlScoreNoCritical = 0x100 // no unhandled critical extension
	crlScoreScope      = 0x080 // the certificate is within the CRL's scope
	crlScoreTime       = 0x040 // the CRL is current
	crlScoreIssuerName = 0x020 // the CRL's issuer is the certificate's issuer
	crlScoreIssuerCert = 0x018 // the CRL issuer is the certificate's issuer
	crlScoreSamePath   = 0x008 // the CRL issuer is on the chain
	crlScoreAKID       = 0x004 // the CRL issuer matches the CRL's authority key id
)

// ---------------------------------------------------------------------------
// CRLs and distribution points

// crlInfo is a CRL with what OpenSSL caches about it when it parses one.
type crlInfo struct {
	crl    *x509.RevocationList
	issuer string // canonical issuer name
	nameOK bool

	akid       *authorityKeyID
	idpFlags   int
	idpReasons int
	idpName    *distPointName // the IDP's distributionPoint, nil when absent
	critical   bool           // an unhandled critical CRL or entry extension
	delta      bool           // a deltaCRLIndicator is present

	entries []crlEntry
}

type crlEntry struct {
	serial *big.Int
	reason int // CRLReason, -1 when the entry has none
	// issuers are the names of the certificateIssuer extension in force
	// for the entry (it carries over to the entries that follow); nil
	// means the CRL's issuer.
	issuers []generalName
}

// distPointName is a DistributionPointName as OpenSSL compares them: a
// fullName list, or a name relative to the CRL issuer, resolved by
// appending it to the issuer's name (DIST_POINT_set_dpname).
type distPointName struct {
	relative bool
	full     []generalName
	dpname   string // canonical, for a relative name
	dpnameOK bool
}

type distPoint struct {
	name      *distPointName
	reasons   int
	crlIssuer []generalName
	hasIssuer bool // cRLIssuer present, even if empty
}

// parseCRL parses a DER CRL. Besides what crypto/x509 reads it accepts v1
// CRLs (no version field), which OpenSSL reads and "openssl ca -gencrl"
// writes when no CRL extension is configured.
func parseCRL(der []byte) (*x509.RevocationList, error) {
	crl, err := x509.ParseRevocationList(der)
	if err == nil {
		return crl, nil
	}
	patched, tbs, ok := withCRLVersion(der)
	if !ok {
		return nil, err
	}
	crl, err2 := x509.ParseRevocationList(patched)
	if err2 != nil {
		return nil, err
	}
	// The signature covers the original encoding.
	crl.Raw, crl.RawTBSRevocationList = der, tbs
	return crl, nil
}

// withCRLVersion returns a copy of a v1 CRL with a v2 version field added
// to its TBSCertList, and the original TBSCertList.
func withCRLVersion(der []byte) (patched, tbs []byte, ok bool) {
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(der, &outer); err != nil || outer.Tag != asn1.TagSequence {
		return nil, nil, false
	}
	var t asn1.RawValue
	rest, err := asn1.Unmarshal(outer.Bytes, &t)
	if err != nil || t.Tag != asn1.TagSequence {
		return nil, nil, false
	}
	var first asn1.RawValue
	if _, err := asn1.Unmarshal(t.Bytes, &first); err != nil || first.Class != asn1.ClassUniversal || first.Tag != asn1.TagSequence {
		return nil, nil, false // a version field is there, or something else is wrong
	}
	newTBS := derTLV(0x30, append([]byte{0x02, 0x01, 0x01}, t.Bytes...))
	return derTLV(0x30, append(newTBS, rest...)), t.FullBytes, true
}

func newCRLInfo(crl *x509.RevocationList) *crlInfo {
	c := &crlInfo{crl: crl, nameOK: true, idpReasons: crlAllReasons}
	n, err := parseName(crl.RawIssuer)
	if err != nil {
		c.nameOK = false
		c.issuer = "\x00invalid CRL issuer\x00" + string(crl.Raw)
	} else {
		c.issuer = n.canon
	}
	// OpenSSL ignores an extension that occurs more than once.
	count := func(oid asn1.ObjectIdentifier) int {
		k := 0
		for _, e := range crl.Extensions {
			if e.Id.Equal(oid) {
				k++
			}
		}
		return k
	}
	for _, e := range crl.Extensions {
		switch {
		case e.Id.Equal(oid.IssuingDistributionPoint):
			if count(e.Id) == 1 {
				c.parseIDP(e.Value)
			}
		case e.Id.Equal(oid.AuthorityKeyID):
			if count(e.Id) == 1 {
				c.akid = parseAuthorityKeyID(e.Value)
			}
		case e.Id.Equal(oid.DeltaCRLIndicator):
			var base *big.Int
			if _, err := asn1.Unmarshal(e.Value, &base); err == nil && count(e.Id) == 1 {
				c.delta = true
			}
		default:
			if e.Critical {
				c.critical = true
			}
		}
	}
	var issuers []generalName
	for _, r := range crl.RevokedCertificateEntries {
		ent := crlEntry{serial: r.SerialNumber, reason: -1}
		for _, e := range r.Extensions {
			switch {
			case e.Id.Equal(oid.CertificateIssuer):
				if names, err := parseGeneralNames(e.Value); err == nil {
					issuers = names
					if issuers == nil {
						issuers = []generalName{}
					}
				}
				continue
			case e.Id.Equal(oid.CRLReason):
				ent.reason = r.ReasonCode
			}
			if e.Critical {
				c.critical = true
			}
		}
		ent.issuers = issuers
		c.entries = append(c.entries, ent)
	}
	return c
}

// parseIDP reads an issuingDistributionPoint extension. A malformed one is
// ignored, as OpenSSL does (it flags the CRL invalid but never looks at the
// flag).
func (c *crlInfo) parseIDP(der []byte) {
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(der, &seq); err != nil || seq.Tag != asn1.TagSequence {
		return
	}
	flags, reasons := idpPresent, crlAllReasons
	var name *distPointName
	only, ok := 0, true
	for b := seq.Bytes; len(b) > 0; {
		var f asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &f); err != nil || f.Class != asn1.ClassContextSpecific {
			return
		}
		isTrue := len(f.Bytes) == 1 && f.Bytes[0] != 0
		switch f.Tag {
		case 0:
			if name = parseDistPointName(f.Bytes, c.issuer, c.nameOK); name == nil {
				return
			}
		case 1:
			if isTrue {
				only++
				flags |= idpOnlyUser
			}
		case 2:
			if isTrue {
				only++
				flags |= idpOnlyCA
			}
		case 5:
			if isTrue {
				only++
				flags |= idpOnlyAttr
			}
		case 3:
			flags |= idpReasons
			if reasons, ok = reasonFlags(f.Bytes, crlAllReasons); !ok {
				return
			}
		case 4:
			if isTrue {
				flags |= idpIndirect
			}
		}
	}
	if only > 1 {
		flags |= idpInvalid
	}
	c.idpFlags, c.idpReasons, c.idpName = flags, reasons, name
}

// reasonFlags turns the content octets of a ReasonFlags bit string into
// OpenSSL's reason mask: the first two octets, the first one low. A bit
// string without octets gives empty, as OpenSSL leaves the mask as it was.
func reasonFlags(content []byte, empty int) (int, bool) {
	if len(content) == 0 || content[0] > 7 || (len(content) == 1 && content[0] != 0) {
		return 0, false
	}
	data := content[1:]
	if len(data) == 0 {
		return empty, true
	}
	// The unused bits of the last octet read as zero.
	data = append([]byte(nil), data...)
	data[len(data)-1] &= 0xff << content[0]
	r := int(data[0])
	if len(data) > 1 {
		r |= int(data[1]) << 8
	}
	return r & crlAllReasons, true
}

// parseDistPointName reads the content of an explicitly tagged
// DistributionPointName; iname is the canonical name a relative name is
// appended to.
func parseDistPointName(content []byte, iname string, inameOK bool) *distPointName {
	var v asn1.RawValue
	if _, err := asn1.Unmarshal(content, &v); err != nil || v.Class != asn1.ClassContextSpecific {
		return nil
	}
	switch v.Tag {
	case 0:
		names, err := parseGeneralNamesContent(v.Bytes)
		if err != nil {
			return nil
		}
		return &distPointName{full: names}
	case 1:
		// Each attribute of the relative name becomes an RDN of its own
		// after the issuer's, as X509_NAME_add_entry arranges them.
		dp := &distPointName{relative: true, dpnameOK: inameOK}
		canon := iname
		for b := v.Bytes; len(b) > 0; {
			var atv asn1.RawValue
			var err error
			if b, err = asn1.Unmarshal(b, &atv); err != nil {
				return nil
			}
			n, err := parseName(derTLV(0x30, derTLV(0x31, atv.FullBytes)))
			if err != nil {
				dp.dpnameOK = false
				break
			}
			canon += n.canon
		}
		dp.dpname = canon
		return dp
	}
	return nil
}

// crlDistPoints returns the cRLDistributionPoints of a certificate; none
// when the extension is absent or malformed.
func crlDistPoints(x *certInfo) []distPoint {
	ext, ok := findExtension(x.cert, oid.CRLDistributionPoints)
	if !ok {
		return nil
	}
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(ext.Value, &seq); err != nil || seq.Tag != asn1.TagSequence {
		return nil
	}
	var dps []distPoint
	for b := seq.Bytes; len(b) > 0; {
		var dpSeq asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &dpSeq); err != nil {
			return nil
		}
		dp := distPoint{reasons: crlAllReasons}
		var rawName []byte
		for f := dpSeq.Bytes; len(f) > 0; {
			var v asn1.RawValue
			if f, err = asn1.Unmarshal(f, &v); err != nil || v.Class != asn1.ClassContextSpecific {
				return nil
			}
			switch v.Tag {
			case 0:
				rawName = v.Bytes
			case 1:
				if dp.reasons, ok = reasonFlags(v.Bytes, 0); !ok {
					return nil
				}
			case 2:
				if dp.crlIssuer, err = parseGeneralNamesContent(v.Bytes); err != nil {
					return nil
				}
				dp.hasIssuer = true
			}
		}
		if rawName != nil {
			// A relative name is relative to the CRL issuer: the first
			// directoryName of cRLIssuer, else the certificate's issuer.
			// (crypto/x509 refuses certificates with relative names, so
			// only CRLs have them in practice.)
			iname, inameOK := x.issuer, x.nameOK
			for _, gn := range dp.crlIssuer {
				if gn.tag == gnDirectoryName {
					n, err := parseName(gn.value)
					iname, inameOK = n.canon, err == nil
					break
				}
			}
			if dp.name = parseDistPointName(rawName, iname, inameOK); dp.name == nil {
				return nil
			}
		}
		dps = append(dps, dp)
	}
	return dps
}

// dirNameIs reports whether gn is a directoryName equal to the canonical
// name canon.
func dirNameIs(gn generalName, canon string) bool {
	if gn.tag != gnDirectoryName {
		return false
	}
	n, err := parseName(gn.value)
	return err == nil && n.canon == canon
}

// generalNamesEqual is OpenSSL's GENERAL_NAME_cmp == 0.
func generalNamesEqual(a, b generalName) bool {
	if a.tag != b.tag {
		return false
	}
	if a.tag == gnDirectoryName {
		na, errA := parseName(a.value)
		nb, errB := parseName(b.value)
		return errA == nil && errB == nil && na.canon == nb.canon
	}
	return bytes.Equal(a.value, b.value)
}

// idpMatchesDP is OpenSSL's idp_check_dp: a is a distribution point of the
// certificate, b the CRL's; either missing matches.
func idpMatchesDP(a, b *distPointName) bool {
	if a == nil || b == nil {
		return true
	}
	var nm string
	var gens []generalName
	switch {
	case a.relative && b.relative:
		return a.dpnameOK && b.dpnameOK && a.dpname == b.dpname
	case a.relative:
		if !a.dpnameOK {
			return false
		}
		nm, gens = a.dpname, b.full
	case b.relative:
		if !b.dpnameOK {
			return false
		}
		nm, gens = b.dpname, a.full
	default:
		for _, ga := range a.full {
			for _, gb := range b.full {
				if generalNamesEqual(ga, gb) {
					return true
				}
			}
		}
		return false
	}
	for _, g := range gens {
		if dirNameIs(g, nm) {
			return true
		}
	}
	return false
}

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

// ---------------------------------------------------------------------------
// Revocation checking (OpenSSL's check_revocation with CRL_CHECK_ALL)

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

// ---------------------------------------------------------------------------
// The store: CRLs, and the hashed directories read during one verification

// dirLookup is what OpenSSL's hashed-directory lookup has added to the
// store during one verification, and how far it has read each directory's
// CRL files.
type dirLookup struct {
	bySubject map[string][]*certInfo
	crls      []*crlInfo
	next      map[string]int // dir "\x00" hash: the first CRL file suffix not yet loaded
}

func (v *verifier) dirs() *dirLookup {
	if v.lookup == nil {
		v.lookup = &dirLookup{bySubject: make(map[string][]*certInfo), next: make(map[string]int)}
	}
	return v.lookup
}

// storeCRLs returns the CRLs of the store (and those loaded from the
// directories so far) issued under the canonical name.
func (v *verifier) storeCRLs(name string) []*crlInfo {
	var out []*crlInfo
	for _, c := range v.store.crls {
		if c.nameOK && c.issuer == name {
			out = append(out, c)
		}
	}
	if v.lookup != nil {
		for _, c := range v.lookup.crls {
			if c.nameOK && c.issuer == name {
				out = append(out, c)
			}
		}
	}
	return out
}

// lookupCRLs returns the CRLs that might cover x: those issued under x's
// issuer name, after reading the directories' CRL files for that name as
// OpenSSL's X509_STORE_CTX_get1_crls does.
func (v *verifier) lookupCRLs(x *certInfo) []*crlInfo {
	if !x.nameOK {
		return nil
	}
	name := x.issuer
	if len(v.store.crlDirs) > 0 {
		l := v.dirs()
		h := nameHash(name)
		for _, dir := range v.store.crlDirs {
			key := dir + "\x00" + h
			k := l.next[key]
			for ; v.loadDirFile(dir+"/"+h+".r"+strconv.Itoa(k), true); k++ {
			}
			l.next[key] = max(l.next[key], k)
			if k > 0 && len(v.storeCRLs(name)) > 0 {
				break
			}
		}
	}
	return v.storeCRLs(name)
}

// trustedIssuers returns the store's certificates whose subject is x's
// issuer name. When there are none, the directories are searched for
// certificates of that name as OpenSSL's hashed-directory lookup does.
func (v *verifier) trustedIssuers(x *certInfo) []*certInfo {
	name := x.issuer
	found := v.store.bySubject[name]
	if len(v.store.crlDirs) == 0 {
		return found
	}
	l := v.dirs()
	if len(found) == 0 && len(l.bySubject[name]) == 0 && x.nameOK {
		h := nameHash(name)
		for _, dir := range v.store.crlDirs {
			k := 0
			for ; v.loadDirFile(dir+"/"+h+"."+strconv.Itoa(k), false); k++ {
			}
			if k > 0 && len(l.bySubject[name]) > 0 {
				break
			}
		}
	}
	if extra := l.bySubject[name]; len(extra) > 0 {
		return append(found[:len(found):len(found)], extra...)
	}
	return found
}

// loadDirFile loads one file of a hashed directory into the lookup's part
// of the store: its CRLs (crls set) or its certificates, PEM only, one
// block after another. It reports whether the file held at least one and
// nothing malformed; what was read before a malformed block stays loaded,
// as in OpenSSL.
func (v *verifier) loadDirFile(path string, crls bool) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	l := v.dirs()
	blocks, reason := readPEM(data)
	n := 0
	for _, b := range blocks {
		switch {
		case crls && b.name == "X509 CRL":
			der, r := firstTLV(b.data)
			if r != "" {
				return false
			}
			crl, err := parseCRL(der)
			if err != nil {
				return false
			}
			l.addCRL(newCRLInfo(crl))
			n++
		case !crls && (b.name == "CERTIFICATE" || b.name == "X509 CERTIFICATE" || b.name == "TRUSTED CERTIFICATE"):
			ci, r, _ := parseStoreCert(b.data, b.name == "TRUSTED CERTIFICATE")
			if r != "" {
				return false
			}
			v.addDirCert(ci)
			n++
		}
	}
	return reason == "" && n > 0
}

func (l *dirLookup) addCRL(c *crlInfo) {
	for _, o := range l.crls {
		if bytes.Equal(o.crl.Raw, c.crl.Raw) {
			return
		}
	}
	l.crls = append(l.crls, c)
}

func (v *verifier) addDirCert(ci *certInfo) {
	for _, c := range v.store.bySubject[ci.subject] {
		if bytes.Equal(c.cert.Raw, ci.cert.Raw) {
			return
		}
	}
	l := v.lookup
	for _, c := range l.bySubject[ci.subject] {
		if bytes.Equal(c.cert.Raw, ci.cert.Raw) {
			return
		}
	}
	l.bySubject[ci.subject] = append(l.bySubject[ci.subject], ci)
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
