package session

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// gatesOn opens two managers of one realm on st, at *now: b as another
// process's would be (not store.Same: the revocation log alone tells it).
func gatesOn(t *testing.T, st store.Store, now *time.Time) (a, b *Manager) {
	t.Helper()
	open := func(st store.Store) *Manager {
		m, err := NewManager(context.Background(), Config{Store: st, Realm: "example.com", Secret: []byte("a secret of thirty-two bytes, no less"),
			Alg: "HS256", Lifetime: time.Hour, Remember: gatesRemember, Now: func() time.Time { return *now }})
		if err != nil {
			t.Fatal(err)
		}
		return awaitingPolls(m)
	}
	return open(st), open(&failingWrites{Store: st})
}

// TestEndEndsTheTrustsUnlistedSessions, on Badger and a real Redis: a
// thief's trusted browser signs in MaxListed+1 times, a second apart,
// pushing its first session (and alice's laptop's, older) off the list;
// the admin ends the newest. Every session of that trust ends, at the
// other gate too (the revocation log), the one pushed off the list with
// them; alice's laptop, pushed off too but of no trust, stays. (Before,
// End ended the listed sessions of the trust only: the first stayed live
// for its lifetime, unseen but for the count of unlisted sessions.)
func TestEndEndsTheTrustsUnlistedSessions(t *testing.T) {
	t.Parallel()
	for name, st := range bothStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			a, b := gatesOn(t, st, &now)
			laptop, err := a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{Browser: "laptop"})
			if err != nil {
				t.Fatal(err)
			}
			_, tb, err := a.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: "thief"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			var thief []string
			for range MaxListed + 1 {
				now = now.Add(time.Second)
				tok, _, err := a.IssueTrusted(ctx, Began{}, "alice", tb, Where{Trust: tb.ID})
				if err != nil {
					t.Fatal(err)
				}
				thief = append(thief, tok)
			}
			for _, tok := range append([]string{laptop}, thief...) {
				if b.Check(ctx, tok) == nil {
					t.Fatal("a session before the end")
				}
			}
			if u, err := UnlistedSessions(ctx, st, "example.com", "alice", now); err != nil || u.Count != 2 {
				t.Fatalf("pushed off the list: %+v, %v; want the laptop's and the thief's first", u, err)
			}
			list, err := Sessions(ctx, st, "example.com", "alice", now)
			if err != nil || len(list) != MaxListed {
				t.Fatalf("listed: %d, %v", len(list), err)
			}
			if _, err := End(ctx, st, "example.com", "alice", list[0].SID, now); err != nil {
				t.Fatal(err)
			}
			now = now.Add(RevocationPoll)
			for i, tok := range thief {
				if b.Check(ctx, tok) != nil {
					t.Errorf("the trust's session %d (the first pushed off the list) is live at the other gate after the end", i)
				}
				if a.Uncached(ctx, tok) != nil {
					t.Errorf("the trust's session %d is live in the store after the end", i)
				}
			}
			if b.Check(ctx, laptop) == nil || a.Uncached(ctx, laptop) == nil {
				t.Error("the laptop's session, of no trust, ended with the thief's")
			}
			if trusts, _ := a.TrustedBrowsers(ctx, "alice"); len(trusts) != 0 {
				t.Errorf("the thief's trust after the end: %+v", trusts)
			}
			// A session the trust signed while it ended (listed after End
			// read the list) is listed no more: its trust's end ended it.
			late := Info{SID: "late", Issued: now, Expires: now.Add(time.Hour), Where: Where{Trust: tb.ID}}
			if err := editIndex(ctx, st, "example.com", "alice", now, func(l []Info) []Info { return append(l, late) }); err != nil {
				t.Fatal(err)
			}
			if list, err := Sessions(ctx, st, "example.com", "alice", now); err != nil || len(list) != 0 {
				t.Errorf("listed after the end: %+v, %v; want none (the laptop's is pushed off the list)", list, err)
			}
		})
	}
}

