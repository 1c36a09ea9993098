package signin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/providers"
)

// timingOut is a Twilio Verify that took each verification and failed
// to say so (its answer timed out): every send may have gone.
type timingOut struct{}

func (timingOut) Verifies() bool { return true }
func (timingOut) StartVerification(context.Context, providers.Message) error {
	return errors.New("twilio verify: context deadline exceeded")
}
func (timingOut) CheckVerification(context.Context, string, string) (bool, error) { return false, nil }

// TestABlindUnconfirmedCodeSaysWhy: after a login form, a code a Verify
// provider may have sent is answered as any send and audited as
// code_unconfirmed with what the provider said (its error); no chain's
// provider_failed line says it for a Verify provider. Before, the line
// had no error, and nothing in the log said why.
func TestABlindUnconfirmedCodeSaysWhy(t *testing.T) {
	t.Parallel()
	s := newService(t, LoginForm{})
	s.Challenges.Verifier = timingOut{}
	var lines []map[string]any
	s.Audit = func(event, user, e164 string, fields ...zap.Field) {
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range fields {
			f.AddTo(enc)
		}
		enc.Fields["event"] = event
		lines = append(lines, enc.Fields)
	}
	c, err := s.Login(context.Background(), enrollment.Scope{Realm: "r", Host: "example.com", IP: "192.0.2.1"}, &Flow{}, "", "carol", "")
	if err != nil || c == nil || !enrollment.MaybeSent(c.Undelivered) {
		t.Fatalf("a login whose Verify timed out: %v, %+v; want it answered as a send, the code maybe sent", err, c)
	}
	if len(lines) != 1 || lines[0]["event"] != "code_unconfirmed" || !strings.Contains(fmt.Sprint(lines[0]["error"]), "deadline exceeded") {
		t.Fatalf("audit: %v; want code_unconfirmed saying the provider's error", lines)
	}
}
