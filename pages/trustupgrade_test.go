package pages_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestATrustOfThePreviousReleaseIsNamedInTheReadersLanguage (trust37): a
// store the previous release wrote holds carol's trusted browsers as it
// kept them, each its whole name worded by the page that trusted it
// ("Firefox unter Linux", "Chrome on Android", "Ein Browser unter
// Windows") or one no language reads ("my laptop on the desk"). This
// release lists them, beside one it trusts itself from a German page (its
// kind and system kept apart), in the reader's words on the devices page
// and the console, German and English, the unread one as it is; the
// devices page's JSON gives each one's parts beside its name. Trusts go
// in no export (an import brings none back: they are signed in again).
// On Badger and a real Redis, through a real Caddy.
func TestATrustOfThePreviousReleaseIsNamedInTheReadersLanguage(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStoreFirst(t, func(t *testing.T, st store.Store, closeStore func() error, storeLine string) {
		now := time.Now().UTC().Truncate(time.Second)
		var old []string
		for i, name := range []string{"Firefox unter Linux", "Chrome on Android", "Ein Browser unter Windows", "my laptop on the desk"} {
			made := now.Add(-time.Duration(4-i) * time.Hour)
			// As the previous release's session.TrustedBrowser marshalled it.
			old = append(old, fmt.Sprintf(`{"id":"OLDTRUST%08d","browser":%q,"created":%q,"expires":%q,"auth_time":%d,"amr":["sms"],"known":"KNOWN%d","prefixed":true,"issued":%q,"device":""}`,
				i, name, made.Format(time.RFC3339), made.Add(30*24*time.Hour).Format(time.RFC3339), made.Unix(), i, made.Format(time.RFC3339)))
		}
		if err := st.Put(context.Background(), store.Key("trusted", "localhost", "carol"), []byte("["+strings.Join(old, ",")+"]"), 30*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := closeStore(); err != nil {
			t.Fatal(err)
		}

		s := sitetest.Start(t, strings.Replace(sitetest.NamedUsersSite, "store badger {DIR}", storeLine, 1))
		carol := sitetest.NewClient(t, "")
		carol.Header = http.Header{"User-Agent": {sitetest.FirefoxOnLinux}, "Accept-Language": {"de"}}
		tok := carol.CSRF("/.smsgate/login")
		sitetest.Expect(t, carol.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, carol.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "remember": {"1"}, "csrf": {tok}}), http.StatusSeeOther, "/")
		admin := sitetest.NewClient(t, "")
		sitetest.SignInAs(t, s, admin, "alice")

		said := map[string][]string{
			"de": {"Firefox unter Linux", "Firefox unter Linux", "Chrome unter Android", "Ein Browser unter Windows", "my laptop on the desk"},
			"en": {"Firefox on Linux", "Firefox on Linux", "Chrome on Android", "A browser on Windows", "my laptop on the desk"},
		}
		for lang, want := range said {
			carol.Header.Set("Accept-Language", lang)
			admin.Header = http.Header{"Accept-Language": {lang}}
			if got := listed(carol.Get("/.smsgate/devices").Text, "<strong>", "</strong>"); !sameNames(got, want) {
				t.Errorf("the devices page in %s lists %q; want %q", lang, got, want)
			}
			if got := listed(admin.Get("/.smsgate/admin/user?name=carol").Text, "<li>", " · "); !sameNames(got, want) {
				t.Errorf("the console in %s lists %q; want %q", lang, got, want)
			}
		}

		var page struct {
			Trusted []struct {
				ID      string `json:"id"`
				Browser string `json:"browser"`
				Kind    string `json:"browser_kind"`
				System  string `json:"system"`
				This    bool   `json:"this_browser"`
			} `json:"trusted_browsers"`
		}
		res := carol.GetWith("/.smsgate/devices", map[string]string{"Accept": "application/json", "Accept-Language": "en"})
		if err := json.Unmarshal([]byte(res.Text), &page); err != nil || len(page.Trusted) != 5 {
			t.Fatalf("the devices page's JSON: %d %s (%v)", res.StatusCode, res.Text, err)
		}
		got := ""
		for _, tb := range page.Trusted {
			got += fmt.Sprintf("%s|%s|%s|%v;", tb.Browser, tb.Kind, tb.System, tb.This)
		}
		if want := "Firefox on Linux|Firefox|Linux|false;Chrome on Android|Chrome|Android|false;A browser on Windows||Windows|false;" +
			"my laptop on the desk|||false;Firefox on Linux|Firefox|Linux|true;"; got != want {
			t.Errorf("the devices page's JSON lists %s\nwant %s", got, want)
		}

		if st, out := s.Admin("GET", "/smsgate/export?realm=localhost", ""); st != http.StatusOK || !strings.Contains(out, "provisioned-number/localhost/carol") || strings.Contains(out, "trusted/") {
			t.Errorf("the export: %d %s", st, out)
		}
	})
}

// listed are the names page holds between open and close, in order, that
// name a trusted browser (its devices and sessions aside).
func listed(page, open, close string) []string {
	var names []string
	for _, part := range strings.Split(page, open)[1:] {
		name, _, ok := strings.Cut(part, close)
		if ok && (strings.Contains(name, "Linux") || strings.Contains(name, "Android") || strings.Contains(name, "Windows") || strings.Contains(name, "laptop")) {
			names = append(names, name)
		}
	}
	return names
}

// sameNames reports whether got holds want's names, each as many times.
func sameNames(got, want []string) bool {
	count := map[string]int{}
	for _, n := range got {
		count[n]++
	}
	for _, n := range want {
		count[n]--
	}
	for _, c := range count {
		if c != 0 {
			return false
		}
	}
	return len(got) == len(want)
}
