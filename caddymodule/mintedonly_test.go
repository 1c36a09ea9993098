package caddymodule_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAResetOfAnAdminWhoHoldsOnlyInvitesEndsThem (invite36), on Badger
// and a real Redis: ann and amy, admins who never enrolled a device of
// their own, each minted an invite at the console (for dan, for don): the
// store holds only their index of it (invites-minted) under their names.
// A reset of ann and a revocation of amy end each one's invite, and say
// so (invites_ended 1), and the links are refused after. Before, each
// answered "No such user" (404), as of a name that held nothing.
func TestAResetOfAnAdminWhoHoldsOnlyInvitesEndsThem(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStoreFirst(t, func(t *testing.T, st store.Store, closeStore func() error, storeLine string) {
		tokens := map[string]string{}
		for admin, user := range map[string]string{"ann": "dan", "amy": "don"} {
			tokens[admin] = mintedBy(t, st, admin, user)
		}
		if err := closeStore(); err != nil {
			t.Fatal(err)
		}
		s := inviteOnlySite(t, storeLine, "")
		for admin, op := range map[string]string{"ann": "reset", "amy": "revoke"} {
			code, out := s.Admin("POST", "/smsgate/"+op, `{"realm":"localhost","user":"`+admin+`"}`)
			var answer map[string]string
			_ = json.Unmarshal([]byte(out), &answer)
			if code != http.StatusOK || answer["invites_ended"] != "1" || strings.Contains(out, "No such user") {
				t.Errorf("%s of %s, who holds only the invite she minted: %d %s; want it ended and said", op, admin, code, out)
			}
			c := sitetest.NewClient(t, "")
			tok := c.CSRF("/.smsgate/login")
			if res := c.Post("/.smsgate/invite", map[string][]string{"token": {tokens[admin]}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest {
				t.Errorf("the link of the invite %s minted, after the %s: %d to %q, want 400 (ended)", admin, op, res.StatusCode, res.Header.Get("Location"))
			}
		}
	})
}

// mintedBy writes into st, as the console does, an invite for user that
// admin minted (the invite, its user's record of her newest, the admin's
// index), working for a day, and returns its token.
func mintedBy(t *testing.T, st store.Store, admin, user string) string {
	t.Helper()
	token := "a-token-of-" + admin + "-for-" + user + "-0123456789"
	sum := sha256.Sum256([]byte(token))
	id := hex.EncodeToString(sum[:])
	now := time.Now()
	expires := now.Add(24 * time.Hour)
	invite, _ := json.Marshal(map[string]any{"user": user, "expires": expires, "made": now, "by": admin})
	latest, _ := json.Marshal(map[string]string{"id": id})
	index, _ := json.Marshal([]endkeys.Minted{{User: user, ID: id, Expires: expires, Made: now}})
	ctx := context.Background()
	for key, value := range map[string][]byte{
		store.Key("invite", "localhost", id):      invite,
		endkeys.LatestInvite("localhost", user):   latest,
		endkeys.MintedInvites("localhost", admin): index,
	} {
		if err := st.Put(ctx, key, value, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	return token
}
