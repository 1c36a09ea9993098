package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// flaky is a store that can be made to fail every operation, as a store
// that went away does.
type flaky struct {
	store.Store
	down atomic.Bool
	// slow delays every read of the revocation counter (a poll's first
	// read), as a loaded machine did.
	slow atomic.Int64
}

var errDown = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

func (f *flaky) Get(ctx context.Context, key string) ([]byte, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.Store.Get(ctx, key)
}

func (f *flaky) Counter(ctx context.Context, key string) (int64, error) {
	time.Sleep(time.Duration(f.slow.Load()))
	if f.down.Load() {
		return 0, errDown
	}
	return f.Store.Counter(ctx, key)
}

// twoGates are two gates of one realm on one store, on a clock the test moves.
func twoGates(t *testing.T, now *time.Time) (a, b *Manager, st *flaky) {
	t.Helper()
	base := storetest.Badger(t)
	st = &flaky{Store: base}
	open := func() *Manager {
		m, err := NewManager(context.Background(), Config{Store: st, Realm: "example.com", Lifetime: time.Hour, Now: func() time.Time { return *now }})
		if err != nil {
			t.Fatal(err)
		}
		// TestRevocationLogGaps once read "0 cached": a poll delayed past
		// pollWait emptied the cache after the request had read it.
		awaitingPolls(m)
		return m
	}
	return open(), open(), st
}

// signedIn issues n sessions at a and has b check each (so b caches them).
func signedIn(t *testing.T, a, b *Manager, n int) []string {
	t.Helper()
	var toks []string
	for i := range n {
		tok, err := a.Issue(context.Background(), fmt.Sprint("user", i), []factor.AMR{factor.AMRSMS}, Where{})
		if err != nil {
			t.Fatal(err)
		}
		if b.Check(context.Background(), tok) == nil {
			t.Fatalf("session %d refused", i)
		}
		toks = append(toks, tok)
	}
	return toks
}

