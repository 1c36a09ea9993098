package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestACallWhereNoneIsOfferedIsAnsweredInWords: "call me" posted where
// the gate has no voice provider (a page from before a reload that removed
// it, or a hand-made form) is a 400 saying that way is not offered here,
// not "This page asks for a sign-in with ." (an empty list of kinds); and
// nothing is sent.
func TestACallWhereNoneIsOfferedIsAnsweredInWords(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	c := sitetest.NewClient(t, "alice")
	sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
	res, tok := sitetest.EnrollWith(t, c, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	sent := s.Sent()
	res = c.Post("/.smsgate/verify", url.Values{"csrf": {tok}, "action": {"call"}})
	if res.StatusCode != http.StatusBadRequest || strings.Contains(res.Text, "sign-in with .") ||
		!strings.Contains(res.Text, "This way of signing in is not offered here.") {
		t.Errorf("POST verify action=call: %d\n%s", res.StatusCode, res.Text)
	}
	if s.Sent() != sent {
		t.Errorf("a call refused sent %d codes", s.Sent()-sent)
	}
}
