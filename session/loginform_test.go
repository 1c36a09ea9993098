package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestALoginFormsSessionCountsOnlyAtALoginForm: two gates of one realm on
// one store, a login form and one behind a first factor. The login form's
// session is marked (lf) and refused by the other; the other's counts at
// both; a token of the release before, unmarked, counts at both until it
// ends, as it did.
func TestALoginFormsSessionCountsOnlyAtALoginForm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	secret := []byte("a secret of thirty-two bytes, no less")
	manager := func(form bool) *Manager {
		m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Secret: secret, Alg: "HS256",
			Lifetime: time.Hour, Now: time.Now, LoginForm: form})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	kiosk, portal := manager(true), manager(false)
	sms := []factor.AMR{factor.AMRSMS}
	fromKiosk, err := kiosk.Issue(ctx, "carol", sms, Where{})
	if err != nil {
		t.Fatal(err)
	}
	fromPortal, err := portal.Issue(ctx, "carol", sms, Where{})
	if err != nil {
		t.Fatal(err)
	}
	if kiosk.Check(ctx, fromKiosk) == nil || kiosk.Check(ctx, fromPortal) == nil || portal.Check(ctx, fromPortal) == nil {
		t.Fatal("a session refused where it was earned, or a first factor's at the login form")
	}
	if cl := portal.Check(ctx, fromKiosk); cl != nil {
		t.Fatalf("the login form's session counts behind the first factor: %+v", cl)
	}
	older := Claims{RegisteredClaims: kiosk.keys.NewClaimsAt("example.com", "carol", time.Hour, time.Now()), SID: "older", AMR: sms}
	token, err := kiosk.keys.Sign(&older) // as the release before signed it: no lf
	if err != nil {
		t.Fatal(err)
	}
	if portal.Check(ctx, token) == nil {
		t.Fatal("a session of the release before (no mark) refused")
	}
}
