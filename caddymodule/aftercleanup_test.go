package caddymodule_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAnAssertionAfterCleanup: a request still in a handler before the
// gate (a forward_auth, parked) when the config is reloaded reaches the
// old gate after its Cleanup, with a session that gate had cached. With
// EdDSA and an identity assertion, signing the assertion may rotate the
// session keys (key_rotation due), a write to the store: the old gate let
// go of its store (on Redis, a client of its own, closed), so it must not
// sign; it hands the request to the gate that replaced it, which does.
// Before, the old gate wrote to its closed store, failed, and sent the
// request upstream without its assertion. (The old gate's cache answers
// nothing here anyway: Cleanup emptied it, and a revocation poll is due;
// with a session cached after Cleanup by a request in flight:
// replaced_test.go's TestNoAssertionSignedAfterCleanup.)
func TestAnAssertionAfterCleanup(t *testing.T) {
	sitetest.Parallel(t)
	addr := redistest.Server(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	sso := parkingSSO(t, &arrived, &release)
	site := func(i int) *sitetest.Site {
		return sitetest.Start(t, ssoSite(sso, "signing_alg EdDSA\n\t\tkey_rotation 1h\n\t\tsession_lifetime 3h\n\t\tassertion_header X-Smsgate-Assertion\n\t\tstore redis "+addr+"\n\t\tprovider log",
			fmt.Sprintf("config %d: {http.request.header.X-Smsgate-Assertion}", i), ""))
	}
	s := site(1)
	bob := sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, bob, "+14155550100")
	if res := bob.Get("/"); res.StatusCode != http.StatusOK || len(res.Text) < len("config 1: ")+20 {
		t.Fatalf("bob's page on the first config: %d %q", res.StatusCode, res.Text)
	}
	// bob's session and its assertion are in the first gate's caches.
	req, _ := http.NewRequest(http.MethodGet, s.Base+"/", nil)
	req.SetBasicAuth(bob.User, "demo")
	req.Header.Set("X-Park", "1")
	answer := aside(t, bob.HTTP, req)
	<-arrived
	old := s
	s = site(2) // the same gate: the first one is cleaned up
	s.Advance(61 * time.Minute)
	close(release)
	res, body := answer()
	if res.StatusCode != http.StatusOK || len(body) < len("config 1: ")+20 {
		t.Fatalf("a cached session reaching its gate after Cleanup, its assertion due again: %d %q", res.StatusCode, body)
	}
	if errs := old.LogEntries("signing the identity assertion"); len(errs) > 0 {
		t.Fatalf("the old gate signed an assertion after its Cleanup: %v", errs)
	}
}

