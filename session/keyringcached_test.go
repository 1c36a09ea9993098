package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestASessionCheckedWhileTheKeysFollowANewSecretIsNotCachedOverIt: with
// EdDSA, the gate adopts the store's new secret (its cache emptied), then
// loads the keys that go with it, emptying the cache again where a key it
// held is gone. A session of the old secret's key checked between the
// two (its key still held) is cached; where another load (a request's,
// for a kid the gate did not hold) had put the new keys in first, the
// gate's own load found none gone and left the cache as it was: the old
// session was let in from it until it expired. Now the cache is emptied
// once the keys follow a new secret, whatever load put them in.
func TestASessionCheckedWhileTheKeysFollowANewSecretIsNotCachedOverIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Alg: "EdDSA", Lifetime: 24 * time.Hour, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	m.FlushCache() // checked at its next use, as one signed in at another gate
	m.OnNewSecret(func([]byte) {
		// Adopted, the keys not loaded yet: a request checks the old
		// session, another one's kid (unknown, the keys stale) loads them.
		if m.Check(ctx, tok) == nil {
			t.Error("the old key's session refused before the keys follow the new secret (the test's premise)")
		}
		m.ring.mu.Lock()
		m.ring.loadedAt = time.Time{}
		m.ring.mu.Unlock()
		if _, err := m.ring.verifying("ed9-unknown"); err == nil {
			t.Error("an unknown kid verified")
		}
	})
	if err := NewSecret(ctx, st); err != nil {
		t.Fatal(err)
	}
	if change, err := m.Reconcile(ctx); err != nil || change != SecretAdopted {
		t.Fatalf("reconcile: %v, %v", change, err)
	}
	if m.Check(ctx, tok) != nil {
		t.Error("a session of the old secret's key, checked while the gate adopted the new one, is let in after it")
	}
}

// TestKeysTheStoreReplacedEmptyTheCache: a gate of a configured secret
// whose EdDSA keys the store replaced (wiped, and another gate of that
// secret made new ones) refuses, from its next Reconcile, a session its
// old key signed that it had checked and cached: the keyring's load that
// finds a held key gone empties the cache (keyring.gone; Reconcile's own
// flush, which did it again, went). On Badger.
func TestKeysTheStoreReplacedEmptyTheCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	cfg := Config{Store: st, Realm: "example.com", Secret: []byte("0123456789abcdef0123456789abcdef"), Alg: "EdDSA", Lifetime: time.Hour, Now: time.Now}
	m, err := NewManager(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	awaitingPolls(m)
	tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Check(ctx, tok) == nil {
		t.Fatal("premise: the session is let in (and cached)")
	}
	wipe(t, st)
	if _, err := NewManager(ctx, cfg); err != nil { // the other gate: new keys
		t.Fatal(err)
	}
	if change, err := m.Reconcile(ctx); err != nil || change != SecretAdopted { // its keys replaced: what they signed is refused
		t.Fatalf("reconcile: %v, %v", change, err)
	}
	if m.Check(ctx, tok) != nil {
		t.Error("a session of a key the store replaced is let in from the cache after the gate loaded the new keys")
	}
}
