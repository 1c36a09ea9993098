package pages_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestHandleErrorsSeesTheGatesOwnRefusals: where the gate renders no page
// for a person — the forward-auth check, an asset, a request without the
// first factor, a delivery receipt it does not take, an unknown page or a
// method asked by anything but a browser — its refusal is Caddy's error,
// so the site's handle_errors shapes it as it shapes the site's others. A
// browser's unknown page, and a form with the user's error, stay the
// gate's pages.
func TestHandleErrorsSeesTheGatesOwnRefusals(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	basic_auth /app/* argon2id {
		alice `+sitetest.DemoHash+`
	}
	@signed path /.smsgate/login /.smsgate/verify /.smsgate/enroll /.smsgate/nothing
	basic_auth @signed argon2id {
		alice `+sitetest.DemoHash+`
	}
	smsgate {
		store badger {DIR}
		provider log
	}
	respond "hi"
	handle_errors {
		header X-Handled "{err.status_code}"
		respond "site says {err.status_code}: {err.message}" {err.status_code}
	}
}`)
	anon, alice := sitetest.NewClient(t, ""), sitetest.NewClient(t, "alice")
	handled := func(res *sitetest.Response, status int, message string) {
		t.Helper()
		sitetest.Expect(t, res, status, "")
		if res.Header.Get("X-Handled") == "" {
			t.Fatalf("%s %s: %d without the site's handle_errors:\n%s", res.Request.Method, res.Request.URL, status, res.Text)
		}
		sitetest.ExpectBody(t, res, "site says "+message)
	}
	api := sitetest.NewClient(t, "alice")
	api.Accept = "application/json"

	// The forward-auth check: no session (401, the login page in its
	// header for nginx), a bad max_age (400).
	res := api.Get("/.smsgate/auth?mode=status")
	handled(res, http.StatusUnauthorized, "401: sign in with a code sent to your phone")
	if res.Header.Get("X-Smsgate-Login") == "" {
		t.Error("the forward-auth 401 lost X-Smsgate-Login")
	}
	handled(api.Get("/.smsgate/auth?max_age=soon"), http.StatusBadRequest, "400: max_age must be a duration")
	// Pages and assets that do not exist; a browser's page is the gate's.
	handled(api.Get("/.smsgate/nothing"), http.StatusNotFound, "404: no such page")
	handled(alice.Get("/.smsgate/assets/other.js"), http.StatusNotFound, "404: no such page")
	res = alice.Get("/.smsgate/nothing")
	sitetest.Expect(t, res, http.StatusNotFound, "")
	if res.Header.Get("X-Handled") != "" {
		t.Errorf("a browser's unknown page went to handle_errors:\n%s", res.Text)
	}
	sitetest.ExpectBody(t, res, "There is no such page.")
	// A method the pages do not take.
	req, _ := http.NewRequest(http.MethodPut, s.Base+"/.smsgate/login", nil)
	res = api.Do(req)
	handled(res, http.StatusMethodNotAllowed, "405: method not allowed")
	if res.Header.Get("Allow") != "GET, POST" {
		t.Errorf("405 without Allow: %q", res.Header.Get("Allow"))
	}
	// The login page without the first factor the site puts before it.
	handled(anon.Get("/.smsgate/devices"), http.StatusUnauthorized, "401: sign in first")
	// Delivery receipts, with no provider that sends them.
	handled(anon.Post("/.smsgate/twilio/status?r=x", url.Values{"MessageStatus": {"delivered"}}), http.StatusNotFound, "404: no such page")

	// A page for a person stays the gate's page: a wrong code is shown
	// on the verify form, with the user's words, not the site's.
	sitetest.EnrollWith(t, alice, "+14155552671")
	res = alice.Post("/.smsgate/verify", url.Values{"code": {"000000"}, "csrf": {alice.CSRF("/.smsgate/verify")}})
	if res.Header.Get("X-Handled") != "" {
		t.Fatalf("the verify page's refusal went to handle_errors:\n%s", res.Text)
	}
}

// TestAFailedTemplateIsCaddysError: a page whose template fails as it runs
// (an admin's templates_dir) is a 500 the site's handle_errors shapes,
// with the gate's words, not the template's error; it was net/http's own
// plain "500 Internal Server Error", past handle_errors.
func TestAFailedTemplateIsCaddysError(t *testing.T) {
	sitetest.Parallel(t)
	dir := t.TempDir()
	broken := `{{define "page"}}{{if eq .Step "login"}}{{index .Regions 999}}{{else}}fine{{end}}{{end}}`
	if err := os.WriteFile(filepath.Join(dir, "page.html"), []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		store badger {DIR}
		provider log
		templates_dir `+dir+`
	}
	respond "hi"
	handle_errors {
		header X-Handled "{err.status_code}"
		respond "site says {err.status_code}: {err.message}" {err.status_code}
	}
}`)
	res := sitetest.NewClient(t, "").Get("/.smsgate/login")
	sitetest.Expect(t, res, http.StatusInternalServerError, "")
	if res.Header.Get("X-Handled") == "" || strings.Contains(res.Text, "index") {
		t.Fatalf("a failed template's 500 without the site's handle_errors, or with the template's error:\n%s", res.Text)
	}
	sitetest.ExpectBody(t, res, "site says 500: the page could not be shown")
}
