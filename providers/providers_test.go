package providers

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/factor"
)

func TestLogWritesMaskedNumberAndBody(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	l := &Log{logger: zap.New(core)}
	m := Message{To: "+14155552671", Body: "Your code is 123456.\n\n@localhost #123456", Code: "123456", Host: "localhost"}
	if err := l.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	entries := logs.All()
	if len(entries) != 1 {
		t.Fatalf("%d log entries", len(entries))
	}
	f := entries[0].ContextMap()
	if f["to"] != "+1•••••••671" || f["body"] != m.Body {
		t.Fatalf("fields %v", f)
	}
}

func TestLogRefusesPublicSites(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	l := &Log{logger: zap.New(core)}
	for _, host := range []string{"example.com", "localhost.example.com", "10.0.0.1", "grafana"} {
		if err := l.Send(context.Background(), Message{To: "+14155552671", Body: "x", Host: host}); err == nil {
			t.Errorf("log provider sent for %s", host)
		}
	}
	if logs.Len() != 0 {
		t.Fatal("a refused message was logged")
	}
	l.AllowPublic = true
	if err := l.Send(context.Background(), Message{To: "+14155552671", Body: "x", Host: "example.com"}); err != nil {
		t.Fatalf("allow_public: %v", err)
	}
}

type fake struct {
	err   error
	calls int
}

func (f *fake) Send(context.Context, Message) error { f.calls++; return f.err }

func TestChainTriesInOrder(t *testing.T) {
	down, up, spare := &fake{err: errors.New("HTTP 500")}, &fake{}, &fake{}
	c := Chain{Senders: []Named{{"down", down}, {"up", up}, {"spare", spare}}}
	if err := c.Send(context.Background(), Message{Channel: factor.ChannelSMS}); err != nil {
		t.Fatal(err)
	}
	if down.calls != 1 || up.calls != 1 || spare.calls != 0 {
		t.Fatalf("calls %d %d %d", down.calls, up.calls, spare.calls)
	}
	up.err = errors.New("timeout")
	spare.err = errors.New("HTTP 401")
	err := c.Send(context.Background(), Message{Channel: factor.ChannelSMS})
	if err == nil || !strings.Contains(err.Error(), "down: HTTP 500") || !strings.Contains(err.Error(), "spare: HTTP 401") {
		t.Fatalf("all failed: %v", err)
	}
	if err := (Chain{}).Send(context.Background(), Message{Channel: factor.ChannelSMS}); err == nil {
		t.Fatal("an empty chain sent")
	}
}

type fakeVerifier struct{ err error }

func (f fakeVerifier) Verifies() bool                                   { return true }
func (f fakeVerifier) StartVerification(context.Context, Message) error { return f.err }
func (f fakeVerifier) CheckVerification(context.Context, string, string) (bool, error) {
	return true, nil
}

// TestChainObservesCountries: what the chain tells its observer names the
// provider, the channel, the country and the result — never the number —
// for its own sends and for a Verifier's.
func TestChainObservesCountries(t *testing.T) {
	var heard []string
	down, up := &fake{err: errors.New("HTTP 500")}, &fake{}
	c := Chain{Senders: []Named{{"down", down}, {"up", up}}, Observe: func(provider string, channel factor.Channel, country, result string) {
		heard = append(heard, strings.Join([]string{provider, string(channel), country, result}, " "))
	}}
	if err := c.Send(context.Background(), Message{To: "+447400123456", Channel: factor.ChannelSMS}); err != nil {
		t.Fatal(err)
	}
	v := c.Verifying(fakeVerifier{}, "verify")
	if err := v.StartVerification(context.Background(), Message{To: "+4915123000001", Channel: factor.ChannelVoice}); err != nil {
		t.Fatal(err)
	}
	bad := c.Verifying(fakeVerifier{err: &UserError{Err: errors.New("landline")}}, "verify")
	_ = bad.StartVerification(context.Background(), Message{To: "+14155552671", Channel: factor.ChannelSMS})
	want := "down sms GB failed|up sms GB delivered|verify voice DE delivered|verify sms US refused"
	if got := strings.Join(heard, "|"); got != want {
		t.Fatalf("heard %s\nwant  %s", got, want)
	}
	if (Chain{}).Verifying(fakeVerifier{}, "v") != (fakeVerifier{}) {
		t.Fatal("a chain that observes nothing wrapped the verifier")
	}
}