// TestLogoutsElsewhereKeepOtherSessions: logouts at one gate remove only
// those sessions from another gate's cache, so that when the store then
// goes away, every other session that gate checked keeps working. (Before
// the revocation log, any logout emptied every cache: with the store down,
// almost every signed-in user was refused.)
func TestLogoutsElsewhereKeepOtherSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a, b, st := twoGates(t, &now)
	toks := signedIn(t, a, b, 20)
	for _, i := range []int{3, 7} {
		if _, err := a.Revoke(ctx, toks[i], a.Check(ctx, toks[i])); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.RevokeUser(ctx, "user11"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(RevocationPoll)
	b.Check(ctx, toks[0]) // the poll reads the news
	st.down.Store(true)
	for i, tok := range toks {
		revoked := i == 3 || i == 7 || i == 11
		if got := b.Check(ctx, tok) != nil; got == revoked {
			t.Errorf("with the store down, session %d (revoked %v) accepted = %v", i, revoked, got)
		}
	}
	// The outage is logged once, not at every poll.
	now = now.Add(RevocationPoll)
	b.Check(ctx, toks[0])
	if !b.faulty.Load() {
		t.Fatal("a failed poll is not noted")
	}
}

// TestRevocationLogGaps: an entry the gate cannot read empties its cache —
// one never written (its writer stopped between its two writes) once it is
// still missing at the next poll; a counter that went back (a wiped store);
// news of another realm changes nothing.
//
// It runs twice: the second time each poll is slower than pollWait, as
// polls were on a machine running two copies of the suite, where the
// request that started a poll went on before it ended and the test saw
// "0 cached" (twoGates: a request waits for its poll).
func TestRevocationLogGaps(t *testing.T) {
	t.Parallel()
	for _, slow := range []time.Duration{0, 2 * pollWait} {
		t.Run(fmt.Sprint("poll+", slow), func(t *testing.T) {
			t.Parallel() // each on its own store and gates
			revocationLogGaps(t, slow)
		})
	}
}

func revocationLogGaps(t *testing.T, slow time.Duration) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a, b, st := twoGates(t, &now)
	st.slow.Store(int64(slow))
	toks := signedIn(t, a, b, 3)
	cached := func() int { return b.cache.Len() }
	poll := func() {
		now = now.Add(RevocationPoll)
		b.Check(ctx, toks[0])
	}

	// Another realm's logout: nothing forgotten.
	if err := announce(ctx, st, revocation{Realm: "other.example", SID: "x"}); err != nil {
		t.Fatal(err)
	}
	poll()
	if cached() != 3 {
		t.Fatalf("another realm's news: %d cached, want 3", cached())
	}

	// A counted revocation whose entry is not there yet: looked for again,
	// then, still missing, taken as lost.
	if _, err := st.Incr(ctx, RevocationCounter, 0); err != nil {
		t.Fatal(err)
	}
	poll()
	if cached() != 3 {
		t.Fatalf("an entry not written yet: %d cached, want 3 (wait for it)", cached())
	}
	poll()
	if cached() != 1 { // emptied; toks[0] checked again by the poll's own request
		t.Fatalf("an entry still missing: %d cached, want the cache emptied", cached())
	}

	// An entry written late is applied, not lost.
	signedIn(t, a, b, 3) // user0, user1, user2 again: 4 cached
	n, _ := st.Incr(ctx, RevocationCounter, 0)
	poll()
	_ = announceAt(ctx, st, n, revocation{Realm: "example.com", User: "user1"})
	poll()
	if cached() != 3 {
		t.Fatalf("an entry written late: %d cached, want user1's session gone", cached())
	}

	// The store was wiped: its counter went back.
	if err := st.Delete(ctx, RevocationCounter); err != nil {
		t.Fatal(err)
	}
	if err := announce(ctx, st, revocation{Realm: "example.com", SID: "y"}); err != nil {
		t.Fatal(err)
	}
	poll()
	if cached() != 1 {
		t.Fatalf("a wiped log: %d cached, want the cache emptied", cached())
	}
}

// announceAt writes entry n of the log (as a slow writer would).
func announceAt(ctx context.Context, st store.Store, n int64, rv revocation) error {
	raw := fmt.Sprintf(`{"r":%q,"u":%q}`, rv.Realm, rv.User)
	return st.Put(ctx, revocationKey(n), []byte(raw), RevocationLogTTL)
}

// TestUnseenSessionsDuringAnOutage: with the store down, a gate admits a
// session it never checked when the revocation log has told it everything
// about it — issued (by another gate) after this one began reading the log
// without a gap, and revoked nowhere in it. One issued before, one revoked,
// or one of a user signed out everywhere, is refused.
func TestUnseenSessionsDuringAnOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a, b, st := twoGates(t, &now)
	before, _ := a.Issue(ctx, "early", []factor.AMR{factor.AMRSMS}, Where{}) // before b could know every revocation of it
	now = now.Add(Leeway + 2*time.Second)
	fresh, _ := a.Issue(ctx, "fresh", []factor.AMR{factor.AMRSMS}, Where{})
	loggedOut, _ := a.Issue(ctx, "gone", []factor.AMR{factor.AMRSMS}, Where{})
	everywhere, _ := a.Issue(ctx, "all", []factor.AMR{factor.AMRSMS}, Where{})
	if _, err := a.Revoke(ctx, loggedOut, a.Check(ctx, loggedOut)); err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeUser(ctx, "all"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(RevocationPoll)
	b.Check(ctx, "") // no token: no poll
	b.syncRevocations(ctx, now.UnixNano())
	st.down.Store(true)
	for tok, want := range map[string]bool{fresh: true, before: false, loggedOut: false, everywhere: false} {
		if cl := b.Check(ctx, tok); (cl != nil) != want {
			t.Errorf("store down, never seen here: %v admitted = %v, want %v", cl, cl != nil, want)
		}
	}
	if cl := b.Check(ctx, fresh); cl == nil || cl.Facts().User != "fresh" {
		t.Fatal("the admitted session has no facts")
	}
	// A gap in the log (the store wiped): what came before is not covered.
	st.down.Store(false)
	b.StoreChanged()
	st.down.Store(true)
	if b.Check(ctx, fresh) != nil {
		t.Fatal("after a gap, a session from before it is admitted without the store")
	}
}

