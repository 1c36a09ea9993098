package providers

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/fakes"
)

// TestABodyCutInsideTheCodeOrNumberLeavesNoPartInTheLog (review39 R2): a
// body template that makes no JSON for one message fails at its send with
// a 300-character snippet of the body in the error, which Redact masks in
// provider_failed. Redact masks only whole runs spelling the code or the
// national number, so a snippet cut inside either logged its first digits
// (`"code":9182…`, `"to":"+1415…`). The snippet now drops a run of digits
// it is cut in, as a gateway's message is (said.go). The template here
// branches on .Host, which no sample of the load's check takes.
func TestABodyCutInsideTheCodeOrNumberLeavesNoPartInTheLog(t *testing.T) {
	const to, code = "+14155552671", "918273"
	f := fakes.NewHook(t)
	tail := regexp.MustCompile(`(\d+)…`)
	for field, value := range map[string]string{"code": "{{.Code}}", "to": `"{{.To}}`} {
		for cut := 1; cut <= 6; cut++ { // into the code, or into "+14155"
			// `{"pad":"xxx…","code":918273` (or `"to":"+14155552671`), its
			// 300th byte cut digits into the code (the number), no brace.
			head := `{"pad":"`
			rest := `","` + field + `":`
			pad := strings.Repeat("x", 300-len(head)-len(rest)-cut-strings.Count(value, `"`))
			body := `{{if eq .Host "b.example"}}{"pad":"` + pad + rest + value + `{{else}}{"to":"{{.To}}","text":"{{.Body}}"}{{end}}`
			w := newWebhook(t, &Webhook{URL: f.URL, From: "+15005550006", Body: body})
			core, logs := observer.New(zap.DebugLevel)
			c := Chain{Senders: []Named{{Name: "hook", Sender: w}}, Logger: zap.New(core)}
			if err := c.Send(context.Background(), Message{To: to, Channel: factor.ChannelSMS, Host: "b.example", Body: "Your code is " + code, Code: code}); err == nil {
				t.Fatal("sent")
			}
			if len(logs.All()) == 0 {
				t.Fatal("nothing logged")
			}
			for _, e := range logs.All() {
				line := e.Message + " " + e.ContextMap()["error"].(string)
				if m := tail.FindStringSubmatch(line); m != nil && (strings.HasPrefix(code, m[1]) || strings.HasPrefix(to[1:], m[1])) {
					t.Errorf("%s cut after %d characters: %d of its digits in the log line: …%s", field, cut, len(m[1]), line[max(0, len(line)-40):])
				}
			}
		}
	}
}

// TestAWebhookBodyThatLosesACallsCodeIsRefused (review39 R2): the load
// rendered the body template for texts only, so one branching on
// .Channel whose voice branch made no JSON, or no code, loaded and lost
// every call's code at its send. A hook that makes calls now has a call's
// code rendered too; one that only texts is not asked about calls.
func TestAWebhookBodyThatLosesACallsCodeIsRefused(t *testing.T) {
	both := []factor.Channel{factor.ChannelSMS, factor.ChannelVoice}
	for body, want := range map[string]string{
		`{{if eq .Channel "voice"}}{"to":"{{.To}}","code":{{.Code}}{{else}}{"to":"{{.To}}","text":"{{.Body}}"}{{end}}`:   "does not make valid JSON for a code on channel voice (012345)",
		`{{if eq .Channel "voice"}}{"to":"{{.To}}","say":"{{.Host}}"}{{else}}{"to":"{{.To}}","text":"{{.Body}}"}{{end}}`: "never says the code on channel voice",
	} {
		w := &Webhook{URL: "http://127.0.0.1:1", Body: body, ChannelList: both}
		if err := w.Provision(caddy.Context{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("body %s: %v, want %q", body, err, want)
		}
		newWebhook(t, &Webhook{URL: "http://127.0.0.1:1", Body: body}) // texts only: loads
	}
	// A call's text (its digits read one by one) or its code: either loads.
	for _, say := range []string{"{{.Body}}", "{{.Code}}"} {
		newWebhook(t, &Webhook{URL: "http://127.0.0.1:1", ChannelList: both,
			Body: `{{if eq .Channel "voice"}}{"to":"{{.To}}","say":"` + say + `"}{{else}}{"to":"{{.To}}","text":"{{.Body}}"}{{end}}`})
	}
}
