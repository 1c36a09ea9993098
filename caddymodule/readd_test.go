package caddymodule_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAnUndoneAddLeavesThePhoneTheUserHad: alice adds, on the devices
// page, a number that is already hers (to rename it, or by mistake); she
// signs out everywhere at another instance of the site before she types
// its code, which this gate learns only at its next revocation poll. The
// adding is undone (its session ended), but the phone she had before must
// stay: the undo removes only what the adding made. Through a real Caddy
// on Redis, the other instance writing to the store from the test.
// (Before, the adding found her phone by its number and answered its ID,
// and the undo removed it: alice was left with no phone at all.)
func TestAnUndoneAddLeavesThePhoneTheUserHad(t *testing.T) {
	sitetest.Parallel(t)
	addr := redistest.Server(t)
	s := textSite(t, "store redis "+addr, []string{"alice"}, "")
	addUser(t, s, "alice", "+14155552671")
	s.Advance(time.Minute)
	alice := sitetest.NewClient(t, "alice")
	signIn(t, s, alice)
	tok := alice.CSRF("/.smsgate/devices")
	sitetest.Expect(t, alice.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+14155552671"}, "name": {"Work"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	code := s.LastCode()

	// The gate polls the revocation log now, and not again for a second.
	s.Advance(2 * session.RevocationPoll)
	sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
	other, closeOther, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeOther()
	if err := session.RevokeUser(context.Background(), other, "localhost", "alice", s.Now(), nil); err != nil {
		t.Fatal(err)
	}
	res := alice.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
	_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
	var list []struct {
		User    string
		Devices []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || len(list[0].Devices) != 1 {
		t.Fatalf("alice's phones after an adding of her own number was undone (its answer: %d %s): %s", res.StatusCode, res.Header.Get("Location"), out)
	}
}
