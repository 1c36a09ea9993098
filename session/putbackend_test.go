package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAPutBackKeepsAnEndsMark (endrace41), on Badger and a real Redis: a
// gate that read an admin's end of a session in the log puts the
// revocations it knows back when the store may have lost them (its log
// lost entries: a failover; StoreChanged). Where the store still holds the
// session's record, it stays as the end wrote it (end@<ns>), so that a
// step-up replacing that session still reads the end (EndedItself) and
// ends what the session became. (Before: the put-back wrote "announced"
// over it, and the step-up's new session lived.) One the store lost is
// still put back.
func TestAPutBackKeepsAnEndsMark(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Second)
		m := managerOf(t, st, "r", &now)
		tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{Browser: "Edge"})
		if err != nil {
			t.Fatal(err)
		}
		cl, err := m.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		endedAt := now.Add(time.Second)
		now = endedAt
		if _, err := End(ctx, st, "r", "alice", cl.SID, now); err != nil {
			t.Fatal(err)
		}
		m.poll(ctx) // the gate reads the end in the log
		now = now.Add(time.Second)
		m.StoreChanged()
		m.poll(ctx) // and puts back what it knows
		if own, at, err := EndedItself(ctx, st, "r", cl.SID); err != nil || !own || !at.Equal(endedAt) {
			raw, _ := st.Get(ctx, "revoked/r/"+cl.SID)
			t.Errorf("after the put-back: EndedItself %v at %v (%v), its record %q; want the end at %v", own, at, err, raw, endedAt)
		}
		if m.Check(ctx, tok) != nil {
			t.Error("the ended session is admitted after the put-back")
		}
	})
}

// TestAGateKnowsWhenTheLogToldItOfAnEnd (endrace41), on Badger and a real
// Redis: an end of the previous release (1, no time) announced in the log
// is known to a gate from when the log told it (KnewOfEndBefore: a
// step-up whose sign-in began after then finds an end made before it),
// not before, and not to a gate started since (an upgrade).
func TestAGateKnowsWhenTheLogToldItOfAnEnd(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Second)
		m := managerOf(t, st, "r", &now)
		m.poll(ctx)
		tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{Browser: "Edge"})
		if err != nil {
			t.Fatal(err)
		}
		cl, err := m.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		key, value := endkeys.Session("r", cl.SID), []byte{1}
		if err := st.Put(ctx, key, value, time.Hour); err != nil {
			t.Fatal(err)
		}
		if m.KnewOfEndBefore(cl.SID, now.Add(time.Hour)) {
			t.Error("known before it was announced")
		}
		now = now.Add(time.Second)
		read := now
		if err := AnnounceEnd(ctx, st, key, value); err != nil {
			t.Fatal(err)
		}
		m.poll(ctx)
		if !m.KnewOfEndBefore(cl.SID, read.Add(time.Nanosecond)) || m.KnewOfEndBefore(cl.SID, read) {
			t.Errorf("read at %v: known before just after %v, before it %v; want true, false", read,
				m.KnewOfEndBefore(cl.SID, read.Add(time.Nanosecond)), m.KnewOfEndBefore(cl.SID, read))
		}
		if managerOf(t, st, "r", &now).KnewOfEndBefore(cl.SID, now.Add(time.Hour)) {
			t.Error("a gate started since knows of it")
		}
	})
}
