package pages

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestATrustsNumberNotGivenYetKeepsItsCookie: a gate with no `user` lines
// of its own (a require or forward-auth gate) is given the realm's
// numbers only at the config's start (signin.Service.GiveNumbers); before
// it, alice's trust that her config phone earned is refused there
// (session.ErrNumberNotGiven), and the browser keeps its trust cookie,
// which the gate takes once started. A trust that ended is still
// forgotten. On Badger. (Before: the cookie was deleted for good.)
func TestATrustsNumberNotGivenYetKeepsItsCookie(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	_, dev, _ := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now}, enrollment.Challenges{})
	gate := &signin.Service{Devices: dev, Now: time.Now} // no lines of its own
	m, err := session.NewManager(ctx, session.Config{Store: st, Realm: "example.com", Secret: []byte("a secret of thirty-two bytes, no less"),
		Alg: "HS256", Lifetime: time.Hour, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	m.CheckNumbers(gate.Gives)
	const number = "+14155552671"
	mark := session.NumberMark(dev.NumberID(number))
	if gate.Gives("alice", mark) {
		t.Fatal("a gate with no lines gives alice's number before its start")
	}
	token, _, err := m.TrustHeld(ctx, session.Began{}, "alice", "", "", time.Time{}, session.Where{Browser: "Firefox", System: "Linux"}, mark, []factor.AMR{factor.AMRSMS}, time.Now().Unix(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := &Pages{Config: Config{Remember: time.Hour, Sessions: m, Logger: zap.NewNop(), PathPrefix: "/.smsgate/"}}
	visit := func(cookie string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: TrustCookie, Value: cookie})
		if p.trustedSignIn(&request{w: rec, r: r, sessionRead: true}) {
			t.Fatal("signed in with a trust whose number the gate is not given")
		}
		return rec
	}
	if got := visit(token).Result().Cookies(); len(got) != 0 {
		t.Errorf("before the start: %v; want the trust cookie kept", got)
	}
	gate.GiveNumbers(map[string][]string{"alice": {number}})
	if user, _, err := m.Trusted(ctx, token); err != nil || user != "alice" {
		t.Errorf("once started: %q, %v; want alice's trust", user, err)
	}
	if got := visit("not a trust").Result().Cookies(); len(got) != 1 || got[0].Name != TrustCookie || got[0].MaxAge >= 0 {
		t.Errorf("a trust that is none: %v; want its cookie forgotten", got)
	}
}
