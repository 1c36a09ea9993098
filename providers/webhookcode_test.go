package providers

import (
	"cmp"
	"context"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/fakes"
)

// TestAWebhookBodyThatLosesCodesOrNoticesIsRefused (attack39b's 4): the
// load renders the body template for a code with a leading zero and for
// a notice (no code), and refuses one that makes no JSON for either or
// leaves out what it carries. Before, only a code of 918273 was tried:
// `"code": {{.Code}}` unquoted loaded, and every code with a leading zero
// (one in ten) and every notice (`"code": }`) was never sent; README's
// body for a strict gateway, `"Body": "{{.Code}}"`, loaded and sent every
// notice as "Body": "", the warning lost.
func TestAWebhookBodyThatLosesCodesOrNoticesIsRefused(t *testing.T) {
	for body, want := range map[string]string{
		`{"to": "{{.To}}", "code": {{.Code}}}`:                        "webhook body template does not make valid JSON for a code with a leading zero (012345): write each field inside quotes",
		`{"From": "{{.From}}", "To": "{{.To}}", "Body": "{{.Code}}"}`: "webhook body template never says a notice's text",
		`{"to": "{{.To}}", "text": "{{if .Code}}{{.Code}}{{end}}"}`:   "webhook body template never says a notice's text",
		`{"to": "{{.To}}", "code": "{{.Code}}", "n": {{.Code}}}`:      "does not make valid JSON for a code with a leading zero (012345)",
		`{"to": "{{.To}}", "code": {{if .Code}}"{{.Code}}"{{end}}}`:   "does not make valid JSON for a notice (no code)",
	} {
		w := &Webhook{URL: "http://127.0.0.1:1", From: "+15005550006", Body: body}
		if err := w.Provision(caddy.Context{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("body %s: %v, want %q", body, err, want)
		}
	}
	// README's strict-gateway body as mended, and the unquoted code in
	// quotes: a code with a leading zero and a notice go out whole.
	for _, body := range []string{`{"From": "{{.From}}", "To": "{{.To}}", "Body": "{{if .Code}}{{.Code}}{{else}}{{.Body}}{{end}}"}`,
		`{"to": "{{.To}}", "code": "{{.Code}}", "text": "{{.Body}}"}`} {
		f := fakes.NewHook(t)
		w := newWebhook(t, &Webhook{URL: f.URL, From: "+15005550006", Body: body})
		code := Message{To: "+14155552671", Channel: factor.ChannelSMS, Body: "Your code is 012345", Code: "012345"}
		notice := Message{To: "+14155552671", Channel: factor.ChannelSMS, Body: "example.com: someone is trying codes for your account"}
		for _, m := range []Message{code, notice} {
			if err := w.Send(context.Background(), m); err != nil {
				t.Fatalf("body %s, %q: %v", body, m.Body, err)
			}
			got, want := f.Last(t).JSON, cmp.Or(m.Code, m.Body) // the code, or the notice's text
			if got["Body"] != want && got["code"] != want && got["text"] != want {
				t.Fatalf("body %s: %q went as %v", body, m.Body, got)
			}
		}
	}
}
