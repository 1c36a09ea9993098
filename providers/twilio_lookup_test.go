package providers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/fakes"
)

func lookupTwilio(t *testing.T, f *fakes.Twilio, l *TwilioLookup) *Twilio {
	t.Helper()
	return newTwilio(t, f, func(tw *Twilio) {
		l.BaseURL = f.URL
		tw.Lookup = l
	})
}

func TestLookupRefusesLineTypesAndSwappedSIMs(t *testing.T) {
	f := fakes.NewTwilio(t)
	ctx := context.Background()
	tw := lookupTwilio(t, f, &TwilioLookup{SIMSwapWithin: caddy.Duration(7 * 24 * time.Hour)})
	f.LineType["+14155550001"] = "landline"
	f.LineType["+14155550002"] = "nonFixedVoip"
	f.SIMSwapped["+14155550003"] = time.Now().Add(-2 * time.Hour)
	f.SIMSwapped["+14155550004"] = time.Now().Add(-30 * 24 * time.Hour)
	for num, want := range map[string]string{
		"+14155552671": "",           // a mobile, never swapped
		"+14155550001": "phone.type", // a landline gets no text…
		"+14155550002": "phone.type",
		"+14155550003": "swapped",
		"+14155550004": "", // swapped a month ago: fine
	} {
		err := tw.CheckNumber(ctx, num, factor.ChannelSMS, true)
		var ue *UserError
		var swap *SIMSwapError
		switch {
		case want == "" && err != nil, want == "phone.type" && (!errors.As(err, &ue) || ue.Words().ID != "phone.type"), want == "swapped" && !errors.As(err, &swap):
			t.Errorf("%s: %v, want %s", num, err, want)
		}
	}
	// …but may be called.
	if err := tw.CheckNumber(ctx, "+14155550001", factor.ChannelVoice, true); err != nil {
		t.Errorf("a landline by voice: %v", err)
	}
	// Answers are cached per number: one request per number, however often.
	before := len(f.Requests())
	for range 3 {
		_ = tw.CheckNumber(ctx, "+14155552671", factor.ChannelSMS, true)
	}
	if n := len(f.Requests()) - before; n != 0 {
		t.Errorf("%d lookups for a cached number", n)
	}
	// Sign-ins are not checked unless each_send.
	if err := tw.CheckNumber(ctx, "+14155550003", factor.ChannelSMS, false); err != nil {
		t.Errorf("a sign-in without each_send: %v", err)
	}
}

func TestLookupOutageFollowsTheConfig(t *testing.T) {
	f := fakes.NewTwilio(t)
	f.LookupStatus = http.StatusServiceUnavailable
	ctx := context.Background()
	def := lookupTwilio(t, f, &TwilioLookup{EachSend: true})
	var le *LookupError
	if err := def.CheckNumber(ctx, "+14155552671", factor.ChannelSMS, true); !errors.As(err, &le) {
		t.Errorf("enrollment during an outage, by default: %v, want closed", err)
	}
	if err := def.CheckNumber(ctx, "+14155552671", factor.ChannelSMS, false); err != nil {
		t.Errorf("sign-in during an outage, by default: %v, want open", err)
	}
	flipped := lookupTwilio(t, f, &TwilioLookup{EachSend: true, OnErrorEnroll: "open", OnErrorSignIn: "closed"})
	if err := flipped.CheckNumber(ctx, "+14155552671", factor.ChannelSMS, true); err != nil {
		t.Errorf("enrollment, on_error_enroll open: %v", err)
	}
	if err := flipped.CheckNumber(ctx, "+14155552671", factor.ChannelSMS, false); !errors.As(err, &le) {
		t.Errorf("sign-in, on_error_sign_in closed: %v", err)
	}
	if strings.Contains(le.Error(), f.AuthToken) {
		t.Error("the auth token is in the error")
	}
}

