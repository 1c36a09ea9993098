package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/fakes"
)

// TestAQueryKeyEchoedAsSentIsMasked: a webhook URL's query key holding
// characters written %-escaped (a base64 key: "+", "/", "="), or a "+"
// for a space, echoed by a gateway in its error message as the request
// sent it, %-escaped again (hex in capitals or not, a space as "+" or
// "%20"), or decoded, is masked in each form; the rest of the message
// stays ("No route for POST /send?api_key=[secret]"), and so does a
// message that holds no secret. Before, only the decoded value was
// masked: the key reached the log as sent (attack28's F3).
func TestAQueryKeyEchoedAsSentIsMasked(t *testing.T) {
	for _, raw := range []string{
		"https://gw.example/send?api_key=Zm9v%2Bbar%2Fbaz%3D%3D",
		"https://gw.example/send?api_key=Zm9v%2bbar%2fbaz%3d%3d",
		"https://gw.example/send?to=me&api_key=Zm9v+bar+bazqux",
	} {
		u, _ := url.Parse(raw)
		_, sent, _ := strings.Cut(u.RawQuery, "api_key=")
		key := u.Query().Get("api_key")
		for _, echoed := range []string{sent, key, url.QueryEscape(key), url.PathEscape(key), smallHex.ReplaceAllStringFunc(url.QueryEscape(key), strings.ToLower)} {
			msg := "No route for POST /send?api_key=" + echoed
			r := &response{status: 404, body: fmt.Appendf(nil, `{"message":%q}`, msg), secrets: secrets(u, nil)}
			got := Redact(errors.New("webhook: HTTP 404: "+r.said()), "+14155552671", "987654").Error()
			if got != "webhook: HTTP 404: No route for POST /send?api_key=[secret]" {
				t.Errorf("%s, echoed as %q: logged %q", raw, echoed, got)
			}
		}
	}
	u, _ := url.Parse("https://gw.example/send?api_key=Zm9v%2Bbar%2Fbaz%3D%3D&format=json")
	r := &response{status: 404, body: []byte(`{"message":"No route for POST /send (foo bar)"}`), secrets: secrets(u, nil)}
	if got := r.said(); got != "No route for POST /send (foo bar)" {
		t.Errorf("a message holding no secret: %q", got)
	}
}

// smallHex is a %-escape, as a gateway may write it in small letters.
var smallHex = regexp.MustCompile(`%[0-9A-F]{2}`)

// TestAGatewayEchoingItsAddressLeavesNoKeyInTheLog: through the webhook's
// own request and a gateway answering 404 with the request's URI as it
// reached it, and with the bearer token %-escaped, the provider_failed
// line holds neither (before: the key as sent, attack28's F3).
func TestAGatewayEchoingItsAddressLeavesNoKeyInTheLog(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		fmt.Fprintf(w, `{"message":%q}`, "No route for "+r.Method+" "+r.RequestURI+" (token "+url.QueryEscape(token)+")")
	}))
	defer echo.Close()
	core, logs := observer.New(zap.DebugLevel)
	chain := Chain{Logger: zap.New(core), Senders: []Named{
		{Name: "webhook.0", Sender: newWebhook(t, &Webhook{URL: echo.URL + "/send?api_key=Zm9v%2Bbar%2Fbaz%3D%3D", Token: "QkVBUkVS+c2VjcmV0/dG9rZW4="})},
		{Name: "webhook.1", Sender: newWebhook(t, &Webhook{URL: fakes.NewHook(t).URL})},
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
			if !strings.Contains(line, "/send?api_key=[secret]") {
				t.Errorf("the message lost its use: %s", line)
			}
		}
		for _, leak := range []string{"Zm9v", "QkVBUkVS", "c2VjcmV0"} {
			if strings.Contains(line, leak) {
				t.Errorf("the log line holds %q: %s", leak, line)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d provider_failed lines, want 1", failed)
	}
}
