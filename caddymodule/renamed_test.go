package caddymodule_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// The release between (the first with the prefixed cookie names) issued
// its tokens unmarked, as the releases before did, and recorded when it
// first ran on the store (session.RenamedRecord): only that record tells
// its tokens from older ones. These tests are about a store that lost it
// while the tokens did not (a configured signing_key, an imported one).

// renamedKey is the neighbour site's configured signing_key, where the
// tests need one: its sessions outlive the store.
const renamedKey = "a-signing-key-of-thirty-two-bytes-or-more"

// oldNameCounts reports whether the neighbour site takes token under the
// session cookie's old name, as the browser it was issued to holds it
// (for the site, Path=/): "Hello, <user>!" at the app.
func oldNameCounts(t *testing.T, token, user string) bool {
	t.Helper()
	c := sitetest.NewClient(t, "")
	app, _ := url.Parse(c.WithPorts(neighbourApp + "/"))
	c.HTTP.Jar.SetCookies(app, []*http.Cookie{{Name: pages.SessionCookie, Value: token, Path: "/", Secure: true, HttpOnly: true}})
	res := c.GetURL(app.String())
	return res.StatusCode == http.StatusOK && strings.HasPrefix(res.Text, "Hello, "+user+"!")
}

// plantedCounts reports whether token, planted under the session cookie's
// old name by a neighbour host (plant), signs a visitor in.
func plantedCounts(t *testing.T, token string) bool {
	t.Helper()
	visitor := sitetest.NewClient(t, "")
	plant(t, visitor, token)
	return visitor.GetURL(visitor.WithPorts(neighbourApp+"/private/page")).StatusCode == http.StatusOK
}

// importRenamed writes the release between's record (at) into the site's
// store as an import does (the admin API; with the record alone).
func importRenamed(t *testing.T, s *sitetest.Site, at time.Time) {
	t.Helper()
	raw, _ := json.Marshal([]byte(at.UTC().Format(time.RFC3339Nano)))
	body := fmt.Sprintf(`[{"key":"b64:%s","value":%s}]`, session.RenamedRecord, raw)
	if code, out := s.Admin(http.MethodPost, "/smsgate/import?realm=app.example.com", body); code != http.StatusOK {
		t.Fatalf("importing the renamed record: %d %s", code, out)
	}
}

// down loads a config without a gate: the store is no gate's.
func down(t *testing.T) {
	sitetest.Start(t, "http://localhost:{HTTP_PORT} {\n\trespond \"down\"\n}")
}

