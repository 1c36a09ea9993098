package session

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"golang.org/x/sync/singleflight"
)

// keyring holds the EdDSA session keys, kept in the store as
// keys/eddsa/1, 2, 3… so that every instance signs with the newest and
// still accepts older ones until the sessions they signed have expired.
// Upstreams verify tokens (and assertions) with the public keys at
// /.smsgate/jwks.json.
type keyring struct {
	store    store.Store
	secret   func() []byte // the store's secret the keys go with; nil: a configured one (every key counts)
	rotation time.Duration // 0: never rotate
	lifetime time.Duration // of sessions: how long a retired key still verifies
	now      func() time.Time
	// gone is called when a load replaced keys the gate held (a new
	// secret's, a store that lost them), once the new ones are in: the
	// cache of checked sessions is emptied, whichever load it was.
	gone func()

	mu       sync.RWMutex
	keys     []edKey // oldest first
	top      int     // the highest key number in the store, whichever secret it goes with
	loadedAt time.Time
	// begun numbers the loads as they begin, held the one whose keys
	// these are: a load begun before it (overtaken by a rotation's) keeps
	// its older view to itself.
	begun, held uint64
	// poll is the one load that unknown kids run at a time: the others
	// wait for it and take its keys.
	poll singleflight.Group
}

type edKey struct {
	n       int
	kid     string
	priv    ed25519.PrivateKey
	created time.Time
	bound   []byte
}

type edKeyRecord struct {
	Seed    []byte    `json:"seed"`
	Created time.Time `json:"created"`
	// Bound names the store's secret the key goes with (boundTo): a new
	// secret ends the keys made before it, and so every session they
	// signed. None: a previous release's, claimed by the first gate that
	// reads it (or by NewSecret, for the secret it replaces).
	Bound []byte `json:"bound,omitempty"`
}

// boundTo is the mark of the keys that go with secret (never the secret).
func boundTo(secret []byte) []byte { return Derive(secret, "eddsa binding")[:8] }

// claimKey marks key n, if it names no secret, as bound's, and returns it
// as the store holds it then.
func claimKey(ctx context.Context, st store.Store, n int, bound []byte) (edKeyRecord, error) {
	var rec edKeyRecord
	err := st.Update(store.Lasting(ctx), edKeyName(n), func(old []byte, found bool) ([]byte, time.Duration, error) {
		rec = edKeyRecord{}
		if !found {
			return nil, 0, store.ErrNotFound
		}
		if json.Unmarshal(old, &rec) != nil || len(rec.Seed) != ed25519.SeedSize {
			return nil, 0, fmt.Errorf("session key %d is unreadable", n)
		}
		if rec.Bound != nil {
			return nil, 0, store.ErrUnchanged
		}
		rec.Bound = bound
		raw, _ := json.Marshal(rec)
		return raw, 0, nil
	})
	return rec, err
}

// bound is the mark of the keys this gate signs with (nil: any).
func (k *keyring) bound() []byte {
	if k.secret == nil {
		return nil
	}
	return boundTo(k.secret())
}

func edKeyName(n int) string { return store.Key("keys", "eddsa", strconv.Itoa(n)) }

// load reads every key from the store that goes with the gate's secret
// (claiming those of a previous release for it), creating one if there is
// none.
func (k *keyring) load(ctx context.Context) error {
	k.mu.Lock()
	k.begun++
	seq := k.begun
	k.mu.Unlock()
	var keys []edKey
	bound, top := k.bound(), 0
	for n := 1; ; n++ {
		raw, err := k.store.Get(ctx, edKeyName(n))
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return err
		}
		var rec edKeyRecord
		if err := json.Unmarshal(raw, &rec); err != nil || len(rec.Seed) != ed25519.SeedSize {
			return fmt.Errorf("session key %d is unreadable", n)
		}
		if bound != nil && rec.Bound == nil {
			if rec, err = claimKey(ctx, k.store, n, bound); err != nil {
				return err
			}
		}
		top = n
		if bound != nil && !bytes.Equal(rec.Bound, bound) {
			continue // another secret's: ended by a new one
		}
		priv := ed25519.NewKeyFromSeed(rec.Seed)
		sum := sha256.Sum256(priv.Public().(ed25519.PublicKey))
		keys = append(keys, edKey{n: n, kid: fmt.Sprintf("ed%d-%s", n, hex.EncodeToString(sum[:4])), priv: priv, created: rec.Created, bound: rec.Bound})
	}
	if len(keys) == 0 {
		if err := k.create(ctx, top+1); err != nil {
			return err
		}
		return k.load(ctx)
	}
	k.mu.Lock()
	if !bytes.Equal(k.bound(), bound) { // a new secret adopted while this read: its keys, not these
		k.mu.Unlock()
		return k.load(ctx)
	}
	if seq < k.held { // a later load's keys are in: they are newer
		k.mu.Unlock()
		return nil
	}
	gone := slices.ContainsFunc(k.keys, func(held edKey) bool {
		return !slices.ContainsFunc(keys, func(e edKey) bool { return e.kid == held.kid })
	})
	k.keys, k.top, k.loadedAt, k.held = keys, top, k.now(), seq
	k.mu.Unlock()
	if gone && k.gone != nil {
		k.gone() // what a check cached under the old keys meanwhile goes too
	}
	return nil
}

