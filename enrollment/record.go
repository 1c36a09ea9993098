package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// A challenge's record in the store: loaded, decoded and written.

// Challenge loads challenge id, or returns ErrNoChallenge.
func (s *Challenges) Challenge(ctx context.Context, realm, id string) (*Challenge, error) {
	if id == "" {
		return nil, ErrNoChallenge
	}
	raw, err := s.Store.Get(ctx, challengeKey(realm, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoChallenge
	}
	if err != nil {
		return nil, err
	}
	return decodeChallenge(id, raw)
}

func decodeChallenge(id string, raw []byte) (*Challenge, error) {
	var c Challenge
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("challenge record %s: %v", id, err)
	}
	c.ID = id
	return &c, nil
}

// writeChallenge adds c to b, and returns its cooldown (startCooldown,
// after the cooldowns before), to claim.
func (s *Challenges) writeChallenge(b *store.Batch, sc Scope, c *Challenge, before cooldowns) ([]wait, error) {
	raw, ttl, err := s.challengeRecord(c)
	if err != nil {
		return nil, err
	}
	b.Put(challengeKey(sc.Realm, c.ID), raw, ttl)
	return s.startCooldown(sc, c, before)
}

func (s *Challenges) challengeRecord(c *Challenge) ([]byte, time.Duration, error) {
	raw, err := json.Marshal(c)
	ttl := s.CodeTTL + storeGrace
	if s.VerifyOnly() {
		ttl = s.CodeTTL // hold the number no longer than the code needs it
	}
	return raw, ttl, err
}
