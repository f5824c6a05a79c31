// This file holds key-exchange group learning: the group each server chose
// in its last verified handshake, offered first on the next connection so
// that the server need not answer with a HelloRetryRequest.

package pqssl

import (
	"crypto/tls"
	"sync"
	"time"
)

// PostgreSQL up to 17 accepts one group by default (ssl_ecdh_curve =
// prime256v1), while crypto/tls opens with X25519MLKEM768 and X25519 key
// shares: every handshake then costs a HelloRetryRequest, one round trip.
// crypto/tls sends key shares only for the first groups of its own order,
// whatever the order of Config.CurvePreferences, so offering a share for a
// learned group means leaving out the groups crypto/tls ranks above it.
// The groups left are still strong ones, all that server accepted in its
// last verified handshake among them; should the server change its
// configuration and refuse them all, the handshake is redone with the
// default groups once and the group forgotten.

// goCurveOrder is crypto/tls's own preference order of the groups it offers
// by default.
var goCurveOrder = []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}

// Bounds of a groupCache.
const (
	maxLearnedGroups = 1024
	learnedGroupTTL  = time.Hour
)

// groupCache remembers, per server address, the group chosen in the last
// verified handshake. It is safe for concurrent use.
type groupCache struct {
	mu sync.Mutex
	m  map[string]learnedGroup
}

type learnedGroup struct {
	id      tls.CurveID
	learned time.Time
}

// curves returns the CurvePreferences to offer addr: nil (crypto/tls's
// defaults) unless a group ranked below the default key shares was learned.
func (g *groupCache) curves(addr string) []tls.CurveID {
	g.mu.Lock()
	e, ok := g.m[addr]
	if ok && time.Since(e.learned) > learnedGroupTTL {
		delete(g.m, addr)
		ok = false
	}
	g.mu.Unlock()
	if !ok {
		return nil
	}
	return curvesFrom(e.id)
}

// curvesFrom returns crypto/tls's default groups from id on, nil when id is
// one crypto/tls already sends a key share for, or one it does not offer.
func curvesFrom(id tls.CurveID) []tls.CurveID {
	for i, c := range goCurveOrder {
		if c == id {
			if i < 2 {
				return nil
			}
			return append([]tls.CurveID(nil), goCurveOrder[i:]...)
		}
	}
	return nil
}

// learn records the group addr chose in a verified handshake.
func (g *groupCache) learn(addr string, id tls.CurveID) {
	if id == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = make(map[string]learnedGroup)
	}
	if _, ok := g.m[addr]; !ok && len(g.m) >= maxLearnedGroups {
		// Forget the oldest entry; a server forgotten costs one
		// HelloRetryRequest.
		var oldest string
		var t time.Time
		for a, e := range g.m {
			if oldest == "" || e.learned.Before(t) {
				oldest, t = a, e.learned
			}
		}
		delete(g.m, oldest)
	}
	g.m[addr] = learnedGroup{id: id, learned: time.Now()}
}

// forget drops what was learned of addr.
func (g *groupCache) forget(addr string) {
	g.mu.Lock()
	delete(g.m, addr)
	g.mu.Unlock()
}
