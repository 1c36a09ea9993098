package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/fakes"
)

func newWebhook(t *testing.T, w *Webhook) *Webhook {
	t.Helper()
	if err := w.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebhookDefaultBodyIsAuthentiks(t *testing.T) {
	f := fakes.NewHook(t)
	w := newWebhook(t, &Webhook{URL: f.URL + "/sms", From: "+15005550006", Token: "hook-token"})
	m := Message{To: "+14155552671", Channel: factor.ChannelSMS, Body: "Your \"code\" is 123456.\n\n@example.com #123456", Code: "123456"}
	if err := w.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := f.Last(t)
	if r.Method != "POST" || r.Path != "/sms" || r.ContentType != "application/json" || r.Header.Get("Authorization") != "Bearer hook-token" {
		t.Fatalf("request %s %s %s %q", r.Method, r.Path, r.ContentType, r.Header.Get("Authorization"))
	}
	// authentik's generic provider: the code itself in Body.
	want := map[string]any{"From": "+15005550006", "To": "+14155552671", "Body": "123456", "Message": m.Body}
	if len(r.JSON) != len(want) {
		t.Fatalf("body %v", r.JSON)
	}
	for k, v := range want {
		if r.JSON[k] != v {
			t.Fatalf("%s = %v, want %v", k, r.JSON[k], v)
		}
	}
	// A notice has no code: its text is the Body.
	notice := Message{To: "+14155552671", Channel: factor.ChannelSMS, Body: "example.com: a phone was removed"}
	if err := w.Send(context.Background(), notice); err != nil {
		t.Fatal(err)
	}
	if r := f.Last(t); r.JSON["Body"] != notice.Body || r.JSON["Message"] != notice.Body {
		t.Fatalf("a notice's body %v", r.JSON)
	}
}

func TestWebhookTemplateAuthAndHeaders(t *testing.T) {
	f := fakes.NewHook(t)
	t.Setenv("SMSGATE_TEST_HOOK_KEY", "k-123")
	w := newWebhook(t, &Webhook{
		URL: f.URL, Username: "gate", Password: "pw",
		Headers: map[string]string{"X-Api-Key": "{env.SMSGATE_TEST_HOOK_KEY}"},
		Body:    `{"topic": "sms", "to": "{{.To}}", "message": "{{.Body}}", "priority": 5, "tags": ["{{.Channel}}"]}`,
	})
	if err := w.Send(context.Background(), Message{To: "+14155552671", Channel: factor.ChannelSMS, Body: `say "hi"` + "\n</script>", Code: "1"}); err != nil {
		t.Fatal(err)
	}
	r := f.Last(t)
	if r.User != "gate" || r.Pass != "pw" || r.Header.Get("X-Api-Key") != "k-123" {
		t.Fatalf("auth %q:%q key %q", r.User, r.Pass, r.Header.Get("X-Api-Key"))
	}
	if r.JSON["message"] != "say \"hi\"\n</script>" || r.JSON["priority"] != 5.0 || r.JSON["to"] != "+14155552671" {
		t.Fatalf("body %v", r.JSON)
	}
}

func TestWebhookFailures(t *testing.T) {
	f := fakes.NewHook(t)
	w := newWebhook(t, &Webhook{URL: f.URL, Timeout: caddy.Duration(200 * time.Millisecond)})
	m := Message{To: "+14155552671", Channel: factor.ChannelSMS, Body: "x"}
	for _, status := range []int{http.StatusBadRequest, http.StatusInternalServerError} {
		f.Status = status
		if err := w.Send(context.Background(), m); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("webhook: HTTP %d", status)) {
			t.Errorf("status %d: %v", status, err)
		}
	}
	f.Status, f.Delay = http.StatusOK, time.Second
	if err := w.Send(context.Background(), m); err == nil {
		t.Error("a webhook slower than its timeout succeeded")
	}
	f.Close()
	if err := w.Send(context.Background(), m); err == nil {
		t.Error("a closed webhook succeeded")
	}
}