// TestEndUnlistedKeepsATrustMadeSince: more trusts were pushed off the
// list than its record keeps (AllTrusts), a thief's browsers each trusted
// anew at a sign-in, then given up; alice's phone, trusted before them, signs in after the
// newest pushed out; then alice trusts her laptop. The admin's
// end-unlisted ends the sessions pushed out and every trust whose token
// the revocation it makes ends (issued until the newest of them), the
// phone's with its session, and not the laptop's trust nor its session.
// (Before, it ended every trust of alice's, and every listed session that
// came from any trust.)
func TestEndUnlistedKeepsATrustMadeSince(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, st := newManager(t, "HS256", &now)
	trust := func(browser string) *TrustedBrowser {
		_, tb, err := m.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: browser}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	signIn := func(tb *TrustedBrowser) string {
		tok, _, err := m.IssueTrusted(ctx, Began{}, "alice", tb, Where{Trust: tb.ID})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	phone := trust("phone")
	var old []string
	thief := &TrustedBrowser{}
	for range 2*MaxListed + 1 {
		now = now.Add(time.Second)
		// Each a trust of its own, given up once it signed in (its record
		// ended, no session with it: as a re-trust's replacement did
		// before it kept the ID, attack38), so that alice's phone stays
		// among her MaxTrusted.
		if thief.ID != "" {
			if err := m.Untrust(ctx, "alice", thief.ID); err != nil {
				t.Fatal(err)
			}
		}
		thief = trust("thief")
		old = append(old, signIn(thief))
	}
	u, err := UnlistedSessions(ctx, st, "example.com", "alice", now)
	if err != nil || !u.AllTrusts {
		t.Fatalf("pushed off the list: %+v, %v; want more trusts than kept", u, err)
	}
	// Signed in after the newest pushed out so far (listed: each of these
	// sign-ins pushes out one more of the thief's).
	now = now.Add(time.Second)
	phoneSession := signIn(phone)
	old = old[:MaxListed+3] // pushed out by the end-unlisted (the laptop's sign-in pushes out one more)
	now = now.Add(time.Second)
	laptopToken, laptop, err := m.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: "laptop"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	laptopSession := signIn(laptop)
	now = now.Add(time.Second)
	if _, err := EndUnlisted(ctx, st, "example.com", "alice", now); err != nil {
		t.Fatal(err)
	}
	m.FlushCache()
	if m.Uncached(ctx, laptopSession) == nil {
		t.Error("the laptop's session, trusted after the sessions pushed out, ended with them")
	}
	if _, tb, err := m.Trusted(ctx, laptopToken); err != nil || tb.ID != laptop.ID {
		t.Errorf("the laptop's trust, made after the sessions pushed out, ended with them: %v", err)
	}
	if m.Uncached(ctx, phoneSession) != nil {
		t.Error("the phone's session, of a trust made before the sessions pushed out, after end-unlisted")
	}
	if trusts, _ := m.TrustedBrowsers(ctx, "alice"); slices.ContainsFunc(trusts, func(tb TrustedBrowser) bool { return tb.ID == phone.ID }) {
		t.Errorf("the phone's trust after end-unlisted: %+v", trusts)
	}
	for i, tok := range old {
		if m.Uncached(ctx, tok) != nil {
			t.Errorf("the thief's session %d, pushed off the list, after end-unlisted", i)
		}
	}
}

// failingWrites fails every write of the keys it names, while on.
type failingWrites struct {
	store.Store
	prefix string
	on     atomic.Bool
}

func (s *failingWrites) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if s.on.Load() && strings.HasPrefix(key, s.prefix) {
		return errDown
	}
	return s.Store.Update(ctx, key, change)
}

