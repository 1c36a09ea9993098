package enrollment

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAnEndWrittenButNotAnnouncedIsAnnouncedWhenRunAgain: an import
// writes a user's revocation, a session's end or a trust's end, and the
// store goes away before it is announced (announceFails): the import
// fails, and a gate that had checked the session it ends still serves it
// (nothing told it). The import run again once the store is back finds
// the end held as the file has it and announces it: the gate, which reads
// the revocation log as another process's would, refuses the session. On
// Badger and a real Redis. (Before: the run again found the end "as late"
// and announced nothing, and the gate served the session until its cache
// entry went; as TestADeviceEndWrittenButNotAnnouncedIsAnnouncedWhenRunAgain
// for a device's end.)
func TestAnEndWrittenButNotAnnouncedIsAnnouncedWhenRunAgain(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		m, err := session.NewManager(ctx, session.Config{Store: st, Realm: realm, Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		hour := time.Now().Add(time.Hour)
		for _, c := range []struct {
			kind, user, trust string
			end               func(sid string) Record
		}{
			{"a user's revocation", "ann", "", func(string) Record {
				at, _ := json.Marshal(time.Now().Add(time.Second).UTC())
				return record(endkeys.User(realm, "ann"), at)
			}},
			{"a session's end", "sam", "", func(sid string) Record {
				r := record(endkeys.Session(realm, sid), []byte{1})
				r.Until = &hour
				return r
			}},
			{"a trust's end", "tess", "tess-trust", func(string) Record {
				return record(endkeys.Trust(realm, "tess-trust"), []byte{1}) // no expiry, as the admin's end writes it
			}},
		} {
			t.Run(c.kind, func(t *testing.T) {
				t.Parallel()
				gone := &announceFails{Store: st}
				s, _, _ := raceService(t, gone)
				admin := &Admin{Core: s.Core, Devices: s.Devices}
				admin.Announce = session.AnnounceEnd
				tok, sid, err := m.IssueBegun(ctx, session.Began{}, c.user, []factor.AMR{factor.AMRSMS}, session.Where{Trust: c.trust})
				if err != nil {
					t.Fatal(err)
				}
				if m.Check(ctx, tok) == nil {
					t.Fatal("the session refused before the import")
				}
				file := []Record{c.end(sid)}
				key, _, _ := file[0].stored()
				gone.on = true
				if _, err := admin.Import(ctx, file); err == nil {
					t.Fatal("an import whose announcement failed answered no error")
				}
				gone.on = false
				time.Sleep(session.RevocationPoll + 100*time.Millisecond) // the gate (another process's) reads the log
				if _, err := st.Get(ctx, key); err != nil || m.Check(ctx, tok) == nil {
					t.Fatalf("the failed import: the end written: %v; the gate refuses the session already", err)
				}
				if _, err := admin.Import(ctx, file); err != nil {
					t.Fatal(err)
				}
				// At its next poll of the log (a loaded machine's may take a few).
				deadline := time.Now().Add(10 * time.Second)
				for m.Check(ctx, tok) != nil && time.Now().Before(deadline) {
					time.Sleep(100 * time.Millisecond)
				}
				if m.Check(ctx, tok) != nil {
					t.Errorf("the import run again: the gate still serves the session %s ends (never announced)", c.kind)
				}
			})
		}
	})
}

// TestAnImportWhoseAnnounceFailsCountsOnlyWhatItAnnounced: an import's
// error says how many ends it kept before it failed ("nothing was
// imported but …": a user's revocations as one written and announced).
// A session's end and a device's end written whose announcement failed
// are counted so no more than a revocation is: 0, and the error says the
// end was written, for the import run again to announce it. On Badger
// and a real Redis. (Before, review13: each counted one more end kept
// than it had announced.)
func TestAnImportWhoseAnnounceFailsCountsOnlyWhatItAnnounced(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		hour := time.Now().Add(time.Hour)
		session1 := record(endkeys.Session(realm, "sid-1"), []byte{1})
		session1.Until = &hour
		device := []byte(`{"at":"` + time.Now().UTC().Format(time.RFC3339Nano) + `"}`)
		for kind, file := range map[string][]Record{
			"a session's end": {session1},
			"a device's end":  {record(endkeys.Device(realm, alice, "lost1"), device), record(endkeys.Device(realm, alice, "lost2"), device)},
		} {
			gone := &announceFails{Store: st, on: true}
			s, _, _ := raceService(t, gone)
			admin := &Admin{Core: s.Core, Devices: s.Devices}
			admin.Announce = session.AnnounceEnd
			_, err := admin.Import(ctx, file)
			if err == nil || !strings.Contains(err.Error(), " 0 sessions' ends") || !strings.Contains(err.Error(), "written, not announced") {
				t.Errorf("%s written, its announcement failed: %v; want 0 sessions' ends kept, and that it was written, not announced", kind, err)
			}
		}
	})
}
