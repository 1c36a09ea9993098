package session

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAnnounceEndReachesAnotherInstance: the ends an import writes
// (enrollment.Core.Announce) reach another instance's cache through the
// revocation log within RevocationPoll, as a logout's or a revoke's do: a
// session's end and a user's revocation, each by its record's key as the
// store holds it; another session stays cached, and a key that is no end
// announces nothing.
func TestAnnounceEndReachesAnotherInstance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a, b, st := twoGates(t, &now)
	toks := signedIn(t, a, b, 3)
	elsewhere := &flaky{Store: st.Store} // another instance's store: not applied here at once
	before, _ := st.Get(ctx, RevocationCounter)
	if err := AnnounceEnd(ctx, elsewhere, "device/example.com/user2", []byte(`[]`)); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.Get(ctx, RevocationCounter); string(n) != string(before) {
		t.Fatalf("a record that is no end was announced: counter %q, was %q", n, before)
	}
	cl, _ := b.Cached(ctx, toks[0])
	if cl == nil {
		t.Fatal("session 0 not cached")
	}
	at, _ := json.Marshal(now)
	if err := AnnounceEnd(ctx, elsewhere, endkeys.Session("example.com", cl.SID), []byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := AnnounceEnd(ctx, elsewhere, endkeys.User("example.com", "user1"), at); err != nil {
		t.Fatal(err)
	}
	now = now.Add(RevocationPoll)
	b.Check(ctx, toks[2]) // the poll reads the news
	for i, tok := range toks {
		if cl, _ := b.Cached(ctx, tok); (cl != nil) != (i == 2) {
			t.Errorf("session %d cached = %v after the announcement", i, cl != nil)
		}
	}
}

// TestAnnounceEndReadsEscapedKeys: an end whose realm and session, trust
// or user hold '/', '%' or "%2F" as written is announced with them as
// they were, and the same key spelt otherwise than store.Key writes it
// (another escape) is announced as nothing, as no gate reads it.
func TestAnnounceEndReadsEscapedKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	realm, id := "a/b%2F", "é/%25%"
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	stamp, _ := json.Marshal(at)
	for _, c := range []struct {
		key  string
		want *revocation
	}{
		{endkeys.Session(realm, id), &revocation{Realm: realm, SID: id}},
		{endkeys.Trust(realm, id), &revocation{Realm: realm, Trust: id}},
		{endkeys.User(realm, id), &revocation{Realm: realm, User: id, At: at.UnixNano()}},
		{strings.Replace(endkeys.Session(realm, id), "%2F", "%2f", 1), nil},
		{"revoked/local%68ost/s1", nil},
		{"revoked-user/r/a%zz", nil},
	} {
		before, _ := st.Counter(ctx, RevocationCounter)
		if err := AnnounceEnd(ctx, st, c.key, stamp); err != nil {
			t.Fatal(err)
		}
		n, _ := st.Counter(ctx, RevocationCounter)
		if c.want == nil {
			if n != before {
				t.Errorf("%q was announced", c.key)
			}
			continue
		}
		var got revocation
		raw, err := st.Get(ctx, revocationKey(n))
		if err == nil {
			err = json.Unmarshal(raw, &got)
		}
		if n != before+1 || err != nil || got != *c.want {
			t.Errorf("%q announced as %+v (entry %d, was %d; %v), want %+v", c.key, got, n, before, err, *c.want)
		}
	}
}

// TestAnUnreadableDeviceEndIsAnnouncedByTheGatesClock (clock32 4): an
// import's device end that cannot be read ends every session of the
// device, announced at the gate's time (AnnounceEndBy, the clock the gate
// runs on), not the machine's: a gate ahead forgets what it signed.
// Before, time.Now: announced 20 s behind the gate.
func TestAnUnreadableDeviceEndIsAnnouncedByTheGatesClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	ahead := time.Now().Add(20 * time.Second)
	if err := AnnounceEndBy(func() time.Time { return ahead })(ctx, st, endkeys.Device("example.com", "alice", "LOST"), []byte("{")); err != nil {
		t.Fatal(err)
	}
	n, _ := st.Counter(ctx, RevocationCounter)
	var got revocation
	raw, err := st.Get(ctx, revocationKey(n))
	if err == nil {
		err = json.Unmarshal(raw, &got)
	}
	if err != nil || got.Device != "LOST" || got.At != ahead.UnixNano() {
		t.Errorf("the unreadable end announced as %+v (%v); want the device's at the gate's %v", got, err, ahead)
	}
}