func TestWebhookBadTemplatesAreConfigErrors(t *testing.T) {
	for body, want := range map[string]string{
		`{"to": "{{.To}"}`:          "webhook body template",
		`{"to": {{.To}}}`:           "does not make valid JSON",
		`{"to": "{{.Nope}}"}`:       "webhook body template",
		`to={{.To}}&body={{.Body}}`: "does not make valid JSON",
	} {
		w := &Webhook{URL: "http://127.0.0.1:1", Body: body}
		if err := w.Provision(caddy.Context{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("body %s: %v, want %q", body, err, want)
		}
	}
}

func TestSignal(t *testing.T) {
	f := fakes.NewSignal(t)
	s := &Signal{URL: f.URL + "/", Number: "+15005550006", Token: f.Token}
	if err := s.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), sms); err != nil {
		t.Fatal(err)
	}
	r := f.Last(t)
	if r.Path != "/v2/send" || r.ContentType != "application/json" {
		t.Fatalf("request %s %s", r.Path, r.ContentType)
	}
	rec, _ := r.JSON["recipients"].([]any)
	if r.JSON["number"] != "+15005550006" || len(rec) != 1 || rec[0] != "+14155552671" || r.JSON["message"] != sms.Body || len(r.JSON) != 3 {
		t.Fatalf("body %v", r.JSON)
	}
	// The guide's URL, the endpoint itself, posts to the same place.
	guide := &Signal{URL: f.URL + "/v2/send", Number: "+15005550006", Token: f.Token}
	if err := guide.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	if err := guide.Send(context.Background(), sms); err != nil {
		t.Fatal(err)
	}
	if r := f.Last(t); r.Path != "/v2/send" {
		t.Fatalf("a URL ending in /v2/send posted to %s", r.Path)
	}
	err := s.Send(context.Background(), Message{To: "+15005550001", Channel: factor.ChannelSMS, Body: "x"})
	if err == nil || !strings.Contains(err.Error(), "HTTP 400: Failed to send message: Unregistered user") {
		t.Fatalf("unregistered: %v", err)
	}
	s.Token = "wrong"
	_ = s.Provision(caddy.Context{})
	if err := s.Send(context.Background(), sms); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("bad token: %v", err)
	}
}

func TestFailoverWithRealShapes(t *testing.T) {
	tf := fakes.NewTwilio(t)
	hook := fakes.NewHook(t)
	chain := Chain{Senders: []Named{
		{"twilio", newTwilio(t, tf, nil)},
		{"webhook", newWebhook(t, &Webhook{URL: hook.URL})},
	}}
	tf.Status = http.StatusInternalServerError
	if err := chain.Send(context.Background(), sms); err != nil {
		t.Fatalf("failover: %v", err)
	}
	if len(hook.Requests()) != 1 {
		t.Fatal("the webhook did not take over from a failing Twilio")
	}
	// The number is at fault: the next provider is not bothered.
	tf.Status = 0
	err := chain.Send(context.Background(), Message{To: "+15005550001", Channel: factor.ChannelSMS, Body: "x"})
	var ue *UserError
	if !errors.As(err, &ue) {
		t.Fatalf("invalid number: %v", err)
	}
	// Twilio's text names the number; what reaches the log must not, but
	// Twilio's code must.
	core, logs := observer.New(zap.InfoLevel)
	chain.Logger = zap.New(core)
	tf.Status = 0
	_ = chain.Send(context.Background(), Message{To: "+15005550001", Channel: factor.ChannelSMS, Body: "x"})
	var all []string
	for _, e := range logs.All() {
		all = append(all, fmt.Sprint(e.ContextMap()))
	}
	text := strings.Join(all, "\n")
	if strings.Contains(text, "5005550001") || !strings.Contains(text, "error 21211") || !strings.Contains(text, "+1•••••••001") {
		t.Fatalf("the log:\n%s", text)
	}
	if len(hook.Requests()) != 1 {
		t.Fatal("a user error failed over to the next provider")
	}
	// Voice goes only to a provider that can call.
	if err := chain.Send(context.Background(), Message{To: "+14155552671", Channel: factor.ChannelVoice, Body: "x"}); err == nil {
		t.Fatal("a voice message was sent by providers that cannot call")
	}
}
