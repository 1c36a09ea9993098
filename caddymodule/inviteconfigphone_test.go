package caddymodule_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// configPhonesSite is a realm, localhost, on storeLine's store, served by
// a gate behind basic_auth (alice, an admin, and other) whose config gives
// alice and carol their phones, and by a login form under /bob/ (pages
// under /bob/.smsgate/) whose config gives bob his: bob's phone comes from
// another gate of the realm.
func configPhonesSite(t *testing.T, storeLine, other string) *sitetest.Site {
	return sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	handle /bob* {
		smsgate {
			identity none
			realm localhost
			path_prefix /bob/.smsgate/
			user bob +14155550199
			`+storeLine+`
			provider log
		}
		respond "bob's"
	}
	handle {
		basic_auth argon2id {
			alice `+sitetest.DemoHash+`
			`+other+` `+sitetest.DemoHash+`
		}
		smsgate {
			realm localhost
			user alice +14155550101
			user carol +14155552671
			admins alice
			`+storeLine+`
			provider log
		}
		respond "Hello, {http.auth.user.id}!"
	}
}`)
}

// refusedSaid is what a refused invite for a user the config gives a
// phone says (words' invite.config_phone), in English.
const refusedSaid = "this user's phone is set in the configuration"

// TestNoInviteForAUserTheConfigGivesAPhone (invite36), on Badger and a
// real Redis: an invite for carol, whose phone this gate's config gives,
// or for bob, whose phone another gate of the realm's gives, is refused
// through the admin API (409, a JSON error that says why and names no
// number) and through the console's POST (409, the page says why), and no
// invite record is written for either (the store read once Caddy let it
// go). She holds that phone at every gate of the realm and enrolls
// nothing: the invite would be used up for nothing. dan's, whom no config
// line names, is made. Before, both were made.
func TestNoInviteForAUserTheConfigGivesAPhone(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		s := configPhonesSite(t, storeLine, "dan")
		for _, user := range []string{"carol", "bob"} {
			st, out := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"`+user+`","ttl":"1h"}`)
			if st != http.StatusConflict || !strings.Contains(out, `"error":"No invite was made: `+refusedSaid) ||
				strings.Contains(out, "token=") || strings.Contains(out, "4155") {
				t.Errorf("the admin API's invite for %s: %d %s, want 409 saying why", user, st, out)
			}
		}
		alice := sitetest.NewClient(t, "alice")
		signIn(t, s, alice)
		for _, user := range []string{"carol", "bob"} {
			path := "/.smsgate/admin/user?name=" + user
			res := alice.PostWith(path, url.Values{"action": {"invite"}, "csrf": {alice.CSRF(path)}}, map[string]string{"Origin": s.Base})
			if res.StatusCode != http.StatusConflict || !strings.Contains(res.Text, "this user&#39;s phone is set in the configuration") || strings.Contains(res.Text, "token=") {
				t.Errorf("the console's invite for %s: %d\n%s", user, res.StatusCode, res.Text)
			}
		}
		if st, out := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"dan","ttl":"1h"}`); st != http.StatusOK || !strings.Contains(out, `"path":"/.smsgate/invite?token=`) {
			t.Errorf("the admin API's invite for dan, whose phone no config gives: %d %s", st, out)
		}
		noInviteFor(t, keep(s), "carol", "bob")
	})
}

// noInviteFor checks, once the test's Caddy let the store storeLine names
// go (a site of no gate loaded in its place), that it holds no invite
// record for users: neither the record naming a user's newest invite nor
// an invite for her, nor any invite the console's admin (alice) minted
// for her.
func noInviteFor(t *testing.T, storeLine string, users ...string) {
	t.Helper()
	sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	respond "no gate"
}`)
	var st store.Store
	var closeStore func() error
	var err error
	if folder, ok := strings.CutPrefix(storeLine, "store badger "); ok {
		st, closeStore, err = store.OpenBadger(folder)
	} else {
		st, closeStore, err = store.OpenRedis(&store.Redis{Addresses: []string{strings.TrimPrefix(storeLine, "store redis ")}})
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = closeStore() }()
	ctx := context.Background()
	for _, user := range users {
		if raw, err := st.Get(ctx, endkeys.LatestInvite("localhost", user)); err == nil {
			t.Errorf("the store holds %s's newest invite's record: %s", user, raw)
		}
	}
	if raw, err := st.Get(ctx, endkeys.MintedInvites("localhost", "alice")); err == nil {
		t.Errorf("the store holds the invites alice minted: %s", raw)
	}
	err = st.Scan(ctx, store.Key("invite", "localhost", ""), func(_ string, value []byte) error {
		for _, user := range users {
			if strings.Contains(string(value), `"user":"`+user+`"`) {
				t.Errorf("the store holds an invite for %s: %s", user, value)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