// TestAPushedOutSessionIsListedOrCounted: a sign-in pushes alice's first
// session off her list while the store fails the writes of her list, or
// of her count of sessions not listed. The first session is still listed,
// or counted among the unlisted (the admin sees that it exists and can
// end it), whichever write failed. (Before, the list dropped it first and
// the count came second: a failure of the count left the session neither.)
func TestAPushedOutSessionIsListedOrCounted(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"sessions-unlisted/", "sessions/"} {
		t.Run(strings.TrimSuffix(prefix, "/"), func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			base := storetest.Badger(t)
			st := &failingWrites{Store: base, prefix: prefix}
			m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Alg: "HS256", Lifetime: time.Hour, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			awaitingPolls(m)
			first, _ := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{Browser: "first"})
			for range MaxListed - 1 {
				now = now.Add(time.Second)
				m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
			}
			now = now.Add(time.Second)
			st.on.Store(true)
			if _, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{}); err != nil {
				t.Fatal(err) // the sign-in stands
			}
			st.on.Store(false)
			list, err := Sessions(ctx, st, "example.com", "alice", now)
			if err != nil {
				t.Fatal(err)
			}
			listed := slices.ContainsFunc(list, func(s Info) bool { return s.Where.Browser == "first" })
			u, err := UnlistedSessions(ctx, st, "example.com", "alice", now)
			if err != nil {
				t.Fatal(err)
			}
			if !listed && u.Count == 0 {
				t.Fatal("the first session, pushed out while the store failed, is neither listed nor counted")
			}
			// And the admin can end it either way.
			if listed {
				_, err = End(ctx, st, "example.com", "alice", list[len(list)-1].SID, now)
			} else {
				_, err = EndUnlisted(ctx, st, "example.com", "alice", now)
			}
			if m.FlushCache(); err != nil || m.Uncached(ctx, first) != nil {
				t.Fatalf("ending the first session: %v", err)
			}
			// The next sign-in trims the list back to MaxListed.
			m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
			if list, _ := Sessions(ctx, st, "example.com", "alice", now); len(list) > MaxListed {
				t.Errorf("listed after the next sign-in: %d", len(list))
			}
		})
	}
}

// TestRacingEndUnlisted: the admin ends the sessions pushed off alice's
// list while a sign-in by trust B, a second later, pushes out B's first
// session, signed in the same second as the newest counted (so the
// record's Through does not move): that one ends with the others (the
// revocation until Through), and so must trust B, added to the record
// meanwhile, with the new session it made: the record, which that
// revocation hides from then on, goes only once B has ended. On Badger and
// a real Redis, in every interleaving of their reads of the record, and 50
// times at once. (Before, the tidy took the record away on an unchanged
// Through: B, and its new session, stayed.)
func TestRacingEndUnlisted(t *testing.T) {
	t.Parallel()
	tidy := func(il *storetest.Interleaver) store.Store { return &tidied{Store: il, trusts: map[string][]string{}} }
	raceThrough(t, tidy, func(t *testing.T, m *Manager, _ *storetest.Interleaver, now time.Time, lost map[string]int) []race {
		return []race{{endUnlistedVsPushOut(t, m, m.store.(*tidied), now, lost), 2}}
	})
}