// TestAStricterGateHandsToNoOther: "the same configuration" is the whole
// gate's, not its realm's or its site's. One site, two gates of one realm
// on one store: /admin/ demands a code entered within the minute, the
// rest of the site takes any session. A request for /admin/ still in the
// forward_auth when a reload changed the admin gate (and left the other as
// it was) reaches the old admin gate after its Cleanup, with a session it
// has not cached: it must not be handed to the site's other gate, which
// would let bob's hour-old code into /admin/ along the old route (as it
// did with the registry keyed by the realm); it is handed whole to the
// running config's server, whose new admin gate asks for a fresh code
// (401; before, the 503 to retry), and still does on his next request.
func TestAStricterGateHandsToNoOther(t *testing.T) {
	sitetest.Parallel(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	sso := parkingSSO(t, &arrived, &release)
	storeLine := "store badger {DIR}"
	site := func(i int) *sitetest.Site {
		return sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	forward_auth %[1]s {
		uri /verify
		copy_headers Remote-User
	}
	handle /admin/* {
		smsgate {
			identity {http.request.header.Remote-User}
			max_age 1m
			%[2]s
			provider log
			site_name "Admin %[3]d"
		}
		respond "config %[3]d: admin {http.auth.user.id}"
	}
	handle {
		smsgate {
			identity {http.request.header.Remote-User}
			%[2]s
			provider log
		}
		respond "config %[3]d: {http.auth.user.id}"
	}
	handle_errors {
		respond "{err.status_code} {err.message}" {err.status_code}
	}
}`, strings.TrimPrefix(sso.URL, "http://"), storeLine, i))
	}
	s := site(1)
	storeLine = "store badger " + s.Store
	bob := sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, bob, "+14155550100")
	s.Advance(time.Hour)
	sitetest.ExpectBody(t, bob.Get("/"), "config 1: bob")
	req, _ := http.NewRequest(http.MethodGet, s.Base+"/admin/x", nil)
	req.SetBasicAuth(bob.User, "demo")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Park", "1")
	answer := aside(t, bob.HTTP, req)
	<-arrived
	old := s
	s = site(2) // the admin gate changed, the other not
	close(release)
	if res, body := answer(); res.StatusCode != http.StatusUnauthorized || body != "401 sign in with a code sent to your phone" {
		t.Fatalf("an hour-old code, for /admin/ whose gate was replaced: %d %q; want the new admin gate's 401", res.StatusCode, body)
	}
	if said := old.LogEntries(handedToRunningAfterReload); len(said) != 1 || said[0]["event"] != "handed_to_running" {
		t.Fatalf("the old admin gate's hand-over logged: %v", said)
	}
	handedOff(t, s, 0)
	sitetest.ExpectBody(t, bob.Get("/"), "config 2: bob")
	if res := bob.GetWith("/admin/x", map[string]string{"Accept": "application/json"}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an hour-old code, for /admin/ on the new config: %d %q", res.StatusCode, res.Text)
	}
}

// TestARevocationReachesALateRequest: a session the old gate had cached,
// revoked at another instance (on the shared Redis) while a request of it
// was still in the forward_auth at a reload. That gate, cleaned up, polls
// the revocation log no more; a live gate would have read it (a poll is
// due every second): the late request must not be admitted from the
// stale cache. The gate that replaced it serves it and says so
// (handed_off).
func TestARevocationReachesALateRequest(t *testing.T) {
	sitetest.Parallel(t)
	revokedWhileLate(t, 2*session.RevocationPoll)
}

// TestARevocationReachesALateRequestAtOnce: the same with no poll due yet
// at the old gate. Its Cleanup emptied its cache, so the late request is
// handed on and checked against the store at once; before, the old cache
// admitted it (200) until a poll was due, up to a second after Cleanup.
func TestARevocationReachesALateRequestAtOnce(t *testing.T) {
	sitetest.Parallel(t)
	revokedWhileLate(t, 0)
}

// revokedWhileLate revokes bob's session at another instance while a
// request of it waits before the gate across a reload, advances the clock
// by advance, and lets the request go on.
func revokedWhileLate(t *testing.T, advance time.Duration) {
	addr := redistest.Server(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	sso := parkingSSO(t, &arrived, &release)
	// The gates name the server localhost, the other instance 127.0.0.1:
	// another store to this process, which tells only those on its own.
	port := addr[strings.LastIndex(addr, ":")+1:]
	site := func(i int) *sitetest.Site {
		return sitetest.Start(t, ssoSite(sso, "store redis localhost:"+port+"\n\t\tprovider log",
			fmt.Sprintf("config %d: {http.auth.user.id}", i), ""))
	}
	s := site(1)
	bob := sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, bob, "+14155550100")
	sitetest.ExpectBody(t, bob.Get("/"), "config 1: bob") // in the first gate's cache
	req, _ := http.NewRequest(http.MethodGet, s.Base+"/", nil)
	req.SetBasicAuth(bob.User, "demo")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Park", "1")
	answer := aside(t, bob.HTTP, req)
	<-arrived
	s = site(2) // the same gate
	other, closeOther, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeOther()
	if err := session.RevokeUser(context.Background(), other, "localhost", "bob", s.Now(), nil); err != nil {
		t.Fatal(err)
	}
	s.Advance(advance)
	close(release)
	if res, body := answer(); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a session revoked elsewhere, reaching its gate after Cleanup from its cache: %d %q", res.StatusCode, body)
	}
	handedOff(t, s, 1)
}

// handedOff checks that the gate of s says it served n requests handed on
// by the gate it replaced, with nothing in the event but its name and realm
// (no path, no user, no number, no secret).
func handedOff(t *testing.T, s *sitetest.Site, n int) {
	t.Helper()
	entries := s.LogEntries("a request that reached its gate after a config reload is served by the gate that replaced it")
	if len(entries) != n {
		t.Fatalf("%d handed_off entries, want %d: %v", len(entries), n, entries)
	}
	for _, e := range entries {
		for k, v := range e {
			switch k {
			case "level", "ts", "logger", "msg":
			case "event", "realm":
				if want := map[string]string{"event": "handed_off", "realm": "localhost"}[k]; v != want {
					t.Errorf("handed_off: %s = %v, want %q", k, v, want)
				}
			default:
				t.Errorf("handed_off carries %s = %v", k, v)
			}
		}
	}
}
