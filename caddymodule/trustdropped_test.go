package caddymodule_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
)

// TestAGateOfThePreviousReleaseBringsNoGivenUpTrustCookieBack (trust39):
// a rolling upgrade. alice's browser, trusted, is trusted again a minute
// later (a step-up, "remember" ticked); then a gate of the previous
// release (b81c7ea, which knows no gen) rewrites her trust record in its
// form: the trust without its generation. At this release's gate the
// browser's first cookie, given up at the re-trust, signs nobody in, nor
// does the renewed one (its generation gone: a code asked once). On
// Badger and Redis, through a real Caddy. (Before, the first cookie
// signed in again: generation 0, as the rewritten record reads.)
func TestAGateOfThePreviousReleaseBringsNoGivenUpTrustCookieBack(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := rememberingHoldSite(t, storeLine, dir)
		browser := sitetest.NewClient(t, "alice")
		trusted := func() string {
			t.Helper()
			tok := codeSent(t, browser)
			sitetest.Expect(t, browser.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
			return browser.Cookie(pages.TrustCookie)
		}
		first := trusted()
		s.Advance(time.Minute)
		renewed := trusted()
		var cl struct {
			SID      string `json:"sid"`
			IAT      int64  `json:"iat"`
			EXP      int64  `json:"exp"`
			AuthTime int64  `json:"auth_time"`
			Gen      int    `json:"gen"`
		}
		claimsOf(t, renewed, &cl)
		var known struct {
			Browser string `json:"br"`
		}
		claimsOf(t, browser.Cookie("smsgate_known"), &known)
		if cl.Gen != 1 || known.Browser == "" {
			t.Fatalf("the re-trust's cookie: %+v, its browser %q", cl, known.Browser)
		}

		// The previous release's form (as b81c7ea marshals its
		// TrustedBrowser), written as its gate does, beside this one.
		at := func(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.RFC3339Nano) }
		record := fmt.Sprintf(`[{"id":%q,"browser":"","created":%q,"expires":%q,"auth_time":%d,"amr":["sms"],"known":%q,"prefixed":true,"issued":%q,"device":""}]`,
			cl.SID, at(cl.IAT), at(cl.EXP), cl.AuthTime, known.Browser, at(cl.IAT))
		reader := sitetest.NewClient(t, "alice") // a visit that reads the record, held meanwhile
		reader.SetCookieFor(reader.Base()+"/.smsgate/", pages.TrustCookie, renewed)
		sitetest.AddHold(t, dir, sitetest.Hold{Of: "alice", Op: "read", Key: "trusted/*/alice"})
		parked := sitetest.Park(t, dir, func() *sitetest.Response { return reader.Get("/.smsgate/login?rd=%2F") })
		sitetest.PutWhileParked(t, dir, "trusted/localhost/alice", []byte(record))
		parked.Release(t)

		if signsInByTrust(t, "alice", first) {
			t.Error("the browser's first trust cookie, given up at the re-trust, signs in again once the previous release rewrote the record")
		}
		if signsInByTrust(t, "alice", renewed) {
			t.Error("the renewed cookie signs in on a record without its generation")
		}
	})
}

// claimsOf reads a JWT's claims (its signature unchecked) into v.
func claimsOf(t *testing.T, token string, v any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("a token: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		t.Fatalf("a token's claims: %s %v", raw, err)
	}
}
