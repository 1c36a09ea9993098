package caddymodule_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pquerna/otp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
)

// oldSetup is the user of TestAPreviousReleasesSetupIsStillConfirmed,
// whose app setup the hold store writes as the previous release did.
const oldSetup = "olga"

// The previous release's app setup record (while the hold store's file
// "rewrite" holds the store's signing secret): the app's secret alone,
// sealed for the record's key; this release's names the session too.
func init() {
	sitetest.Holds.Rewrite = func(key string, value, file []byte) []byte {
		if key != "app-setup/localhost/"+oldSetup {
			return nil
		}
		apps, err := session.NewSealer(session.Derive(file, "app secrets"))
		if err != nil {
			return nil
		}
		raw, _ := strings.CutPrefix(string(value), "3.") // the session's SID, the setup's end, the URI
		plain, err := apps.Open(raw, key)
		if err != nil {
			return nil
		}
		uri := plain[strings.LastIndex(plain, "\n")+1:]
		app, err := otp.NewKeyFromURL(uri)
		if err != nil {
			return nil
		}
		return []byte(apps.Seal(app.Secret(), key))
	}
}

// keyShown is the app key page shows ("" for none).
func keyShown(page *sitetest.Response) string {
	_, key, _ := strings.Cut(page.Text, `<code class="secret" id="secret">`)
	key, _, _ = strings.Cut(key, "</code>")
	return key
}

// TestAWrongFirstCodeShowsTheKeyAgainToItsSessionOnly (walk22 F2): a
// wrong first code of a new app brings back its key and QR code, to type
// it again, in the browser that began the setup; a setup another of her
// sessions began since is not shown to the first (its key an app secret
// of that session's), but is to its own. On Badger and Redis, through a
// real Caddy. (Before, a wrong code showed the code's field only: she
// could not read the key again but by starting anew.)
func TestAWrongFirstCodeShowsTheKeyAgainToItsSessionOnly(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, limitsOff)
		addUser(t, s, "alice", "+14155552671")
		one, other := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice")
		signIn(t, s, one)
		signIn(t, s, other)
		wrong := func(c *sitetest.Client, tok string) *sitetest.Response {
			t.Helper()
			res := c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {"000000"}, "csrf": {tok}})
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, "Wrong code") {
				t.Fatalf("a wrong first code: %d\n%s", res.StatusCode, res.Text)
			}
			return res
		}
		first, tok := appSetup(t, one)
		res := wrong(one, tok)
		if got := keyShown(res); got != first || !strings.Contains(res.Text, `src="data:image/png;base64,`) || !strings.Contains(res.Text, "otpauth://totp/") {
			t.Fatalf("after a wrong first code the page shows the key %q, want %q, and its QR code\n%s", got, first, res.Text)
		}

		second, otherTok := appSetup(t, other)
		res = wrong(one, tok)
		if got := keyShown(res); got != "" || strings.Contains(res.Text, strings.ReplaceAll(second, " ", "")) || strings.Contains(res.Text, "otpauth://") {
			t.Fatalf("the first browser is shown the setup the second began (%q):\n%s", second, res.Text)
		}
		if got := keyShown(wrong(other, otherTok)); got != second {
			t.Fatalf("the second browser's wrong code shows the key %q, want its own %q", got, second)
		}
		sitetest.ExpectBody(t, other.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, second)}, "csrf": {otherTok}}), "The authenticator app was added.")
	})
}

// TestAPreviousReleasesSetupIsStillConfirmed: an app setup the previous
// release wrote (no session named: a rolling upgrade, or a setup begun
// just before it) is shown to no session after a wrong code, and its
// right code still adds the app. On Badger and Redis, through a real
// Caddy.
func TestAPreviousReleasesSetupIsStillConfirmed(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{oldSetup}, limitsOff)
		addUser(t, s, oldSetup, "+14155552671")
		c := sitetest.NewClient(t, oldSetup)
		signIn(t, s, c)
		if err := os.WriteFile(filepath.Join(dir, "rewrite"), signingSecret(t, s), 0o600); err != nil {
			t.Fatal(err)
		}
		key, tok := appSetup(t, c)
		if err := os.Remove(filepath.Join(dir, "rewrite")); err != nil {
			t.Fatal(err)
		}
		res := c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {"000000"}, "csrf": {tok}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, "Wrong code") || keyShown(res) != "" {
			t.Fatalf("a wrong code for the previous release's setup: %d (the key shown: %q)\n%s", res.StatusCode, keyShown(res), res.Text)
		}
		sitetest.ExpectBody(t, c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, key)}, "csrf": {tok}}), "The authenticator app was added.")
	})
}

// signingSecret is s's store's signing secret, as the admin exports it.
func signingSecret(t *testing.T, s *sitetest.Site) []byte {
	t.Helper()
	code, out := s.Admin(http.MethodGet, "/smsgate/export?realm=localhost&with_keys=1", "")
	var records []struct {
		Key   string
		Value json.RawMessage
	}
	if err := json.Unmarshal([]byte(out), &records); code != http.StatusOK || err != nil {
		t.Fatalf("export: %d %v %s", code, err, out)
	}
	for _, r := range records {
		var b64 string
		if r.Key == "b64:keys/secret" && json.Unmarshal(r.Value, &b64) == nil {
			secret, err := base64.StdEncoding.DecodeString(b64)
			if err == nil {
				return secret
			}
		}
	}
	t.Fatalf("no signing secret in the export: %s", out)
	return nil
}