// endUnlistedVsPushOut makes TestRacingEndUnlisted's pairs.
func endUnlistedVsPushOut(t *testing.T, m *Manager, rec *tidied, now time.Time, lost map[string]int) func() storetest.Pair {
	ctx := context.Background()
	users := 0
	before := Began{at: now.Add(-time.Second)} // the sign-ins before the race, all in one second
	trust := func(user, browser string) *TrustedBrowser {
		_, tb, err := m.TrustHeld(ctx, before, user, "", "", time.Time{}, Where{Browser: browser}, "", []factor.AMR{factor.AMRSMS}, before.at.Unix(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	return func() storetest.Pair {
		users++
		user := fmt.Sprint("user", users)
		a, b := trust(user, "a"), trust(user, "b")
		_, _, errA := m.IssueTrusted(ctx, before, user, a, Where{Trust: a.ID})
		_, _, errB := m.IssueTrusted(ctx, before, user, b, Where{Trust: b.ID})
		for range MaxListed - 1 { // the last pushes a's out
			if _, _, err := m.IssueBegun(ctx, before, user, []factor.AMR{factor.AMRSMS}, Where{}); err != nil || errA != nil || errB != nil {
				t.Fatal(err, errA, errB)
			}
		}
		var errEnd, errIn error
		var later string
		return storetest.Pair{Key: unlistedKey("example.com", user),
			A: func(ctx context.Context) { _, errEnd = EndUnlisted(ctx, rec, "example.com", user, now) },
			B: func(ctx context.Context) {
				later, _, errIn = m.IssueTrusted(ctx, Began{}, user, b, Where{Trust: b.ID})
			},
			Check: func() {
				// A sign-in that finds B ended once its session is listed
				// withdraws it (IssueTrusted): no session to outlive the end.
				refused := errors.Is(errIn, ErrNotTrusted)
				if errEnd != nil || errIn != nil && !refused {
					t.Fatalf("%s: end-unlisted %v, sign-in %v", user, errEnd, errIn)
				}
				if !slices.Contains(rec.taken(user), b.ID) {
					return // B's first session was listed when it ended
				}
				m.FlushCache()
				if !refused && m.Uncached(ctx, later) != nil {
					lost["a session of a trust pushed off the list stayed live once end-unlisted took the record away"]++
				}
				if trusts, _ := m.TrustedBrowsers(ctx, user); slices.ContainsFunc(trusts, func(tb TrustedBrowser) bool { return tb.ID == b.ID }) {
					lost["a trust pushed off the list stayed once end-unlisted took the record away"]++
				}
			}}
	}
}

// tidied is a store that notes, of each user's Unlisted, the trusts it
// named when it was taken away (EndUnlisted's tidy).
type tidied struct {
	store.Store
	mu     sync.Mutex
	trusts map[string][]string
}

func (s *tidied) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	user, ok := strings.CutPrefix(key, unlistedKey("example.com", ""))
	if !ok {
		return s.Store.Update(ctx, key, change)
	}
	return s.Store.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
		v, ttl, err := change(old, found)
		var u Unlisted
		if found && v == nil && err == nil && json.Unmarshal(old, &u) == nil {
			s.mu.Lock()
			s.trusts[user] = append(s.trusts[user], u.Trusts...)
			s.mu.Unlock()
		}
		return v, ttl, err
	})
}

// taken is the trusts named by user's Unlisted when it was taken away.
func (s *tidied) taken(user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.trusts[user])
}

// TestTheLogTellsOfATrustsEnd: a gate that read a trust's end in the
// revocation log refuses that trust's sessions from memory while the
// store cannot answer or has forgotten the record (revokes, admits), puts
// the record back (known), and leaves the sessions of other trusts, and
// of none, alone.
func TestTheLogTellsOfATrustsEnd(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_800_000_000, 0)
	var c coverage
	c.reset(start)
	read := start.Add(time.Hour)
	c.add(read, revocation{Realm: "localhost", Trust: "T1"}, 12*time.Hour)
	session := func(trust *string) *Claims {
		return &Claims{SID: rand.Text(), Trust: trust, RegisteredClaims: jwt.RegisteredClaims{Subject: "alice", IssuedAt: jwt.NewNumericDate(read.Add(time.Minute))}}
	}
	t1, t2, none := "T1", "T2", ""
	if cl := session(&t1); !c.revokes(cl) || c.admits(cl) {
		t.Error("a session of the ended trust, told of by the log")
	}
	for _, cl := range []*Claims{session(&t2), session(&none), session(nil)} {
		if c.revokes(cl) || !c.admits(cl) {
			t.Errorf("a session of trust %v, not ended", cl.Trust)
		}
	}
	if _, trusts, _ := c.known(); len(trusts) != 1 || !trusts["T1"].Equal(read) {
		t.Errorf("put back: %v", trusts)
	}
	c.add(read.Add(13*time.Hour), revocation{Realm: "localhost", SID: "later"}, 12*time.Hour)
	if _, trusts, _ := c.known(); len(trusts) != 0 {
		t.Errorf("kept past its sessions' lifetime: %v", trusts)
	}
}
