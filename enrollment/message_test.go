package enrollment

import (
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/words"
)

func TestSegments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want int
	}{
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1}, // an extension character counts twice
		{strings.Repeat("€", 81), 2},
		{strings.Repeat("ж", 70), 1},
		{strings.Repeat("ж", 71), 2},
		{strings.Repeat("📱", 35), 1}, // two UTF-16 units each
		{strings.Repeat("📱", 36), 2},
		{strings.Repeat("a", 4031), 27},
	} {
		if got := Segments(tc.text); got != tc.want {
			t.Errorf("Segments(%d × %q) = %d, want %d", len([]rune(tc.text)), []rune(tc.text)[0], got, tc.want)
		}
	}
}

// A user's name reaches a text only as words: no link, no number to call,
// no direction override, and never long enough to cost more segments.
func TestUserNamesCannotWriteTheText(t *testing.T) {
	t.Parallel()
	tpl := mustTemplates(t, "Hi {{.User}}, your {{.Site}} code is {{.Code}}.\n\n@{{.Host}} #{{.Code}}", "Hi {{.User}}. {{.Digits}}")
	if err := tpl.Fit(words.English, "example.com", "example.com", 10); err != nil {
		t.Fatalf("a template with the user's name does not fit: %v", err)
	}
	for _, user := range []string{
		"Your account is locked. Log in at http://evil.example/reset",
		"Call 1 900 555 0000",
		"alice\u202Egnp.exe\u2028line",
		strings.Repeat("x", 4000),
		strings.Repeat("ж", 4000),
	} {
		for _, ch := range factor.Channels {
			text, err := tpl.RenderIn(words.English, "en", ch, MessageData{Site: "example.com", Host: "example.com", User: user, Code: "123456"})
			if err != nil {
				t.Fatalf("%q: %v", user, err)
			}
			for _, bad := range []string{"http", "://", "evil.example", "900", "555", "\u202E", "\u2028", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"} {
				if strings.Contains(text, bad) {
					t.Errorf("%s for %.40q says %q: %q", ch, user, bad, text)
				}
			}
			if ch == factor.ChannelSMS && Segments(text) > 2 {
				t.Errorf("%.40q: %d segments: %q", user, Segments(text), text)
			}
		}
	}
}

// A template too long for its caps is a config error, in any language.
func TestTemplatesMustFit(t *testing.T) {
	t.Parallel()
	long := mustTemplates(t, strings.Repeat("Please read this carefully. ", 20)+"{{.Code}}", "")
	if err := long.Fit(words.English, "example.com", "example.com", 6); err == nil || !strings.Contains(err.Error(), "SMS segments") {
		t.Fatalf("a 4-segment template fits: %v", err)
	}
	voice := mustTemplates(t, "", strings.Repeat("Listen. ", 40)+"{{.Digits}}")
	if err := voice.Fit(words.English, "example.com", "example.com", 6); err == nil || !strings.Contains(err.Error(), "voice_template") {
		t.Fatalf("a long call fits: %v", err)
	}
	// The default, with a long site name, in German: still fits or says so.
	def := mustTemplates(t, "", "")
	if err := def.Fit(words.English, "example.com", "example.com", 10); err != nil {
		t.Fatalf("the default does not fit: %v", err)
	}
	if err := def.Fit(words.English, strings.Repeat("Sitename ", 60), "example.com", 10); err == nil || !strings.Contains(err.Error(), "site_name") {
		t.Fatalf("a 540-character site name fits: %v", err)
	}
	if _, err := long.RenderIn(nil, "", factor.ChannelSMS, MessageData{Code: "123456"}); err == nil {
		t.Fatal("a message over its cap was rendered")
	}
}

// The notices texted to a user's phones cost no more than a code's text
// may: in every built-in language, for a site with a long name and a
// masked number (its dots are not in the GSM alphabet, so a text is UCS-2),
// each fits MaxSegments.
func TestNoticesFitTheirSegments(t *testing.T) {
	t.Parallel()
	for _, lang := range words.English.Langs() {
		for _, id := range []string{"notice.phone_added", "notice.app_added", "notice.passkey_added", "notice.phone_removed",
			"notice.app_removed", "notice.passkey_removed", "notice.recovery_used", "notice.recovery_renewed", "notice.recovery_withdrawn", "notice.recovery_withdrawn_number", "notice.locked", "notice.sim_swapped",
			"notice.phone_removed_unfinished", "notice.app_removed_unfinished", "notice.passkey_removed_unfinished"} {
			text := words.English.Render(lang, words.Say(id, "site", "intranet.wiki.example.com", "phone", "+44•••••••456", "wait", words.Wait(15*time.Minute)))
			if strings.Contains(text, "{") || text == id {
				t.Errorf("%s %s: %q", lang, id, text)
			}
			if n := Segments(text); n > MaxSegments {
				t.Errorf("%s %s takes %d segments: %q", lang, id, n, text)
			}
		}
	}
}