// TestRevocationsHereApplyAtOnce: a session ended, or a user's sessions
// revoked, by the admin's code in this process (session.End and
// RevokeUser, which know only the store) is refused by every gate of the
// process at its next check, with no poll between: before, a gate went on
// serving it from its cache until its next poll reached the store, which
// on a loaded machine could be after the admin's page said "ended".
func TestRevocationsHereApplyAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a, b, st := twoGates(t, &now)
	toks := signedIn(t, a, b, 3)
	b.Check(ctx, toks[0]) // b has polled: no poll is due for RevocationPoll
	cl := b.Check(ctx, toks[1])
	if _, err := End(ctx, st, "example.com", cl.Subject, cl.SID, now); err != nil {
		t.Fatal(err)
	}
	if err := RevokeUser(ctx, st, "example.com", "user2", now, nil); err != nil {
		t.Fatal(err)
	}
	for i, gate := range []*Manager{a, b} {
		if gate.Check(ctx, toks[1]) != nil || gate.Check(ctx, toks[2]) != nil {
			t.Errorf("gate %d still admits a session the admin ended or revoked, before its next poll", i)
		}
		if gate.Check(ctx, toks[0]) == nil {
			t.Errorf("gate %d refuses a session nobody ended", i)
		}
	}
	// Another realm's gates forget nothing.
	other, err := NewManager(ctx, Config{Store: st, Realm: "other.example", Lifetime: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	awaitingPolls(other)
	tok, err := other.Issue(ctx, "user0", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	other.Check(ctx, tok)
	if err := RevokeUser(ctx, st, "example.com", "user0", now, nil); err != nil {
		t.Fatal(err)
	}
	st.down.Store(true) // only the cache can answer now
	if other.Check(ctx, tok) == nil {
		t.Error("a revocation in one realm emptied another realm's cache")
	}
}

// TestReplayedLogoutAnnouncesOnce: logout verifies only a cookie's
// signature, so an old cookie, already signed out, can be shown to it
// again and again. Each time wrote another revocation log entry (and, in
// this process, searched every gate's cache): a thousand in a second and
// every instance empties its cache at its next poll, and forgets what the
// log covered. Now the second and later logouts of one session write
// nothing; one that was interrupted before its announcement (the record
// without the mark) announces on its next try.
func TestReplayedLogoutAnnouncesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a, b, st := twoGates(t, &now)
	toks := signedIn(t, a, b, 2)
	counter := func() int64 {
		n, err := st.Counter(ctx, RevocationCounter)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := counter()
	ends := 0
	for range 20 {
		cl, err := a.Verify(toks[0])
		if err != nil {
			t.Fatal(err)
		}
		ended, err := a.Revoke(ctx, toks[0], cl)
		if err != nil {
			t.Fatal(err)
		}
		if ended {
			ends++
		}
	}
	if n := counter() - before; n != 1 {
		t.Errorf("20 logouts of one session wrote %d revocation log entries, want 1", n)
	}
	if ends != 1 {
		t.Errorf("20 logouts of one session ended it %d times, want 1 (the audit's signed_out)", ends)
	}
	if a.Check(ctx, toks[0]) != nil || b.Check(ctx, toks[0]) != nil {
		t.Error("the session signed out is admitted")
	}
	// Written, not announced (a store fault between the two, or a release
	// before the mark): the next logout announces.
	cl, _ := a.Verify(toks[1])
	if err := st.Put(ctx, endkeys.Session("example.com", cl.SID), []byte{1}, time.Hour); err != nil {
		t.Fatal(err)
	}
	before = counter()
	for range 2 {
		if ended, err := a.Revoke(ctx, toks[1], cl); err != nil || ended {
			t.Fatalf("a session on record as revoked: ended %v, %v", ended, err)
		}
	}
	if n := counter() - before; n != 1 {
		t.Errorf("a revocation never announced: %d entries after two logouts, want 1", n)
	}
}

// TestRevocationsAfterTheClockWentBack: a wall clock stepped back (an NTP
// step, an admin's date) does not stop the revocation poll. The poll was
// due when now less the last poll reached RevocationPoll: after a step
// back of an hour, not for an hour and RevocationPoll, and meanwhile a
// session ended at another instance went on being admitted from the cache.
func TestRevocationsAfterTheClockWentBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a, b, st := twoGates(t, &now)
	tok := signedIn(t, a, b, 1)[0]
	now = now.Add(-time.Hour) // the clock is put right
	cl, _ := b.Cached(ctx, tok)
	if cl == nil {
		t.Fatal("the session is refused before its logout")
	}
	// Ended by another instance on the store (not this process's: those
	// apply here at once, without a poll).
	elsewhere := &flaky{Store: st.Store}
	if _, err := End(ctx, elsewhere, "example.com", cl.Subject, cl.SID, now); err != nil {
		t.Fatal(err)
	}
	now = now.Add(RevocationPoll + time.Second)
	if cl, _ := b.Cached(ctx, tok); cl != nil {
		t.Fatal("a session ended elsewhere is still admitted RevocationPoll after its logout: the clock went back, and the poll stopped")
	}
}

// TestPollDue: a poll is due RevocationPoll after the last, or when the
// clock is more than RevocationPoll before it (it went back); not when a
// call read the clock a moment before another's poll.
func TestPollDue(t *testing.T) {
	t.Parallel()
	const last = int64(1_800_000_000_000_000_000)
	for _, c := range []struct {
		now  int64
		want bool
	}{
		{last, false},
		{last + int64(RevocationPoll) - 1, false},
		{last + int64(RevocationPoll), true},
		{last - 1, false},
		{last - int64(RevocationPoll), false},
		{last - int64(RevocationPoll) - 1, true},
		{last - int64(time.Hour), true},
		{0, true},
	} {
		if got := due(c.now, last); got != c.want {
			t.Errorf("due(last%+d ns) = %v, want %v", c.now-last, got, c.want)
		}
	}
	if !due(last, 0) {
		t.Error("the first call does not poll")
	}
}

// TestALogEntryOfThePreviousRelease: the previous release's user
// revocations in the log carry no time ("t"). Read by this release, such
// an entry still ends the sessions issued before it was read, and is not
// taken for an exact time: the gate neither refuses from memory by it
// once the store forgot the record (revokes), nor puts it back (known).
func TestALogEntryOfThePreviousRelease(t *testing.T) {
	t.Parallel()
	var rv revocation
	if err := json.Unmarshal([]byte(`{"r":"localhost","u":"alice"}`), &rv); err != nil || rv.User != "alice" || rv.At != 0 {
		t.Fatalf("the previous release's entry: %+v %v", rv, err)
	}
	start := time.Unix(1_800_000_000, 0)
	var c coverage
	c.reset(start)
	read := start.Add(time.Hour)
	c.add(read, rv, 12*time.Hour)
	issued := &Claims{SID: "s1", RegisteredClaims: jwt.RegisteredClaims{Subject: "alice", IssuedAt: jwt.NewNumericDate(read.Add(-time.Minute))}}
	if c.admits(issued) {
		t.Error("a session issued before the entry was read is admitted from the coverage")
	}
	if c.revokes(issued) {
		t.Error("an entry without a time is taken for an exact one")
	}
	if _, _, users := c.known(); len(users) != 0 {
		t.Errorf("an entry without a time would be put back: %v", users)
	}
}
