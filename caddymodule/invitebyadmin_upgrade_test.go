package caddymodule_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAnInviteOfThePreviousReleaseIsNotEndedWithAnAdmin (attack34b, the
// upgrade): a store the previous release wrote holds an open invite for
// olga, minted at its console, which recorded no minter (the invite and
// her newest-invite record as it wrote them). This release reads it as
// nobody's: the revoke of an admin (mallory, who may have minted it) ends
// none of it, and olga enrolls by it (docs/UPGRADING.md says so: reset or
// re-invite her to end it); nor does the config naming no admin
// (minted37: an invite is honoured while the config names its minter,
// and this one names none). On Badger and Redis, through a real Caddy.
func TestAnInviteOfThePreviousReleaseIsNotEndedWithAnAdmin(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis", "badger, no admins", "redis, no admins"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			st, closeStore, storeLine := sitetest.StoreFirst(t, strings.TrimSuffix(kind, ", no admins"))
			const oldToken = "PREVIOUSRELEASEINVITEFOROLGA2345"
			id := putPreviousInvite(t, st, time.Now(), oldToken, "olga", nil)
			putRecord(t, st, endkeys.LatestInvite("localhost", "olga"), map[string]any{"id": id})
			if err := closeStore(); err != nil {
				t.Fatal(err)
			}

			admins := "\t\tadmins mallory\n"
			if strings.HasSuffix(kind, "no admins") {
				admins = ""
			}
			s := textSite(t, storeLine, []string{"mallory", "olga"}, admins)
			addUser(t, s, "mallory", "+14155552671")
			if st, out := s.Admin("POST", "/smsgate/revoke", `{"realm":"localhost","user":"mallory"}`); st != http.StatusOK {
				t.Fatalf("revoking mallory: %d %s", st, out)
			}
			if ends := s.LogEntries("admin_revoke"); len(ends) != 1 || ends[0]["invites_ended"] != float64(0) {
				t.Errorf("the audit of the revoke: %v; want invites_ended 0", ends)
			}
			olga := sitetest.NewClient(t, "olga")
			tok := olga.CSRF("/.smsgate/invite?token=" + oldToken)
			sitetest.Expect(t, olga.Post("/.smsgate/invite", url.Values{"token": {oldToken}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
			sitetest.Expect(t, olga.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552672"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.ExpectEnrolled(t, olga.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
			sitetest.ExpectBody(t, olga.Get("/"), "Hello, olga!")
		})
	}
}

// putPreviousInvite writes on st an open invite for user, by its token,
// as the previous release wrote it: minted a minute before now, for a
// day, with the fields more. It answers the invite's ID.
func putPreviousInvite(t *testing.T, st store.Store, now time.Time, token, user string, more map[string]any) string {
	t.Helper()
	sum := sha256.Sum256([]byte(token))
	id := hex.EncodeToString(sum[:])
	rec := map[string]any{"user": user, "expires": now.Add(24 * time.Hour), "made": now.Add(-time.Minute)}
	maps.Copy(rec, more)
	putRecord(t, st, store.Key("invite", "localhost", id), rec)
	return id
}

// putRecord writes v, in JSON, at key on st, for a day.
func putRecord(t *testing.T, st store.Store, key string, v any) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err == nil {
		err = st.Put(context.Background(), key, raw, 24*time.Hour)
	}
	if err != nil {
		t.Fatal(err)
	}
}
