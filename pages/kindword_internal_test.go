package pages

import (
	"testing"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/words"
)

// TestTheKindIsSaidOnlyWhereTheNameDoesNot (walk38): the devices page said
// "Authenticator app 1 authenticator app", the kind twice. An app or a
// passkey named by default (in either language) or by a name that says
// its kind shows no kind beside it; one the user named otherwise ("Aegis",
// "YubiKey") does; a phone's number is said, never a kind.
func TestTheKindIsSaidOnlyWhereTheNameDoesNot(t *testing.T) {
	t.Parallel()
	p := &Pages{Config: Config{Words: words.English, Logger: zap.NewNop()}}
	list := []enrollment.Device{
		{ID: "P1", Phone: "+14155552671"},
		{ID: "A1", Kind: factor.App},
		{ID: "A2", Kind: factor.App, Name: "Aegis"},
		{ID: "A3", Kind: factor.App, Name: "my authenticator-app"},
		{ID: "K1", Kind: factor.Passkey},
		{ID: "K2", Kind: factor.Passkey, Name: "YubiKey"},
		{ID: "K3", Kind: factor.Passkey, Name: "Work PASSKEY"},
	}
	said := []bool{false, true, false, true, true, false, true}
	for _, lang := range []string{"en", "de"} {
		views := p.viewsOf(&request{lang: lang}, list)
		for i, v := range views {
			if v.KindSaid != said[i] {
				t.Errorf("%s: %s (%s): its name says its kind: %v, want %v", lang, v.Name, v.Kind, v.KindSaid, said[i])
			}
		}
	}
}
