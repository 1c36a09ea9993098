package providers

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/fakes"
)

// TestAVerifyProviderWithoutASenderIsRefused (attack39b's 3): in Verify
// mode Twilio sends the codes, but a notice (someone is trying codes for
// the account, a swapped SIM, a device added or removed) is a text smsgate
// sends through the Messages API, which Twilio refuses without a sender
// (21603). A Verify provider with neither from nor messaging_service_sid
// loaded (the example shipped so), and every notice was lost, unseen; now
// Validate refuses it, saying what to add. With a sender, a notice goes
// out from it, and Twilio takes it.
func TestAVerifyProviderWithoutASenderIsRefused(t *testing.T) {
	f := fakes.NewTwilio(t)
	notice := Message{To: "+14155552671", Channel: factor.ChannelSMS, Host: "example.com", Body: "example.com: someone is trying codes for your account"}
	// What the provider sent before: Twilio's answer to a notice with no sender.
	bare := &Twilio{AccountSID: f.AccountSID, AuthToken: f.AuthToken, BaseURL: f.URL, VerifyBaseURL: f.URL, VerifyService: "VA00000000000000000000000000000001"}
	if err := bare.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	if err := bare.Validate(); !errors.Is(err, errVerifyWithoutSender) {
		t.Fatalf("a Verify provider with no sender: %v, want %q", err, errVerifyWithoutSender)
	}
	if err := bare.Send(context.Background(), notice); err == nil || !strings.Contains(err.Error(), "error 21603: A 'From' phone number is required.") {
		t.Fatalf("a notice with no sender: %v, want Twilio's 21603", err)
	}
	for option, edit := range map[string]func(*Twilio){
		"From": func(tw *Twilio) { tw.VerifyService = "VA00000000000000000000000000000001" },
		"MessagingServiceSid": func(tw *Twilio) {
			tw.From, tw.MessagingServiceSID, tw.VerifyService = "", "MG00000000000000000000000000000001", "VA00000000000000000000000000000001"
		},
	} {
		tw := newTwilio(t, f, edit) // Validate passes
		if err := tw.Send(context.Background(), notice); err != nil {
			t.Fatalf("a notice with %s: %v", option, err)
		}
		if r := f.Last(t); r.Form[option] == "" || r.Form["Body"] != notice.Body {
			t.Fatalf("a notice with %s went as %v", option, r.Form)
		}
	}
}
