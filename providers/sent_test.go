package providers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/fakes"
)

// cutOnceTaken is a context that ends once the fake f has taken a request.
func cutOnceTaken(t *testing.T, f *fakes.Server) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f.Took = func(fakes.Request) { cancel() }
	return ctx
}

// cutAfterRead is a gateway that reads the whole request, then cuts the
// connection without an answer: it took the message, and said nothing.
func cutAfterRead(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_ = conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv
}

// closedURL is the address of a gateway that is not there (connection
// refused): nothing can have been sent to it.
func closedURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

// TestWhatCountsAsNotSent: a provider's failure says it sent nothing
// (Unsent) only where the gateway refused the message (a 4xx: the number,
// the credentials, its rate limit, its Retry-After) or was never reached;
// a timeout after the gateway took the request, a connection cut after
// it, and a 5xx may have sent it, and say so. Against the fake gateways,
// which speak the real APIs.
func TestWhatCountsAsNotSent(t *testing.T) {
	ctx := context.Background()
	check := func(what string, err error, unsent bool) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", what)
			return
		}
		if Unsent(err) != unsent {
			t.Errorf("%s: Unsent %v, want %v (%v)", what, !unsent, unsent, err)
		}
	}

	f := fakes.NewTwilio(t)
	tw := newTwilio(t, f, func(tw *Twilio) { tw.Voice = true })
	check("twilio: an invalid number (400, 21211)", tw.Send(ctx, Message{To: "+15005550001", Channel: factor.ChannelSMS, Body: "x"}), true)
	f.Status = http.StatusInternalServerError
	check("twilio: 500", tw.Send(ctx, sms), false)
	check("twilio: a call, 500", tw.Send(ctx, Message{To: sms.To, Channel: factor.ChannelVoice, Body: "1 2 3"}), false)
	f.Status = http.StatusUnauthorized
	check("twilio: bad credentials (401)", tw.Send(ctx, sms), true)
	f.Status = http.StatusTooManyRequests
	check("twilio: 429", tw.Send(ctx, sms), true)
	check("twilio: within its Retry-After", tw.Send(ctx, sms), true)

	// A send given up on (its context ended, as a timeout ends it) once
	// the fake took the request, however slow the machine: a timeout of a
	// second could end before a loaded machine's request reached the fake.
	f2 := fakes.NewTwilio(t)
	f2.Delay = time.Minute // it took the request, and hangs
	slow := newTwilio(t, f2, func(tw *Twilio) { tw.VerifyService = "VA00000000000000000000000000000001" })
	check("twilio verify: given up on after the request went out", slow.StartVerification(cutOnceTaken(t, &f2.Server), sms), false)
	if len(f2.Requests()) != 1 {
		t.Fatalf("the slow fake got %d requests", len(f2.Requests()))
	}
	f3 := fakes.NewTwilio(t)
	f3.Status = http.StatusInternalServerError
	down := newTwilio(t, f3, func(tw *Twilio) { tw.VerifyService = "VA00000000000000000000000000000001" })
	check("twilio verify: 500", down.StartVerification(ctx, sms), false)

	cut := newTwilio(t, f, func(tw *Twilio) { tw.BaseURL = cutAfterRead(t).URL })
	check("twilio: the connection cut after the request", cut.Send(ctx, sms), false)
	gone := newTwilio(t, f, func(tw *Twilio) { tw.BaseURL = closedURL(t) })
	check("twilio: connection refused", gone.Send(ctx, sms), true)

	h := fakes.NewHook(t)
	w := newWebhook(t, &Webhook{URL: h.URL})
	for status, unsent := range map[int]bool{http.StatusBadRequest: true, http.StatusForbidden: true, http.StatusInternalServerError: false,
		http.StatusBadGateway: false} {
		h.Status = status
		check(http.StatusText(status)+" from a webhook", w.Send(ctx, sms), unsent)
	}
	h.Status, h.Delay = http.StatusOK, time.Minute
	check("a webhook given up on after the request went out", w.Send(cutOnceTaken(t, &h.Server), sms), false)
	check("a webhook refusing connections", newWebhook(t, &Webhook{URL: closedURL(t)}).Send(ctx, sms), true)

	sg := fakes.NewSignal(t)
	signal := &Signal{URL: sg.URL, Number: "+15005550006", Token: sg.Token}
	if err := signal.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	check("signal: an unregistered recipient (400)", signal.Send(ctx, Message{To: "+15005550001", Body: "x"}), true)
	signal.URL = cutAfterRead(t).URL
	check("signal: the connection cut after the request", signal.Send(ctx, sms), false)
}

// TestAChainSaysNotSentOnlyWhenNoneSent: a chain's failure is Unsent only
// when every provider it tried sent nothing; one that may have sent
// (or failed in a way nobody classified) keeps it "maybe sent", even
// when a later one refuses the number.
func TestAChainSaysNotSentOnlyWhenNoneSent(t *testing.T) {
	refusal, maybe := NotSent(errors.New("HTTP 401")), errors.New("timeout")
	number := &UserError{Err: errors.New("landline")}
	for _, c := range []struct {
		what   string
		errs   []error
		unsent bool
	}{
		{"two refusals", []error{refusal, refusal}, true},
		{"a refusal, then a timeout", []error{refusal, maybe}, false},
		{"a timeout, then a refusal", []error{maybe, refusal}, false},
		{"the number refused", []error{number}, true},
		{"a refusal, then the number refused", []error{refusal, number}, true},
		{"a timeout, then the number refused", []error{maybe, number}, false},
	} {
		var senders []Named
		for _, err := range c.errs {
			senders = append(senders, Named{Name: "p", Sender: &fake{err: err}})
		}
		err := Chain{Senders: senders}.Send(context.Background(), Message{Channel: factor.ChannelSMS})
		if err == nil || Unsent(err) != c.unsent {
			t.Errorf("%s: %v, Unsent %v", c.what, err, Unsent(err))
		}
		if c.errs[len(c.errs)-1] == number && !errors.As(err, new(*UserError)) {
			t.Errorf("%s: the number's words are lost: %v", c.what, err)
		}
	}
	// A chain none of whose providers takes the channel asked none of them.
	if err := (Chain{Senders: []Named{{Name: "p", Sender: &fake{}}}}).Send(context.Background(), Message{Channel: "carrier-pigeon"}); err == nil || !Unsent(err) {
		t.Errorf("no provider for the channel: %v, Unsent %v; want nothing sent", err, Unsent(err))
	}
}
