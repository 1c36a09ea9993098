package enrollment

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// BenchmarkChallenge is a code's round trip on each store — Badger on
// disk, and a real redis-server on loopback: Start (lockout, cooldown,
// limits, record, send to a no-op sender) then Check.
//
//	go test ./enrollment -run '^$' -bench Challenge -benchmem
func BenchmarkChallenge(b *testing.B) {
	b.Run("badger", func(b *testing.B) {
		st, closeDB, err := store.OpenBadger(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer closeDB()
		benchChallenge(b, st)
	})
	b.Run("redis", func(b *testing.B) {
		st, closeDB, err := store.OpenRedis(&store.Redis{Addresses: []string{redistest.Server(b)}, KeyPrefix: "bench:"})
		if err != nil {
			b.Fatal(err)
		}
		defer closeDB()
		benchChallenge(b, st)
	})
}

func benchChallenge(b *testing.B, st store.Store) {
	out := &outbox{}
	tpl, _ := ParseTemplates("", "")
	s, _, _ := New(&Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Limits: DefaultLimits, Now: time.Now},
		Challenges{Sender: out, CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, Templates: tpl})
	s.Limits.User, s.Limits.Number, s.Limits.IP, s.Limits.Country, s.Limits.GlobalEnrolled = Rate{}, Rate{}, Rate{}, Rate{}, Rate{}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
		if err != nil {
			b.Fatal(err)
		}
		out.mu.Lock()
		code := out.sent[len(out.sent)-1].Code
		out.sent = out.sent[:0]
		out.mu.Unlock()
		if _, err := s.Check(ctx, sc, c, code); err != nil {
			b.Fatal(err)
		}
	}
}
