package enrollment

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/factor"
)

// TestPasskeysElsewhereNamesTheHostTheyAnswerAt: a user's passkeys answer
// at the host (RP ID) they were made for; the verify page names it when
// none answers here. One kept without its RP ID (added before it was) may
// answer here, and so may any one of several.
func TestPasskeysElsewhereNamesTheHostTheyAnswerAt(t *testing.T) {
	t.Parallel()
	w, err := NewWebAuthn("https://b.example.com", "", "Example")
	if err != nil {
		t.Fatal(err)
	}
	s := &Devices{&Core{WebAuthn: w}}
	phone := Device{Kind: factor.Phone, Phone: "+14155552671"}
	at := func(rpID string) Device { return Device{Kind: factor.Passkey, RPID: rpID} }
	for _, c := range []struct {
		list []Device
		want string
	}{
		{nil, ""},
		{[]Device{phone}, ""},
		{[]Device{phone, at("a.example.com")}, "a.example.com"},
		{[]Device{at("a.example.com"), at("b.example.com")}, ""},
		{[]Device{at("a.example.com"), at("")}, ""},
	} {
		if got := s.PasskeysElsewhere(c.list); got != c.want {
			t.Errorf("PasskeysElsewhere(%+v) = %q, want %q", c.list, got, c.want)
		}
	}
	if got := (&Devices{&Core{}}).PasskeysElsewhere([]Device{at("a.example.com")}); got != "" {
		t.Errorf("a gate without passkeys: %q", got)
	}
}
