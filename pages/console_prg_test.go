package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheConsolesChangesAnswerWithARedirect: through a real Caddy, a
// change the console made answers 303 to the user's page
// (Post/Redirect/Get), which says it once: a reload neither repeats it
// (it answered a 200 page, and a reload re-posted the form: a reset
// again, after the user had enrolled again) nor says it again, and a
// link's done= says nothing (review25: admin/user?done=revoke&name=x
// said "sessions ended" of a change nobody made). An invite is still a
// 200 with its link, never put in an address.
func TestTheConsolesChangesAnswerWithARedirect(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	alice, bob := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, alice, "+14155550101")
	sitetest.Enroll(t, s, bob, "+4915123000002")
	path := "/.smsgate/admin/user?name=bob"
	tok := alice.CSRF(path)
	reset := consolePost(alice, path, url.Values{"action": {"reset"}, "confirm": {"1"}, "csrf": {tok}}, s.Base)
	sitetest.Expect(t, reset, http.StatusSeeOther, "/.smsgate/admin/user?name=bob")
	const said = "phones and recovery codes are removed, and their sessions ended."
	page := sitetest.ConsoleDone(t, reset, "reset")
	sitetest.Expect(t, page, http.StatusOK, "")
	sitetest.ExpectBody(t, page, said)
	if strings.Contains(page.Text, "49••") {
		t.Fatalf("the reset left bob's phone:\n%s", page.Text)
	}
	// Bob enrolls again; alice reloads the page she was sent to: nothing
	// is reset again, nor said to be.
	s.Advance(time.Minute)
	sitetest.Enroll(t, s, sitetest.NewClient(t, "bob"), "+4915123000002")
	page = alice.Get(reset.Header.Get("Location"))
	sitetest.Expect(t, page, http.StatusOK, "")
	sitetest.ExpectBody(t, page, "49••")
	if strings.Contains(page.Text, said) {
		t.Fatalf("the reload said the reset again, above bob's new phone:\n%s", page.Text)
	}
	if _, body := sitetest.Admin(t, http.MethodGet, "/smsgate/users?realm=localhost", ""); !strings.Contains(body, `"user":"bob"`) {
		t.Fatalf("after the reload, bob's phone is gone: %s", body)
	}
	// A link's done, known or not: no words of a change.
	for _, q := range []string{"&done=reset", "&done=revoke", "&done=nope", "&done=console.done.reset", "&done=invite", ""} {
		if r := alice.Get(path + q); r.StatusCode != http.StatusOK || strings.Contains(r.Text, `class="done"`) {
			t.Fatalf("%s: %d, a change said:\n%s", q, r.StatusCode, r.Text)
		}
	}
	// An invite: a 303 too, its link shown once by the GET that follows
	// (the sealed flow carries it, never an address); a reload shows it
	// no more and mints none: the link shown still works (walk33's 43b,
	// 50: a reload re-posted the form, and its new invite ended the link).
	posted := consolePost(alice, path, url.Values{"action": {"invite"}, "csrf": {tok}}, s.Base)
	if strings.Contains(posted.Header.Get("Location"), "token") {
		t.Fatalf("the invite's token in an address: %s", posted.Header.Get("Location"))
	}
	invite := sitetest.ConsoleDone(t, posted, "invite")
	sitetest.Expect(t, invite, http.StatusOK, "")
	sitetest.ExpectBody(t, invite, "/.smsgate/invite?token=")
	link := regexp.MustCompile(`/\.smsgate/invite\?token=[^"<\s]+`).FindString(invite.Text)
	if again := alice.Get(posted.Header.Get("Location")); again.StatusCode != http.StatusOK || strings.Contains(again.Text, "invite?token=") {
		t.Fatalf("the reload: %d, the link shown again:\n%s", again.StatusCode, again.Text)
	}
	if open := sitetest.NewClient(t, "bob").Get(strings.ReplaceAll(link, "&amp;", "&")); open.StatusCode != http.StatusOK || strings.Contains(open.Text, "expired") {
		t.Fatalf("the link shown, after the reload: %d\n%s", open.StatusCode, open.Text)
	}
	// A failed change keeps its status and page: no redirect.
	gone := consolePost(alice, path, url.Values{"action": {"end"}, "session": {"GONE"}, "csrf": {tok}}, s.Base)
	sitetest.Expect(t, gone, http.StatusNotFound, "")
}
