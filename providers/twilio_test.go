package providers

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/fakes"
)

func newTwilio(t *testing.T, f *fakes.Twilio, edit func(*Twilio)) *Twilio {
	t.Helper()
	tw := &Twilio{AccountSID: f.AccountSID, AuthToken: f.AuthToken, From: "+15005550006", BaseURL: f.URL, VerifyBaseURL: f.URL}
	if edit != nil {
		edit(tw)
	}
	if err := tw.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Validate(); err != nil {
		t.Fatal(err)
	}
	return tw
}

var sms = Message{To: "+14155552671", Channel: factor.ChannelSMS, Body: "Your code is 123456.\n\n@example.com #123456", Code: "123456", Host: "example.com"}

func TestTwilioSMS(t *testing.T) {
	f := fakes.NewTwilio(t)
	if err := newTwilio(t, f, nil).Send(context.Background(), sms); err != nil {
		t.Fatal(err)
	}
	r := f.Last(t)
	if r.Method != "POST" || r.Path != "/2010-04-01/Accounts/"+f.AccountSID+"/Messages.json" || r.ContentType != "application/x-www-form-urlencoded" {
		t.Fatalf("request %s %s %s", r.Method, r.Path, r.ContentType)
	}
	if r.User != f.AccountSID || r.Pass != f.AuthToken {
		t.Fatalf("basic auth %q:%q", r.User, r.Pass)
	}
	want := map[string]string{"To": "+14155552671", "From": "+15005550006", "Body": sms.Body}
	if len(r.Form) != len(want) {
		t.Fatalf("form %v, want exactly %v", r.Form, want)
	}
	for k, v := range want {
		if r.Form[k] != v {
			t.Fatalf("form %s = %q, want %q", k, r.Form[k], v)
		}
	}
}

func TestTwilioMessagingServiceAndAPIKey(t *testing.T) {
	f := fakes.NewTwilio(t)
	f.AccountSID, f.AuthToken = "AC00000000000000000000000000000001", "api-key-secret"
	tw := newTwilio(t, f, func(tw *Twilio) {
		tw.From, tw.MessagingServiceSID, tw.AuthToken = "", "MG00000000000000000000000000000001", ""
		tw.APIKey, tw.APISecret = "AC00000000000000000000000000000001", "api-key-secret"
	})
	if err := tw.Send(context.Background(), sms); err != nil {
		t.Fatal(err)
	}
	r := f.Last(t)
	if r.Form["MessagingServiceSid"] != "MG00000000000000000000000000000001" || r.Form["From"] != "" {
		t.Fatalf("form %v", r.Form)
	}
}

func TestTwilioVoiceReadsTheCodeTwiceAndCannotBeInjected(t *testing.T) {
	f := fakes.NewTwilio(t)
	tw := newTwilio(t, f, func(tw *Twilio) { tw.Voice = true })
	hostile := "Your </Say><Dial>+19005550123</Dial><Say> code is: 1, 2, 3, 4, 5, 6."
	if err := tw.Send(context.Background(), Message{To: "+14155552671", Channel: factor.ChannelVoice, Body: hostile, Code: "123456"}); err != nil {
		t.Fatal(err)
	}
	r := f.Last(t)
	if r.Path != "/2010-04-01/Accounts/"+f.AccountSID+"/Calls.json" || r.Form["From"] != "+15005550006" || r.Form["To"] != "+14155552671" {
		t.Fatalf("call request %s %v", r.Path, r.Form)
	}
	twiml := r.Form["Twiml"]
	if strings.Contains(twiml, "<Dial>") || strings.Count(twiml, "<Say>") != 2 || !strings.Contains(twiml, "&lt;/Say&gt;&lt;Dial&gt;") {
		t.Fatalf("TwiML %s", twiml)
	}
	var doc struct {
		Says []string `xml:"Say"`
	}
	if err := xml.Unmarshal([]byte(twiml), &doc); err != nil || len(doc.Says) != 2 || doc.Says[0] != hostile || doc.Says[1] != hostile {
		t.Fatalf("the call says %q (%v)", doc.Says, err)
	}
	spoken, _ := sayTwice("Your code is: 1, 2, 3, 4, 5, 6.")
	if got := fakes.CodeIn(spoken); got != "123456" {
		t.Fatalf("the call reads %q", got)
	}
}

func TestTwilioValidate(t *testing.T) {
	for _, tc := range []struct {
		tw   Twilio
		want string
	}{
		{Twilio{AccountSID: "xx", AuthToken: "t", From: "+1"}, "account_sid must start with AC"},
		{Twilio{AccountSID: "AC1", AuthToken: "t"}, "set from"},
		{Twilio{AccountSID: "AC1", AuthToken: "t", MessagingServiceSID: "MG1", Voice: true}, "voice calls need a from number"},
		{Twilio{AccountSID: "AC1", AuthToken: "t", VerifyService: "XX"}, "verify_service must start with VA"},
	} {
		if err := tc.tw.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.tw, err, tc.want)
		}
	}
	t.Setenv("SMSGATE_TEST_EMPTY", "")
	tw := Twilio{AccountSID: "AC1", AuthToken: "{env.SMSGATE_TEST_EMPTY}"}
	if err := tw.Provision(caddy.Context{}); err == nil || !strings.Contains(err.Error(), "auth_token is empty") {
		t.Errorf("empty token from the environment: %v", err)
	}
}

