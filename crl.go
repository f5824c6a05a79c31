// This file holds certificate revocation lists: parsing them and the facts
// revocation checking needs.

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
	"math/big"

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
