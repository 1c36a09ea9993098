package enrollment

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// lastingLog wraps a store and notes the writes marked store.Lasting (the
// ones a Badger store syncs to disk before the answer).
type lastingLog struct {
	store.Store
	writes []string
}

func (l *lastingLog) note(ctx context.Context, op, key string) {
	if store.IsLasting(ctx) {
		l.writes = append(l.writes, op+" "+strings.SplitN(key, "/", 2)[0])
	}
}
func (l *lastingLog) Put(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	l.note(ctx, "put", k)
	return l.Store.Put(ctx, k, v, ttl)
}
func (l *lastingLog) PutIfAbsent(ctx context.Context, k string, v []byte, ttl time.Duration) (bool, error) {
	l.note(ctx, "put", k)
	return l.Store.PutIfAbsent(ctx, k, v, ttl)
}
func (l *lastingLog) Take(ctx context.Context, k string) ([]byte, error) {
	l.note(ctx, "take", k)
	return l.Store.Take(ctx, k)
}
func (l *lastingLog) Delete(ctx context.Context, k string) error {
	l.note(ctx, "delete", k)
	return l.Store.Delete(ctx, k)
}

// TestAcknowledgedWritesAreLasting: an enrollment, a device change, a used
// recovery code and a reset are durable before the user hears of them; a
// sign-in with an enrolled phone costs no sync at all.
func TestAcknowledgedWritesAreLasting(t *testing.T) {
	s, out, clk := newService(t)
	log := &lastingLog{Store: s.Store}
	s.Store = log
	ctx := context.Background()
	step := func(what string, want string, op func()) {
		t.Helper()
		log.writes = nil
		op()
		if got := strings.Join(log.writes, ", "); got != want {
			t.Fatalf("%s: lasting writes %q, want %q", what, got, want)
		}
	}
	check := func(p string) {
		c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: p})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Check(ctx, sc, c.ID, out.last(t).Code); err != nil {
			t.Fatal(err)
		}
	}
	step("an enrollment", "put device", func() { check(Enroll) })
	var codes []string
	step("recovery codes", "put recovery", func() { codes, _ = s.Devices.NewRecoveryCodes(ctx, realm, alice) })
	clk.advance(time.Minute)
	step("a sign-in", "", func() { check(Verify) })
	step("a second phone", "put device", func() {
		if _, err := s.Devices.Add(ctx, realm, alice, "+447911123456", "work"); err != nil {
			t.Fatal(err)
		}
	})
	step("a recovery code used", "put recovery", func() {
		if err := s.Devices.UseRecoveryCode(ctx, sc, "flow", alice, codes[0]); err != nil {
			t.Fatal(err)
		}
	})
	step("a reset", "delete device, delete recovery", func() {
		if err := s.Devices.ResetUser(ctx, realm, alice); err != nil {
			t.Fatal(err)
		}
	})
}
