// This file holds OpenSSL's hashed directories (HASH.N and HASH.rN files):
// SSL_CERT_DIR read when the store loads, sslcrldir looked up by issuer
// name during a verification, as X509_LOOKUP_hash_dir does.

package pqssl

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

var hashedName = regexp.MustCompile(`^([0-9a-f]{8})\.([0-9]+)$`)

// addHashedDir adds the certificates of an OpenSSL hashed directory. OpenSSL
// looks files up by issuer name hash (HASH.0, HASH.1, ... until one is
// missing); reading every such file whose certificates carry that hash finds
// the same certificates.
func (s *trustStore) addHashedDir(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	present := make(map[string]bool)
	for _, e := range entries {
		present[e.Name()] = true
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		m := hashedName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		contiguous := true
		for i := 0; i < n; i++ {
			if !present[m[1]+"."+strconv.Itoa(i)] {
				contiguous = false
				break
			}
		}
		if contiguous {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		blocks, reason := readPEM(data)
		if reason != "" {
			continue
		}
		for _, b := range blocks {
			if !isCertPEM(b.name) {
				continue
			}
			ci, reason, _ := parseStoreCert(b.data, b.name == "TRUSTED CERTIFICATE")
			if reason == "" && nameHash(ci.subject) == name[:8] {
				s.add(ci)
			}
		}
	}
}

// nameHash is OpenSSL's X509_NAME_hash: the first four bytes of the SHA-1
// of the canonical encoding, as a little-endian number in hex.
func nameHash(canon string) string {
	h := sha1.Sum([]byte(canon))
	return fmt.Sprintf("%08x", binary.LittleEndian.Uint32(h[:4]))
}

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
		case !crls && isCertPEM(b.name):
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
