package pages_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAVoiceCallCountsWhatWasTyped pins what SECURITY.md's "Voice toll
// fraud" row says `limit voice` counts at a login form: what was typed,
// as cooldowns do. Carol's name typed again within the hour, from another
// address, places no second call; her number typed places one (attack39b's
// finding 5, kept as a residual: 1 + N calls an hour for N phones, each
// number bounded by `limit number`), since counting the resolved user would
// tell a stranger that the name and the number are one account.
func TestAVoiceCallCountsWhatWasTyped(t *testing.T) {
	sitetest.Parallel(t)
	s, _, _ := carolAtTheCode(t, "require voice") // her name typed: one call
	calls := func() (n int) {
		for _, m := range s.LogEntries("verification code") {
			if m["channel"] == "voice" {
				n++
			}
		}
		return n
	}
	if n := calls(); n != 1 {
		t.Fatalf("after her name: %d calls, want 1", n)
	}
	s.Advance(2 * time.Minute) // past the base wait and the number's
	typed := func(loopback int, what string) *sitetest.Response {
		c := sitetest.NewClient(t, "").OnLoopback(loopback)
		tok := c.CSRF("/.smsgate/login")
		return c.Post("/.smsgate/login", url.Values{"username": {what}, "csrf": {tok}})
	}
	if res := typed(3, "carol"); calls() != 1 {
		t.Fatalf("her name typed again within the hour: %d calls (answer %d), want still 1 (limit voice 1 per name typed)", calls(), res.StatusCode)
	}
	if res := typed(2, "+1 415 555 2671"); calls() != 2 {
		t.Fatalf("her number typed: %d calls (answer %d), want 2: a number typed counts apart from the name", calls(), res.StatusCode)
	}
}