// TestLookupAgainstTheSpec: the request is what Twilio's published Lookup
// v2 OpenAPI spec declares, and the spec's own example answers read right.
func TestLookupAgainstTheSpec(t *testing.T) {
	// Twilio's published Lookup v2 OpenAPI spec, as shipped in
	// shared/contracts/twilio (a copy, so that the test runs anywhere).
	raw, err := os.ReadFile(filepath.Join("testdata", "twilio_lookups_v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	var get struct {
		Parameters []struct{ Name, In, Description string }
		Responses  map[string]struct {
			Content map[string]struct {
				Examples map[string]struct{ Value map[string]any }
			}
		}
	}
	if err := json.Unmarshal(spec.Paths["/v2/PhoneNumbers/{PhoneNumber}"]["get"], &get); err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	var fields []string
	for _, p := range get.Parameters {
		if p.In == "query" {
			declared[p.Name] = true
		}
		if p.Name == "Fields" {
			m := regexp.MustCompile(`Possible values are ([a-z_, ]+)\.`).FindStringSubmatch(p.Description)
			if m == nil {
				t.Fatalf("Fields: %q", p.Description)
			}
			fields = strings.Split(m[1], ", ")
		}
	}
	examples := get.Responses["200"].Content["application/json"].Examples
	var asked *http.Request
	answer := map[string]any{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r
		_ = json.NewEncoder(w).Encode(answer)
	}))
	defer srv.Close()
	f := fakes.NewTwilio(t)
	check := func(example string, l *TwilioLookup, channel factor.Channel) error {
		t.Helper()
		answer = examples[example].Value
		if answer == nil {
			t.Fatalf("the spec has no example %s", example)
		}
		tw := newTwilio(t, f, func(tw *Twilio) { l.BaseURL = srv.URL; tw.Lookup = l })
		err := tw.CheckNumber(context.Background(), "+447400123456", channel, true)
		if !regexp.MustCompile(`^/v2/PhoneNumbers/[^/]+$`).MatchString(asked.URL.Path) || asked.Method != http.MethodGet {
			t.Fatalf("%s %s is not GET /v2/PhoneNumbers/{PhoneNumber}", asked.Method, asked.URL.Path)
		}
		for name := range asked.URL.Query() {
			if !declared[name] {
				t.Errorf("query parameter %s is not in the spec", name)
			}
		}
		for _, v := range strings.Split(asked.URL.Query().Get("Fields"), ",") {
			if !strings.Contains(strings.Join(fields, " "), v) {
				t.Errorf("Fields value %q is not one the spec lists (%v)", v, fields)
			}
		}
		if u, p, ok := asked.BasicAuth(); !ok || u != f.AccountSID || p != f.AuthToken {
			t.Error("the lookup is not authenticated as the account")
		}
		return err
	}
	var ue *UserError
	if err := check("fetchLineTypeIntelligence", &TwilioLookup{}, factor.ChannelSMS); !errors.As(err, &ue) {
		t.Errorf("the spec's nonFixedVoip example by SMS: %v, want refused", err)
	}
	within := caddy.Duration(7 * 24 * time.Hour)
	var swap *SIMSwapError
	if err := check("fetchSimSwapWithoutLastSimSwapDate", &TwilioLookup{SIMSwapWithin: within}, factor.ChannelSMS); !errors.As(err, &swap) {
		t.Errorf("the spec's swapped-within-24h example: %v, want refused", err)
	}
	if err := check("fetchSimSwapWithFalseSwapped", &TwilioLookup{SIMSwapWithin: within}, factor.ChannelSMS); err != nil {
		t.Errorf("the spec's not-swapped example: %v", err)
	}
	if err := check("fetchSimSwap", &TwilioLookup{SIMSwapWithin: within}, factor.ChannelSMS); err != nil {
		t.Errorf("the spec's example swapped in 2020: %v", err)
	}
	// The spec's basic example: "sim_swap": null, what carriers without
	// SIM-swap data answer. No outage: sent by default, refused (with its
	// own words) when the config says so.
	if err := check("fetch", &TwilioLookup{SIMSwapWithin: within}, factor.ChannelSMS); err != nil {
		t.Errorf("the spec's example without SIM-swap data: %v, want the code sent", err)
	}
	if err := check("fetch", &TwilioLookup{SIMSwapWithin: within, OnNoSIMData: "closed"}, factor.ChannelSMS); !errors.As(err, &ue) || ue.Words().ID != "provider.sim_unknown" {
		t.Errorf("the spec's example without SIM-swap data, on_no_sim_data closed: %v", err)
	}
}
