package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestFiguresAndGuardSharedOnRedis: two gates (two Caddy instances) on one
// redis-server. Each counts its own sign-ins, and either one's figures add
// them up; a pause that one's guard starts refuses the other's sends, and
// an admin's resume on the other ends it for both.
func TestFiguresAndGuardSharedOnRedis(t *testing.T) {
	t.Parallel()
	addr := redistest.Server(t)
	ctx := context.Background()
	gates := make([]*Gate, 2)
	sent := make([]*capture, 2)
	for i := range gates {
		g, c := redisGate(t, []string{addr})
		// The captured texts go through the provider chain, as real ones do.
		g.run.chain.Senders = []providers.Named{{Name: "gateway", Sender: c}}
		g.run.challenges.Sender = g.run.chain
		g.run.signin.Users["carol"] = signin.User{Name: "carol", Phone: "+14155552671"}
		g.run.signin.Users["dave"] = signin.User{Name: "dave", Phone: "+4915123000001"}
		gates[i], sent[i] = g, c
	}
	if login, verify := signInOnce(gates[0], sent[0], "carol", "192.0.2.1"); login != http.StatusSeeOther || verify != http.StatusSeeOther {
		t.Fatalf("carol on the first: %d %d", login, verify)
	}
	if login, verify := signInOnce(gates[1], sent[1], "dave", "192.0.2.2"); login != http.StatusSeeOther || verify != http.StatusSeeOther {
		t.Fatalf("dave on the second: %d %d", login, verify)
	}
	// The second instance's counts reach the store within admin.FlushEvery.
	if err := gates[1].run.counting.Tally.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := gates[0].run.site.Figures(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	if f.Total.Texts != 2 || f.Total.CodesSent != 2 || f.Total.CodesUsed != 2 || len(f.Countries) != 2 ||
		len(f.Providers) != 1 || f.Providers[0].Provider != "gateway" || f.Providers[0].Unknown != 2 || !f.Pumping.On {
		t.Fatalf("figures of both instances: %+v", f)
	}

	// A flood of new numbers in one range, alternating between the two.
	sc := enrollment.Scope{Realm: "localhost", Host: "localhost", IP: "203.0.113.1"}
	through := 0
	for i := range 60 {
		g := gates[i%2]
		g.run.challenges.Limits = enrollment.Limits{LockAfter: 10, Lockout: 1, MaxFailures: 100}
		_, err := g.run.challenges.Start(ctx, sc, enrollment.Challenge{User: fmt.Sprint("bot", i), Phone: fmt.Sprintf("+4474001%05d", i), Purpose: enrollment.Enroll})
		var limit *enrollment.LimitError
		switch {
		case err == nil:
			through++
		case !errors.As(err, &limit) || limit.Limit != "pumping":
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if through != 19 {
		t.Fatalf("%d sends went through to the range, want 19", through)
	}
	// Prometheus hears it too, without a user or a number in any label.
	for metric, want := range map[string]float64{
		`caddy_smsgate_sign_ins_total{method="sms"}`:                                     2,
		`caddy_smsgate_codes_total{country="US",event="used"}`:                           1,
		`caddy_smsgate_codes_total{country="GB",event="paused"}`:                         41,
		`caddy_smsgate_pumping_pauses_total{kind="prefix"}`:                              1,
		`caddy_smsgate_sends_total{channel="sms",provider="gateway",result="delivered"}`: 21,
	} {
		if got := gathered(t, gates...)[metric]; got != want {
			t.Errorf("%s = %g, want %g", metric, got, want)
		}
	}
	p, err := gates[1].run.site.Pumping(ctx)
	if err != nil || len(p.Pauses) != 1 || p.Pauses[0].Place != "+44740" {
		t.Fatalf("the second instance's pauses: %+v, %v", p, err)
	}
	if _, err := gates[1].run.site.ResumePumping(ctx, "+44740"); err != nil {
		t.Fatal(err)
	}
	if _, err := gates[1].run.site.ResumePumping(ctx, "+44740"); err == nil {
		t.Fatal("resuming a place twice: no error")
	}
	if _, err := gates[0].run.challenges.Start(ctx, sc, enrollment.Challenge{User: "late", Phone: "+447400199999", Purpose: enrollment.Enroll}); err != nil {
		t.Fatalf("after the resume, on the first: %v", err)
	}
}

// gathered sums the gates' metrics, by name and labels as Prometheus
// writes them.
func gathered(t *testing.T, gates ...*Gate) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, g := range gates {
		families, err := g.run.log.Ctx.GetMetricsRegistry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				out[f.GetName()+"{"+strings.Join(labels, ",")+"}"] += m.GetCounter().GetValue()
			}
		}
	}
	return out
}
