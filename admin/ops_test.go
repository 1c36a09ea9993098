package admin

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
)

// TestAnImportStoppedPartWayIsSaid: through the admin API (and so the CLI
// on a running Caddy), an import a store without transactions stopped
// part way answers 503 with how far it got and to run it again, not the
// store's own words. Before, it was the bare "the store did not answer",
// and the admin could not tell that records were written.
func TestAnImportStoppedPartWayIsSaid(t *testing.T) {
	t.Parallel()
	err := apiError(&enrollment.PartialImportError{Written: 7, Of: 20, Err: errors.New("dial tcp 10.0.0.7:6379: connection refused")})
	var ae caddy.APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != http.StatusServiceUnavailable ||
		!strings.Contains(ae.Message, "stopped after 7 of 20 records: run the same import again") || strings.Contains(ae.Message, "10.0.0.7") {
		t.Fatalf("a partial import through the admin API: %#v", err)
	}
}

// TestWhichGateAnInviteLeadsTo: an invite leads to the first of the
// realm's gates on the store that enrolls phones (no require) and signs
// its user in: a login form naming none and a first factor's gate sign in
// any name; a login form naming its users signs in only them, and they
// get no invite at all (the config gives them a phone: invite36); gates
// of another realm or store do not count, their users' lines neither.
// With none, a 409 that names the user, and why: where a gate that
// requires an app is the one that signs the user in, that (before, it
// said that no gate of the realm signed the user in).
func TestWhichGateAnInviteLeadsTo(t *testing.T) {
	t.Parallel()
	store := []byte(`{"module":"badger","path":"/a"}`)
	gate := func(realm, identity, prefix string, require []factor.Kind, users ...string) *Site {
		s := &Site{Config: Config{Realm: realm, Identity: identity, PathPrefix: prefix, Require: require, StoreConfig: store}}
		for _, u := range users {
			s.Provisioned = append(s.Provisioned, User{Name: u})
		}
		return s
	}
	named := gate("r", identityNone, "/named/", nil, "alice")
	strong := gate("r", "{http.auth.user.id}", "/strong/", []factor.Kind{factor.TOTP})
	otherRealm := gate("o", identityNone, "/o/", nil, "dave")
	otherStore := gate("r", identityNone, "/s/", nil, "dave")
	otherStore.StoreConfig = []byte(`{"module":"badger","path":"/b"}`)
	app := new(App)
	for _, s := range []*Site{named, otherRealm, otherStore} {
		app.Register(s)
	}
	// Whom no gate of the realm signs in (dave's user lines are another
	// realm's and another store's): refused as such.
	if to, err := named.inviteGate("dave"); err == nil || !strings.Contains(err.Error(), "no gate of realm r signs in dave") {
		t.Errorf("an invite for dave, whom no gate of the realm names: %v %v", to, err)
	}
	app.Register(strong)
	for user, want := range map[string]string{"alice": "config", "bob": "require (totp at /strong/)"} {
		to, err := named.inviteGate(user)
		status, msg, _ := mistake(err)
		switch {
		case want == "config" && (!errors.Is(err, enrollment.ErrInviteConfigPhone) || status != http.StatusConflict):
			t.Errorf("an invite for %s, whose phone the config gives: %v %d %q; want refused, 409", user, to, status, msg)
		case want != "config" && (status != http.StatusConflict || strings.Contains(msg, "no gate") || !strings.Contains(msg, want)):
			// The gate that signs bob in requires an app: no gate
			// signing bob in is not why.
			t.Errorf("an invite for %s, whom only a gate that requires an app signs in: %v %q", user, to, msg)
		}
	}
	for _, s := range []*Site{gate("r", identityNone, "/anyone/", nil), gate("r", "{http.auth.user.id}", "/ff/", nil, "alice")} {
		app.Register(s)
		if to, err := named.inviteGate("dave"); err != nil || to != s {
			t.Errorf("an invite for dave with a gate at %s in the realm: %v, %v", s.prefix(), to, err)
		}
		if _, err := named.inviteGate("alice"); !errors.Is(err, enrollment.ErrInviteConfigPhone) {
			t.Errorf("an invite for alice with a gate at %s in the realm: %v; want refused, her phone the config's", s.prefix(), err)
		}
		app.Unregister(s)
	}
	if _, err := strong.inviteGate("bob"); err == nil {
		t.Errorf("an invite for bob: led to a gate naming only alice")
	}
	app.Unregister(named)
	if _, err := strong.inviteGate("bob"); err == nil || !strings.Contains(err.Error(), "no phone can be enrolled") {
		t.Errorf("an invite where every gate requires another kind: %v", err)
	}
}

// TestAPartialImportThatReplacedTheKeysSaysSo: a partial import whose
// records written replaced the store's signing keys answers, through the
// admin API (and so the CLI on a running Caddy), what that does, as a
// whole import's answer does: the run again will not say it. Before, the
// answer said nothing of the keys. The CLI with Caddy stopped (the
// error's own text) says it in the same words: before, in others ("the
// file's signing keys, written, replaced the store's").
func TestAPartialImportThatReplacedTheKeysSaysSo(t *testing.T) {
	t.Parallel()
	for _, replaced := range []bool{true, false} {
		part := &enrollment.PartialImportError{Written: 8, Of: 21, KeysReplaced: replaced, Err: errors.New("the store went away")}
		err := apiError(part)
		var ae caddy.APIError
		if !errors.As(err, &ae) || strings.Contains(ae.Message, enrollment.KeysReplacedSaid) != replaced {
			t.Errorf("a partial import (keys replaced: %v) through the admin API: %q", replaced, ae.Message)
		}
		if strings.Contains(part.Error(), enrollment.KeysReplacedSaid) != replaced {
			t.Errorf("a partial import (keys replaced: %v) with Caddy stopped: %q", replaced, part.Error())
		}
	}
}
