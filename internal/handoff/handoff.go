// Package handoff finds, for something Caddy cleaned up at a config
// reload, the live one of the same configuration that replaced it.
//
// Caddy provisions a new config, then stops the old one's servers and
// cleans up its modules at once, while requests are still on their way
// through the old routes. A request that reaches a gate only after its
// Cleanup (it was still in basic_auth, say) can be served by the gate of
// the new config, when that gate's configuration is the same: most
// reloads change another site or option, and leave the gate's JSON as it
// was. A Registry holds the live gates by their configuration's Key.
package handoff

import (
	"crypto/sha256"
	"encoding/json"
	"slices"
	"sync"
)

// Key names a configuration: the SHA-256 of its JSON. It says nothing of
// the secrets in the configuration, and two configurations with a secret
// of their own have keys of their own.
type Key [sha256.Size]byte

// KeyOf is the key of v's configuration, v marshalled as JSON (struct
// fields in their order, map keys sorted): take it before anything fills
// in defaults or normalises v, or take it after, but the same way for
// every v that is to be compared.
//
// A gate's key is taken as configured, its {env.*} and {file.*}
// placeholders unresolved, on purpose. What the key must tell is whether
// the successor checks a request as the gate it replaced would have: the
// same options, in the same place of the routes. A placeholder names its
// source, and two gates of one config that name the same source read the
// same value. A secret changed behind one (a rotated file, read again at
// the reload) keeps the key: the request handed on is checked with the
// new secret, which is what its retry after a 503 would meet anyway, so
// resolving would only turn such hand-offs into 503s, and put a digest of
// the secrets in the key.
func KeyOf(v any) (Key, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Key{}, err
	}
	return sha256.Sum256(b), nil
}

// Registry holds the live values (gates) by key, in the order they were
// added: a value is live from Add (when it can serve) until Remove (its
// Cleanup). It keeps nothing that was removed. Its zero value is ready.
type Registry[T comparable] struct {
	mu   sync.Mutex
	live map[Key][]T
}

// Add says v, of configuration k, is live: the newest of k.
func (r *Registry[T]) Add(k Key, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.live == nil {
		r.live = make(map[Key][]T)
	}
	r.live[k] = append(r.live[k], v)
}

// Remove says v, of configuration k, is live no more. A v that is not
// live (it was never added, or removed already) changes nothing.
func (r *Registry[T]) Remove(k Key, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	vs := r.live[k]
	i := slices.Index(vs, v)
	if i < 0 {
		return
	}
	vs = slices.Delete(vs, i, i+1) // zeroes the tail: nothing removed stays reachable
	if len(vs) == 0 {
		delete(r.live, k)
		return
	}
	r.live[k] = vs
}

// Newest is the live value of configuration k added last, other than
// self; ok is false when there is none (the configuration changed, or
// its site is gone).
func (r *Registry[T]) Newest(k Key, self T) (v T, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	vs := r.live[k]
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i] != self {
			return vs[i], true
		}
	}
	return v, false
}
