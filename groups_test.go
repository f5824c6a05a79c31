package pqssl

import (
	"crypto/tls"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestCurvesFrom(t *testing.T) {
	tests := []struct {
		id   tls.CurveID
		want []tls.CurveID
	}{
		{tls.X25519MLKEM768, nil},
		{tls.X25519, nil},
		{tls.CurveP256, []tls.CurveID{tls.CurveP256, tls.CurveP384, tls.CurveP521}},
		{tls.CurveP384, []tls.CurveID{tls.CurveP384, tls.CurveP521}},
		{tls.CurveP521, []tls.CurveID{tls.CurveP521}},
		{0x6399, nil}, // a group crypto/tls does not offer by default
	}
	for _, tt := range tests {
		if got := curvesFrom(tt.id); !slices.Equal(got, tt.want) {
			t.Errorf("curvesFrom(%v) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestGroupCache(t *testing.T) {
	var g groupCache
	if g.curves("a:1") != nil {
		t.Fatal("an empty cache offers a restriction")
	}
	g.learn("a:1", tls.CurveP256)
	g.learn("b:1", tls.X25519)
	if got := g.curves("a:1"); len(got) == 0 || got[0] != tls.CurveP256 {
		t.Errorf("after learning P-256: %v", got)
	}
	if got := g.curves("b:1"); got != nil {
		t.Errorf("after learning X25519: %v, want the defaults", got)
	}
	g.forget("a:1")
	if got := g.curves("a:1"); got != nil {
		t.Errorf("after forget: %v", got)
	}
	g.learn("old:1", tls.CurveP384)
	g.m["old:1"] = learnedGroup{id: tls.CurveP384, learned: time.Now().Add(-2 * learnedGroupTTL)}
	if got := g.curves("old:1"); got != nil {
		t.Errorf("an expired entry is still used: %v", got)
	}
	for i := 0; i < 2*maxLearnedGroups; i++ {
		g.learn("h"+strconv.Itoa(i)+":1", tls.CurveP256)
	}
	if len(g.m) > maxLearnedGroups {
		t.Errorf("%d entries, want at most %d", len(g.m), maxLearnedGroups)
	}
}