// create adds key n unless another instance already did.
func (k *keyring) create(ctx context.Context, n int) error {
	seed := make([]byte, ed25519.SeedSize)
	_, _ = rand.Read(seed)
	raw, _ := json.Marshal(edKeyRecord{Seed: seed, Created: k.now().UTC(), Bound: k.bound()})
	_, err := k.store.PutIfAbsent(store.Lasting(ctx), edKeyName(n), raw, 0)
	return err
}

// signing returns the newest key, rotating first when it is due.
func (k *keyring) signing() (any, string, error) {
	k.mu.RLock()
	newest, top := k.keys[len(k.keys)-1], k.top
	k.mu.RUnlock()
	if k.rotation > 0 && k.now().Sub(newest.created) >= k.rotation {
		ctx := context.Background()
		if err := k.create(ctx, top+1); err != nil {
			return nil, "", err
		}
		if err := k.load(ctx); err != nil {
			return nil, "", err
		}
		k.mu.RLock()
		newest = k.keys[len(k.keys)-1]
		k.mu.RUnlock()
	}
	return newest.priv, newest.kid, nil
}

// verifying returns the public key of kid while it is live. An unknown kid
// (a key another instance just made) reloads the keys, at most every few
// seconds and one load at a time (the requests meanwhile wait for it and
// take its keys), so random kids cannot make every request read the store.
func (k *keyring) verifying(kid string) (any, error) {
	if pub, ok := k.live(kid); ok {
		return pub, nil
	}
	_, err, _ := k.poll.Do("", func() (any, error) {
		k.mu.RLock()
		stale := k.now().Sub(k.loadedAt) > RevocationPoll
		k.mu.RUnlock()
		if !stale { // loaded just now (a load this request waited for)
			return nil, nil
		}
		return nil, k.load(context.Background())
	})
	if err == nil {
		if pub, ok := k.live(kid); ok {
			return pub, nil
		}
	}
	return nil, fmt.Errorf("unknown or retired key %q", kid)
}

// live finds kid among the keys that may still verify: the newest, and
// older ones until the sessions signed before their successor expired.
func (k *keyring) live(kid string) (ed25519.PublicKey, bool) {
	for _, key := range k.liveKeys() {
		if key.kid == kid {
			return key.priv.Public().(ed25519.PublicKey), true
		}
	}
	return nil, false
}

func (k *keyring) liveKeys() []edKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var live []edKey
	for i, key := range k.keys {
		if i+1 < len(k.keys) && k.now().Sub(k.keys[i+1].created) > k.lifetime+Leeway {
			continue // retired: everything it signed has expired
		}
		live = append(live, key)
	}
	return live
}

// JWK is one public key of a JSON Web Key Set (RFC 8037).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// jwks is the set of the live public keys.
func (k *keyring) jwks() JWKS {
	set := JWKS{Keys: []JWK{}}
	if k != nil {
		for _, key := range k.liveKeys() {
			set.Keys = append(set.Keys, JWK{Kty: "OKP", Crv: "Ed25519", Kid: key.kid, Alg: "EdDSA", Use: "sig",
				X: base64.RawURLEncoding.EncodeToString(key.priv.Public().(ed25519.PublicKey))})
		}
	}
	return set
}

// reconcile makes the keys the store's: when it holds none (it was wiped),
// this gate's are put back; then the store's are loaded. It reports whether
// a key this gate held is gone (not merely joined by a newer one).
func (k *keyring) reconcile(ctx context.Context) (bool, error) {
	k.mu.RLock()
	mine := slices.Clone(k.keys)
	k.mu.RUnlock()
	if _, err := k.store.Get(ctx, edKeyName(mine[0].n)); errors.Is(err, store.ErrNotFound) {
		for _, key := range mine {
			raw, _ := json.Marshal(edKeyRecord{Seed: key.priv.Seed(), Created: key.created, Bound: key.bound})
			if _, err := k.store.PutIfAbsent(store.Lasting(ctx), edKeyName(key.n), raw, 0); err != nil {
				return false, err
			}
		}
	} else if err != nil {
		return false, err
	}
	if err := k.load(ctx); err != nil {
		return false, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	for _, key := range mine {
		if !slices.ContainsFunc(k.keys, func(e edKey) bool { return e.kid == key.kid }) {
			return true, nil
		}
	}
	return false, nil
}
