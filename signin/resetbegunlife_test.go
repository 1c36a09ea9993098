package signin

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// begunWatch notes the expiry a reset-begun/ record is written with, and
// fails its next Delete where failDelete is set: the reset did all but
// take its record away (the store went at that moment).
type begunWatch struct {
	store.Store
	mu         sync.Mutex
	ttls       []time.Duration
	failDelete bool
}

func (s *begunWatch) Put(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	if k == store.Key(resetBegun, "r", "ivy") {
		s.mu.Lock()
		s.ttls = append(s.ttls, ttl)
		s.mu.Unlock()
	}
	return s.Store.Put(ctx, k, v, ttl)
}

func (s *begunWatch) Delete(ctx context.Context, k string) error {
	s.mu.Lock()
	fail := k == store.Key(resetBegun, "r", "ivy") && s.failDelete
	s.failDelete = s.failDelete && !fail
	s.mu.Unlock()
	if fail {
		return errors.New("older41: the store went away")
	}
	return s.Store.Delete(ctx, k)
}

// TestTheRecordThatAResetBeganLastsAsLongAsWhatItEnds (older41; close18
// Left: "the reset-begun record has no expiry"), on Badger on disk and a
// real Redis. ivy, with one phone, is reset, and the store goes at its
// last step (its record's delete): the record is written with an expiry,
// resetBegunLife (before: none, so a reset never asked again left it in
// the store for good). Asked again a second before that expiry, the
// reset finds her, and, stopped at the same step again, writes the record
// anew from its own beginning (a retry is never lost to the first try's
// expiry); the third finishes and audits admin_reset. A record of the
// previous release (no expiry, the instant it began) is read by its
// value: within resetBegunLife it is a reset to finish (Held, audited),
// past it nothing (Held false, audited nowhere; and the record goes, so
// that the store does not keep it for good); one whose value cannot be
// read is a reset to finish.
func TestTheRecordThatAResetBeganLastsAsLongAsWhatItEnds(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, inner store.Store) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Now().UTC().Truncate(time.Second)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		set := func(at time.Time) { mu.Lock(); now = at; mu.Unlock() }
		st := &begunWatch{Store: inner}
		_, dev, _ := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: clock}, enrollment.Challenges{})
		var audited []string
		ends := Ends{Store: st, Realm: "r", Now: clock, Logger: zap.NewNop(), Devices: dev,
			Audit: func(event, user, _ string, _ ...zap.Field) { audited = append(audited, event+" "+user) }}
		key := store.Key(resetBegun, "r", "ivy")
		record := func() (string, bool) {
			v, err := inner.Get(ctx, key)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
			return string(v), err == nil
		}

		if _, _, err := dev.AddIn(ctx, "r", "ivy", "+14155550104", "Phone", ""); err != nil {
			t.Fatal(err)
		}
		began := clock()
		st.failDelete = true
		if _, err := ends.Reset(ctx, "ivy", "root"); err == nil {
			t.Fatal("the reset whose last step failed answered no error")
		}
		if v, ok := record(); !ok || v != strconv.FormatInt(began.Unix(), 10) || len(st.ttls) != 1 || st.ttls[0] != resetBegunLife {
			t.Fatalf("the record of the stopped reset: %q (there %v), written with expiries %v; want the instant it began, expiring in %s", v, ok, st.ttls, resetBegunLife)
		}
		if len(audited) != 0 {
			t.Fatalf("a reset that failed audited %v", audited)
		}
		// A second before it expires, asked again, stopped again.
		retry := began.Add(resetBegunLife - time.Second)
		set(retry)
		st.failDelete = true
		if ended, err := ends.Reset(ctx, "ivy", "root"); err == nil || !ended.Held {
			t.Fatalf("the reset asked again within the record's life: %+v, %v; want her found (Held), stopped again", ended, err)
		}
		if v, _ := record(); v != strconv.FormatInt(retry.Unix(), 10) || len(st.ttls) != 2 || st.ttls[1] != resetBegunLife {
			t.Fatalf("the retry's record: %q, expiries %v; want its own beginning, %d, expiring in %s from it", v, st.ttls, retry.Unix(), resetBegunLife)
		}
		// Past the first try's life, within the retry's: found, finished.
		set(began.Add(resetBegunLife + time.Hour))
		if ended, err := ends.Reset(ctx, "ivy", "root"); err != nil || !ended.Held || len(audited) != 1 || audited[0] != "admin_reset ivy" {
			t.Fatalf("the third reset: %+v, %v, audited %v; want it finished, admin_reset of ivy once", ended, err, audited)
		}
		if _, ok := record(); ok {
			t.Fatal("the finished reset left its record")
		}

		// The previous release's record: no expiry, the instant it began.
		old := func(value string) {
			t.Helper()
			if err := inner.Put(ctx, key, []byte(value), 0); err != nil {
				t.Fatal(err)
			}
		}
		set(began)
		old(strconv.FormatInt(began.Add(-resetBegunLife+time.Minute).Unix(), 10))
		if ended, err := ends.Reset(ctx, "ivy", "root"); err != nil || !ended.Held || len(audited) != 2 {
			t.Fatalf("a reset of the previous release, begun within resetBegunLife: %+v, %v, audited %v; want it finished (Held, audited)", ended, err, audited)
		}
		old(strconv.FormatInt(began.Add(-resetBegunLife-time.Minute).Unix(), 10))
		if ended, err := ends.Reset(ctx, "ivy", "root"); err != nil || ended.Held || len(audited) != 2 {
			t.Fatalf("a reset of the previous release, begun past resetBegunLife: %+v, %v, audited %v; want Held false, audited nowhere", ended, err, audited[2:])
		}
		if _, ok := record(); ok {
			t.Error("the previous release's record past its life was left in the store for good")
		}
		old("not a time")
		if ended, err := ends.Reset(ctx, "ivy", "root"); err != nil || !ended.Held || len(audited) != 3 {
			t.Errorf("a record whose value cannot be read: %+v, %v, audited %v; want a reset to finish (Held, audited)", ended, err, audited)
		}
	})
}
