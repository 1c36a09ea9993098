package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// The signing secret, when the config names none: generated once and kept
// in the store, so that every instance on the store signs alike. When the
// store loses it (a Redis restarted without persistence), the instances
// that still hold it put it back; when another instance made a new one
// meanwhile, every instance adopts the store's (Reconcile), so that they
// never split into two that refuse each other's sessions and codes.

// SecretRecord is where a generated signing secret is kept (read by an
// import too: enrollment's passkey handles, from a file's or the store's).
const SecretRecord = "keys/secret"

// secretLen is the length of a generated secret; shorter is unreadable.
const secretLen = 32

// storedSecret reads the store's secret, or makes it: after waiting up to
// await for a running instance to put its own back.
func storedSecret(ctx context.Context, st store.Store, await time.Duration) ([]byte, error) {
	deadline := time.Now().Add(await)
	for {
		key, err := st.Get(ctx, SecretRecord)
		switch {
		case err == nil && len(key) >= secretLen:
			return key, nil
		case err == nil:
			return nil, fmt.Errorf("the store's signing key is unreadable (%d bytes)", len(key))
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("reading the signing key: %v", err)
		case time.Now().Before(deadline):
			time.Sleep(200 * time.Millisecond)
			continue
		}
		fresh := make([]byte, secretLen)
		_, _ = rand.Read(fresh)
		if _, err := st.PutIfAbsent(store.Lasting(ctx), SecretRecord, fresh, 0); err != nil {
			return nil, fmt.Errorf("storing the signing key: %v", err)
		}
		await = 0 // whoever won the race, its key is there now
	}
}

// SecretChange is what Reconcile did.
type SecretChange int

const (
	// SecretKept: the store holds this gate's secret (or it is configured).
	SecretKept SecretChange = iota
	// SecretRestored: the store had lost it; this gate put its own back.
	SecretRestored
	// SecretAdopted: the store holds another; this gate signs with it now,
	// and the sessions and codes made with the old one end.
	SecretAdopted
)

// OnNewSecret has fn called with the new secret whenever the gate adopts
// the store's, so that every key derived from it follows.
func (m *Manager) OnNewSecret(fn func(secret []byte)) { m.onSecret = append(m.onSecret, fn) }

// Reconcile makes this gate's secret (and EdDSA keys) the store's: if the
// store lost them, it puts this gate's back; if it holds others, the gate
// adopts them. A configured secret is the config's, and left alone.
func (m *Manager) Reconcile(ctx context.Context) (SecretChange, error) {
	change := SecretKept
	if !m.configured {
		mine := m.Secret()
		stored, err := m.store.Get(ctx, SecretRecord)
		if errors.Is(err, store.ErrNotFound) {
			if _, err := m.store.PutIfAbsent(store.Lasting(ctx), SecretRecord, mine, 0); err != nil {
				return change, err
			}
			change = SecretRestored
			stored, err = m.store.Get(ctx, SecretRecord) // another instance may have won
		}
		switch {
		case err != nil:
			return change, err
		case len(stored) < secretLen:
			return change, fmt.Errorf("the store's signing key is unreadable (%d bytes)", len(stored))
		case !bytes.Equal(stored, mine):
			m.adopt(stored)
			change = SecretAdopted
		}
	}
	if m.ring != nil {
		replaced, err := m.ring.reconcile(ctx)
		if err != nil {
			return change, err
		}
		if replaced { // what the old keys signed is refused: its load emptied the cache (keyring.gone)
			change = max(change, SecretAdopted)
		}
	}
	// A store that changed, or a secret adopted (an import's), may vouch
	// for other unmarked tokens (renamed.go).
	if change == SecretAdopted || m.renamed.stale.Load() {
		if err := m.RereadRenamed(ctx); err != nil {
			return change, err
		}
	}
	return change, nil
}

// adopt signs and checks with secret from now on.
func (m *Manager) adopt(secret []byte) {
	m.secret.Store(&secret)
	if m.ring == nil {
		m.keys.Rekey(Derive(secret, "session"))
	}
	m.cache.Flush()
	for _, fn := range m.onSecret {
		fn(secret)
	}
}

// NewSecret replaces the store's generated signing secret with a new one
// (an admin's choice after a wipe): every gate adopts it at its next look
// (Reconcile), and every session signed before ends.
//
// The EdDSA keys made under the old secret end with it (edKeyRecord.Bound):
// those of a previous release, which name no secret, are marked as the
// old secret's first.
func NewSecret(ctx context.Context, st store.Store) error {
	old, err := st.Get(ctx, SecretRecord)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	for n := 1; ; n++ {
		if _, err := claimKey(ctx, st, n, boundTo(old)); errors.Is(err, store.ErrNotFound) {
			break
		} else if err != nil {
			return err
		}
	}
	fresh := make([]byte, secretLen)
	_, _ = rand.Read(fresh)
	return st.Put(store.Lasting(ctx), SecretRecord, fresh, 0)
}
