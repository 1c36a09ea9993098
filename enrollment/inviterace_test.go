package enrollment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// bothRecorded holds each mint's write of its record as the user's newest
// invite until the other mint's is written too (10 s at most): two admins'
// mints at the same instant, each written before either is read back.
type bothRecorded struct {
	store.Store
	mu      sync.Mutex
	written int
	both    chan struct{}
}

func (b *bothRecorded) arm() {
	b.mu.Lock()
	b.written, b.both = 0, make(chan struct{})
	b.mu.Unlock()
}

// Put implements store.Store.
func (b *bothRecorded) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	err := b.Store.Put(ctx, key, value, ttl)
	if strings.HasPrefix(key, "invite-latest/") {
		b.mu.Lock()
		b.written++
		both := b.both
		if b.written == 2 {
			close(both)
		}
		b.mu.Unlock()
		select {
		case <-both:
		case <-time.After(10 * time.Second):
		}
	}
	return err
}

// works says whether the invite link token is one the invitee can use: a
// live invite no newer one of hers replaced.
func works(t *testing.T, admin *Admin, user, token string) bool {
	t.Helper()
	ctx := context.Background()
	inv, err := admin.PeekInvite(ctx, realm, token)
	if errors.Is(err, ErrInvite) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	var b store.Batch
	replaced := ReadReplaced(&b, realm, user)
	if err := store.Do(ctx, admin.Store, &b); err != nil {
		t.Fatal(err)
	}
	r, err := replaced(inv)
	if err != nil {
		t.Fatal(err)
	}
	return !r
}

// mintTwice mints two invites for user at once, and returns each one's
// token and error.
func mintTwice(admin *Admin, user string) (tokens [2]string, errs [2]error) {
	ctx := context.Background()
	race(func() { tokens[0], errs[0] = admin.NewInvite(ctx, realm, user, time.Hour) },
		func() { tokens[1], errs[1] = admin.NewInvite(ctx, realm, user, time.Hour) })
	return tokens, errs
}

// TestTwoInvitesAtOnceHandOutOnlyALinkThatWorks (review28, close11 item
// 3): two admins mint an invite for one user at the same instant. The
// record of her newest is overwritten, the last write standing: before,
// each admin was handed a link and the one whose record was written first
// was dead, its admin told only that earlier links no longer work. Now a
// mint reads the record back, and one another replaced meanwhile is
// ErrInviteRaced, handing out no link: with both records written before
// either is read back (bothRecorded), every round hands out one link, and
// it works; raced freely, every link handed out works but where the two
// mints came one after the other (the first answered before the second
// wrote), and exactly one of the two works. On Badger and a real Redis.
func TestTwoInvitesAtOnceHandOutOnlyALinkThatWorks(t *testing.T) {
	t.Parallel()
	on := raceStores(t)
	on("Held/", func(t *testing.T, st store.Store) {
		held := &bothRecorded{Store: st}
		s, _, _ := raceService(t, held)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		for run := range raceRuns {
			user := fmt.Sprint("u", run)
			held.arm()
			tokens, errs := mintTwice(admin, user)
			good := 0
			for i := range tokens {
				switch {
				case errs[i] == nil:
					good++
					if !works(t, admin, user, tokens[i]) {
						t.Errorf("run %d: mint %d was handed out, and its link does not work", run, i)
					}
				case errors.Is(errs[i], ErrInviteRaced):
					if tokens[i] != "" {
						t.Errorf("run %d: a raced mint handed out a link", run)
					}
				default:
					t.Fatalf("run %d: mint %d: %v", run, i, errs[i])
				}
			}
			if good != 1 {
				t.Errorf("run %d: %d links handed out of two mints whose records were written at once; want 1 (errors %v)", run, good, errs)
			}
		}
	})
	on("Free/", func(t *testing.T, st store.Store) {
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		raced := 0
		for run := range raceRuns {
			user := fmt.Sprint("u", run)
			tokens, errs := mintTwice(admin, user)
			working := 0
			for i := range tokens {
				if errs[i] != nil && !errors.Is(errs[i], ErrInviteRaced) {
					t.Fatalf("run %d: mint %d: %v", run, i, errs[i])
				}
				if errs[i] == nil && works(t, admin, user, tokens[i]) {
					working++
				}
			}
			if working != 1 {
				t.Errorf("run %d: %d of the links handed out work (errors %v); want 1", run, working, errs)
			}
			if errs[0] != nil || errs[1] != nil {
				raced++
			}
		}
		t.Logf("%d of %d rounds raced (the rest one after the other)", raced, raceRuns)
	})
}
