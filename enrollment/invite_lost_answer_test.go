package enrollment

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// lostAnswer writes both mints' records of the user's newest invite, the
// first answered, the second applied and then answered with an error (a
// lasting write whose replica WAIT timed out, a timeout after the server
// applied it): the record names the second mint's invite.
type lostAnswer struct {
	store.Store
	mu      sync.Mutex
	written int
	both    chan struct{}
}

func (l *lostAnswer) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if !strings.HasPrefix(key, "invite-latest/") {
		return l.Store.Put(ctx, key, value, ttl)
	}
	l.mu.Lock() // the write and its count in one step: the second counted is the one written last
	err := l.Store.Put(ctx, key, value, ttl)
	l.written++
	n, both := l.written, l.both
	if n == 2 {
		close(both)
	}
	l.mu.Unlock()
	select {
	case <-both:
	case <-time.After(10 * time.Second):
	}
	if n == 2 && err == nil {
		return errors.New("WAIT: no replica acknowledged the write in time")
	}
	return err
}

// Two admins mint at once, the second's record applied but its answer lost
// (review29). The second mint is ErrInviteUnrecorded (no link), the first
// reads the record back, finds the second's, is ErrInviteRaced and deletes
// its invite: no link is handed out at all. The first admin was told "only
// the other invite's link works" of a link nobody holds; now the words say
// the other link works if it was handed out, and to make a new invite if
// nobody received one (en and de). Minting once more on a raced mint is
// not done: it cannot tell this case from a raced mint whose other link was
// handed out, which the new mint's record would then kill (review28).
func TestBothMintsRefusedAreToldTheTruth(t *testing.T) {
	t.Parallel()
	on := raceStores(t)
	on("Lost/", func(t *testing.T, st store.Store) {
		l := &lostAnswer{Store: st, both: make(chan struct{})}
		s, _, _ := raceService(t, l)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		tokens, errs := mintTwice(admin, "alice")
		t.Logf("errors: %v / %v", errs[0], errs[1])
		handed := 0
		var raced *words.Error
		for i := range tokens {
			if errs[i] == nil {
				handed++
			}
			if errors.Is(errs[i], ErrInviteRaced) {
				errors.As(errs[i], &raced)
			}
		}
		if raced == nil || handed != 0 {
			t.Fatalf("want one mint raced and none handed out (the case): raced %v, %d handed out", raced != nil, handed)
		}
		for lang, c := range map[string]struct{ false, true string }{
			"en": {"Only the other invite's link works", "if nobody received a link, make a new invite"},
			"de": {"Nur der Link der anderen Einladung funktioniert", "hat niemand einen Link erhalten, erstellen Sie eine neue Einladung"},
		} {
			said := words.English.Render(lang, raced.Words())
			if strings.Contains(said, c.false) || !strings.Contains(said, c.true) {
				t.Errorf("%s: the raced mint, no link handed out by either, says %q; want it not to say %q, and to say %q", lang, said, c.false, c.true)
			}
		}
	})
}