// TestALostRenamedRecordCountsNoUnknownToken: with signing_key in the
// config, sessions outlive their store. A store that lost the release
// between's record (wiped, or a new one under the same key) took every
// unmarked token under the old name again as one from before the
// renaming: the release between's too, planted by a neighbour host, and
// the visitor was signed in as mallory. Now, without the record, an
// unmarked token counts only if issued since the store's epoch began:
// what the store cannot vouch for counts no more (those browsers sign in
// again). An upgrade from before the renaming, on its store with the key
// configured, still keeps its sessions.
func TestALostRenamedRecordCountsNoUnknownToken(t *testing.T) {
	sitetest.Parallel(t)
	cert := certificate(t)
	site := func(st string) *sitetest.Site {
		return sitetest.Start(t, fmt.Sprintf(neighbourSite, cert, st+"\n\t\tsigning_key "+renamedKey, "App"))
	}
	for _, on := range []string{"badger", "redis"} {
		t.Run(on, func(t *testing.T) {
			st, wipe := "badger {DIR}", func(*sitetest.Site) string { return "badger {DIR}" } // a new folder: a lost volume
			if on == "redis" {
				addr := redistest.Server(t)
				st, wipe = "redis "+addr, func(*sitetest.Site) string {
					rc := redis.NewClient(&redis.Options{Addr: addr})
					defer rc.Close()
					if err := rc.FlushAll(context.Background()).Err(); err != nil {
						t.Fatal(err)
					}
					return "redis " + addr
				}
				t.Cleanup(func() { down(t) }) // before the Redis stops
			}
			s := site(st)
			if on == "badger" {
				st = "badger " + s.Store // the same store from now on
			}

			// A session from before the renaming, on a store that never
			// had the record (an upgrade from two releases back): it counts.
			early := sitetest.NewClient(t, "")
			signInOverTLS(t, s, early, "carol")
			carol := unmarked(t, s, []byte(renamedKey), hostSession(early), false)
			if !oldNameCounts(t, carol, "carol") {
				t.Fatal("a session from before the renaming, under the old name, on its store: refused")
			}

			// The release between's record, and one of its sessions.
			s.Advance(time.Minute)
			importRenamed(t, s, s.Now())
			s.Advance(time.Minute)
			planter := sitetest.NewClient(t, "")
			signInOverTLS(t, s, planter, "mallory")
			mallory := unmarked(t, s, []byte(renamedKey), hostSession(planter), false)
			if plantedCounts(t, mallory) || !oldNameCounts(t, carol, "carol") {
				t.Fatal("with the record: the release between's session planted under the old name taken, or carol's from before refused")
			}

			// The store loses everything; the key stays.
			down(t)
			s = site(wipe(s))
			if plantedCounts(t, mallory) {
				t.Fatal("a store that lost the renamed record took the release between's unmarked session, planted under the old name")
			}
			if oldNameCounts(t, carol, "carol") {
				t.Fatal("a store that lost the renamed record took an unmarked session issued before its epoch began (it cannot tell whose)")
			}
		})
	}
}

// TestAnImportCarriesTheRenamedRecord: an export (with the keys) and its
// import carried the signing secret but not the release between's record:
// the new store took that release's unmarked sessions under the old name.
// Now the record goes with the export, and the imported store still
// refuses the release between's planted session, and takes the one from
// before it.
func TestAnImportCarriesTheRenamedRecord(t *testing.T) {
	sitetest.Parallel(t)
	cert := certificate(t)
	addr := redistest.Server(t)
	// The release between first ran on this store half an hour from now.
	renamed := time.Now().Add(30 * time.Minute)
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	if err := rc.Set(context.Background(), "smsgate:"+session.RenamedRecord, renamed.UTC().Format(time.RFC3339Nano), 0).Err(); err != nil {
		t.Fatal(err)
	}
	s := sitetest.Start(t, fmt.Sprintf(neighbourSite, cert, "redis "+addr, "App"))
	early := sitetest.NewClient(t, "")
	signInOverTLS(t, s, early, "carol")
	carol := beforeRenaming(t, s, addr, hostSession(early), false)
	s.Advance(time.Hour)
	planter := sitetest.NewClient(t, "")
	signInOverTLS(t, s, planter, "mallory")
	mallory := beforeRenaming(t, s, addr, hostSession(planter), false)
	code, export := s.Admin(http.MethodPost, "/smsgate/export?realm=app.example.com&with_keys=1", "")
	if code != http.StatusOK {
		t.Fatalf("export: %d %s", code, export)
	}

	// A new store: the export imported, then the gate started again on it.
	down(t)
	moved := sitetest.Start(t, fmt.Sprintf(neighbourSite, cert, "badger {DIR}", "App, moved"))
	if code, out := moved.Admin(http.MethodPost, "/smsgate/import?realm=app.example.com", export); code != http.StatusOK {
		t.Fatalf("import: %d %s", code, out)
	}
	sitetest.Start(t, fmt.Sprintf(neighbourSite, cert, "badger "+moved.Store, "App, moved, restarted"))
	if plantedCounts(t, mallory) {
		t.Fatal("the imported store took the release between's unmarked session, planted under the old name")
	}
	if !oldNameCounts(t, carol, "carol") {
		t.Fatal("the imported store refused a session from before the renaming, under the old name")
	}
}
