package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/words"
)

// Numbers in every format a gateway writes them, and codes, never reach
// the log.
func TestRedactNumbersInAnyFormatAndCodes(t *testing.T) {
	for _, msg := range []string{
		"The 'To' number +14155552671 is not valid",
		"bad number 14155552671",
		"number 4155552671 unreachable",
		"cannot send to (415) 555-2671",
		"cannot send to 415-555-2671 or 415.555.2671",
		"echo: {\"to\":\"+1 415 555 2671\",\"body\":\"Your code is 123456\"}",
	} {
		got := Redact(errors.New(msg), "+14155552671", "123456").Error()
		if strings.Contains(strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "").Replace(got), "5552671") || strings.Contains(got, "123456") {
			t.Errorf("Redact(%q) = %q", msg, got)
		}
		if !strings.Contains(got, "+1•••••••671") {
			t.Errorf("Redact(%q) = %q: no mask", msg, got)
		}
	}
	// Other numbers are left alone: the admin needs HTTP statuses and error codes.
	if got := Redact(errors.New("HTTP 503 error 21211 at 12:00"), "+14155552671").Error(); got != "HTTP 503 error 21211 at 12:00" {
		t.Errorf("unrelated digits changed: %q", got)
	}
	var ue *UserError
	if !errors.As(Redact(&UserError{Text: words.Text{ID: "provider.invalid"}}, "+14155552671"), &ue) {
		t.Error("Redact lost the error's chain")
	}
}

// A gateway that fails and echoes the request (code and all) while the next
// provider delivers: the code is not in the log.
func TestEchoedCodeIsNotLogged(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, 4096)
		n, _ := r.Body.Read(body)
		w.WriteHeader(http.StatusBadGateway)
		w.Write(body[:n])
	}))
	defer echo.Close()
	good := fakes.NewHook(t)
	core, logs := observer.New(zap.DebugLevel)
	chain := Chain{Logger: zap.New(core), Senders: []Named{
		{Name: "webhook.0", Sender: newWebhook(t, &Webhook{URL: echo.URL})},
		{Name: "webhook.1", Sender: newWebhook(t, &Webhook{URL: good.URL})},
	}}
	m := Message{To: "+14155552671", Channel: factor.ChannelSMS, Code: "987654", Body: "Your code is 987654.", Host: "localhost"}
	if err := chain.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	for _, e := range logs.All() {
		line := fmt.Sprint(e.Message, e.ContextMap())
		if strings.Contains(line, "987654") || strings.Contains(line, "5552671") {
			t.Fatalf("log line %q holds the code or the number", line)
		}
	}
}

// A webhook's secret in its URL's query is not in the error the admin's
// log gets when the gateway cannot be reached.
func TestWebhookURLSecretIsNotLogged(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	addr := dead.URL
	dead.Close()
	w := newWebhook(t, &Webhook{URL: addr + "/send?token=s3cr3t-t0ken", Timeout: caddy.Duration(time.Second)})
	err := w.Send(context.Background(), Message{To: "+14155552671", Channel: factor.ChannelSMS, Body: "x"})
	if err == nil {
		t.Fatal("a dead gateway accepted the message")
	}
	if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "/send") {
		t.Fatalf("error %q: want the URL without its query", err)
	}
}

// A gateway that fails and echoes the request in its own words — the code
// grouped ("9 8 7 6 5 4", "987-654"), the URL with its key, the
// Authorization header — in its body or in its error's message, while the
// next provider delivers: none of it reaches the log (attack26 F1).
func TestAnEchoingGatewayLeavesNoCodeOrSecretInTheLog(t *testing.T) {
	echoed := func(r *http.Request) string {
		return fmt.Sprintf("code 9 8 7 6 5 4, 987-654, 987.654, 98 76 54 at %s by %s", r.URL.String(), r.Header.Get("Authorization"))
	}
	for name, answer := range map[string]func(w http.ResponseWriter, r *http.Request){
		"body": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"error":"invalid","echo":%q}`, echoed(r))
		},
		"message": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"code":20500,"message":%q}`, echoed(r))
		},
	} {
		echo := httptest.NewServer(http.HandlerFunc(answer))
		defer echo.Close()
		good := fakes.NewHook(t)
		core, logs := observer.New(zap.DebugLevel)
		chain := Chain{Logger: zap.New(core), Senders: []Named{
			{Name: "webhook.0", Sender: newWebhook(t, &Webhook{URL: echo.URL + "/send?key=GWKEYSECRET", Token: "BEARERSECRET"})},
			{Name: "twilio", Sender: newTwilio(t, fakes.NewTwilio(t), func(tw *Twilio) { tw.AuthToken, tw.BaseURL = "TWILIOTOKENSECRET", echo.URL })},
			{Name: "webhook.1", Sender: newWebhook(t, &Webhook{URL: good.URL})},
		}}
		m := Message{To: "+14155552671", Channel: factor.ChannelSMS, Code: "987654", Body: "Your code is 987654.", Host: "localhost"}
		if err := chain.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, e := range logs.All() {
			line := fmt.Sprint(e.Message, e.ContextMap())
			if e.Message == "provider_failed" {
				failed++
			}
			for what, leak := range map[string]bool{
				"code":           strings.Contains(digitsOf(line), "987654"),
				"key":            strings.Contains(line, "GWKEYSECRET"),
				"bearer token":   strings.Contains(line, "BEARERSECRET"),
				"Twilio's token": strings.Contains(line, "TWILIOTOKENSECRET"),
				"basic auth":     strings.Contains(line, "Basic "),
			} {
				if leak {
					t.Errorf("%s echoed: the log line leaks the %s: %s", name, what, line)
				}
			}
		}
		if failed != 2 {
			t.Errorf("%s echoed: %d provider_failed lines, want 2", name, failed)
		}
	}
}
