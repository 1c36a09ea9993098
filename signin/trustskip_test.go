package signin

import (
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
)

// TestATrustSkipsTheCodeAsThePolicySays (redesign39): the gate's policy on
// a trusted browser's skip, decided in signin (the pages asked it
// themselves before): a trust earned with an app's code skips the code
// while younger than remember at a gate that takes apps; not where the
// gate no longer takes them (a reload to texts only), nor once older
// than remember (shortened by a reload), nor where remember is off, nor
// without a trust.
func TestATrustSkipsTheCodeAsThePolicySays(t *testing.T) {
	t.Parallel()
	apps, texts := &Policy{}, &Policy{Factors: []factor.Kind{factor.SMS}}
	if err := apps.Settle([]factor.Kind{factor.SMS, factor.TOTP}); err != nil {
		t.Fatal(err)
	}
	if err := texts.Settle([]factor.Kind{factor.SMS, factor.TOTP}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC)
	tb := &session.TrustedBrowser{ID: "t1", Created: now.Add(-24 * time.Hour), AMR: []factor.AMR{factor.AMROTP}}
	for _, tc := range []struct {
		name     string
		p        *Policy
		tb       *session.TrustedBrowser
		remember time.Duration
		want     bool
	}{
		{"an app's trust a day old, remember 30 days", apps, tb, 30 * 24 * time.Hour, true},
		{"the gate takes texts only now", texts, tb, 30 * 24 * time.Hour, false},
		{"remember shortened to an hour", apps, tb, time.Hour, false},
		{"remember exactly its age", apps, tb, 24 * time.Hour, false},
		{"remember off", apps, tb, 0, false},
		{"no trust", apps, nil, 30 * 24 * time.Hour, false},
	} {
		if got := tc.p.TrustSkips(tc.tb, tc.remember, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