func TestTwilioErrors(t *testing.T) {
	f := fakes.NewTwilio(t)
	tw := newTwilio(t, f, nil)
	ctx := context.Background()
	for to, want := range map[string]string{
		"+15005550001": "This phone number is not valid",
		"+15005550004": "opted out",
		"+15005550009": "cannot receive text messages",
		"+15005550010": "cannot be sent to this country",
	} {
		err := tw.Send(ctx, Message{To: to, Channel: factor.ChannelSMS, Body: "x"})
		var ue *UserError
		if !errors.As(err, &ue) || !strings.Contains(ue.Error(), want) {
			t.Errorf("%s: %v, want a user error saying %q", to, err, want)
			continue
		}
		if msg := ue.Error(); strings.Contains(msg, "twilio") || strings.Contains(msg, to) || !strings.HasPrefix(ue.Words().ID, "provider.") {
			t.Errorf("%s: the user's message %q (%s) carries Twilio's text", to, msg, ue.Words().ID)
		}
		if !strings.Contains(ue.Err.Error(), "HTTP 400, error 2") {
			t.Errorf("%s: the admin's error %q lacks Twilio's status and code", to, ue.Err)
		}
	}

	f.Status = http.StatusInternalServerError
	if err := tw.Send(ctx, sms); err == nil || errors.As(err, new(*UserError)) || !strings.Contains(err.Error(), "HTTP 500, error 20500") {
		t.Errorf("500: %v", err)
	}

	bad := newTwilio(t, f, func(tw *Twilio) { tw.AuthToken = "wrong" })
	f.Status = 0
	if err := bad.Send(ctx, sms); err == nil || !strings.Contains(err.Error(), "error 20003") || !strings.Contains(err.Error(), "check account_sid and auth_token") {
		t.Errorf("bad credentials: %v", err)
	}
	if strings.Contains(bad.Send(ctx, sms).Error(), "wrong") {
		t.Error("the error names the auth token")
	}
}

func TestTwilioHonoursRetryAfter(t *testing.T) {
	f := fakes.NewTwilio(t)
	tw := newTwilio(t, f, nil)
	f.Status = http.StatusTooManyRequests
	err := tw.Send(context.Background(), sms)
	if err == nil || !strings.Contains(err.Error(), "error 20429") || !strings.Contains(err.Error(), "backing off for 30s") {
		t.Fatalf("429: %v", err)
	}
	f.Status = 0
	n := len(f.Requests())
	if err := tw.Send(context.Background(), sms); err == nil || !strings.Contains(err.Error(), "rate limited") {
		t.Fatalf("send during Retry-After: %v", err)
	}
	if len(f.Requests()) != n {
		t.Fatal("a request went to Twilio during its Retry-After")
	}
}

func TestTwilioTimeout(t *testing.T) {
	f := fakes.NewTwilio(t)
	f.Delay = time.Second
	tw := newTwilio(t, f, func(tw *Twilio) { tw.Timeout = caddy.Duration(100 * time.Millisecond) })
	if err := tw.Send(context.Background(), sms); err == nil || errors.As(err, new(*UserError)) {
		t.Fatalf("a slow Twilio: %v", err)
	}
}

func TestTwilioVerify(t *testing.T) {
	f := fakes.NewTwilio(t)
	tw := newTwilio(t, f, func(tw *Twilio) { tw.VerifyService = "VA00000000000000000000000000000001" })
	ctx := context.Background()
	if !tw.Verifies() {
		t.Fatal("a Twilio with a Verify service does not verify")
	}
	if err := tw.StartVerification(ctx, Message{To: "+14155552671", Channel: factor.ChannelVoice}); err != nil {
		t.Fatal(err)
	}
	r := f.Last(t)
	if r.Path != "/v2/Services/VA00000000000000000000000000000001/Verifications" || r.Form["To"] != "+14155552671" || r.Form["Channel"] != "call" {
		t.Fatalf("start %s %v", r.Path, r.Form)
	}
	code := f.VerifyCode("+14155552671")
	if ok, err := tw.CheckVerification(ctx, "+14155552671", "000000"); ok || err != nil {
		t.Fatalf("wrong code (pending): %v %v", ok, err)
	}
	if ok, err := tw.CheckVerification(ctx, "+14155552671", code); !ok || err != nil {
		t.Fatalf("right code (approved): %v %v", ok, err)
	}
	r = f.Last(t)
	if r.Path != "/v2/Services/VA00000000000000000000000000000001/VerificationCheck" || r.Form["Code"] != code {
		t.Fatalf("check %s %v", r.Path, r.Form)
	}
	if _, err := tw.CheckVerification(ctx, "+14155552671", code); !errors.Is(err, ErrNoVerification) {
		t.Fatalf("after approval (404): %v", err)
	}
	if err := tw.StartVerification(ctx, Message{To: "+15005550001", Channel: factor.ChannelSMS}); !errors.As(err, new(*UserError)) {
		t.Fatalf("an invalid number: %v", err)
	}
}
