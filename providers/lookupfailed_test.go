package providers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestALookupOutageAtSignInIsToldOnceAndCounted: with sim_swap_within and
// each_send, a Lookup that cannot answer at a sign-in (on_error_sign_in
// open, the default) lets the code go out unchecked, and the admin is
// told: one warning (lookup_failed, at sign_in) for three sign-ins in a
// minute, with Twilio's reason and without the number in any form, and
// caddy_smsgate_lookup_failures_total{at="sign_in",result="sent"} 3; an
// enrollment's failure (closed) is counted as refused, not warned of (its
// refusal is the send's error). Before, nothing was logged or counted:
// expired Lookup credentials turned the SIM-swap check off unseen
// (attack28's F4).
func TestALookupOutageAtSignInIsToldOnceAndCounted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"code":20003,"message":"Authenticate %s","status":403}`, r.URL.EscapedPath())
	}))
	defer srv.Close()
	core, logs := observer.New(zap.DebugLevel)
	reg := prometheus.NewRegistry()
	l := &TwilioLookup{BaseURL: srv.URL, EachSend: true, SIMSwapWithin: caddy.Duration(7 * 24 * time.Hour),
		CacheFor: caddy.Duration(time.Hour), logger: zap.New(core), cache: map[[32]byte]lookupAnswer{}}
	l.watch(reg)
	tw := &Twilio{user: "ACxxxx", pass: "tokentoken", client: srv.Client(), Lookup: l}
	for range 3 {
		if err := tw.CheckNumber(context.Background(), "+491511234567", "sms", false); err != nil {
			t.Fatalf("CheckNumber at a sign-in: %v; want nil (open)", err)
		}
	}
	if err := tw.CheckNumber(context.Background(), "+491511234567", "sms", true); err == nil {
		t.Fatalf("CheckNumber at an enrollment: nil; want a LookupError (closed)")
	}
	warned := logs.FilterMessageSnippet("Twilio Lookup cannot answer").All()
	if len(warned) != 1 || logs.Len() != 1 {
		t.Fatalf("%d warning(s), %d line(s) for three sign-ins and an enrollment; want 1", len(warned), logs.Len())
	}
	line := fmt.Sprint(warned[0].Message, warned[0].ContextMap())
	for _, want := range []string{"SIM swap", "on_error_sign_in open", "at:sign_in", "event:lookup_failed", "Authenticate"} {
		if !strings.Contains(line, want) {
			t.Errorf("the warning lacks %q: %s", want, line)
		}
	}
	if strings.Contains(line, "567") || strings.Contains(line, "+49") || warned[0].Level != zap.WarnLevel {
		t.Errorf("the warning holds the number, or is no warning: %s", line)
	}
	counted := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := f.GetName()
			for _, p := range m.GetLabel() {
				labels += " " + p.GetName() + "=" + p.GetValue()
			}
			counted[labels] = m.GetCounter().GetValue()
		}
	}
	if want := map[string]float64{
		"caddy_smsgate_lookup_failures_total at=sign_in result=sent":   3,
		"caddy_smsgate_lookup_failures_total at=enroll result=refused": 1,
	}; fmt.Sprint(counted) != fmt.Sprint(want) {
		t.Errorf("counted %v; want %v", counted, want)
	}
}
