package pages

import (
	"strings"

	"github.com/smsgate/caddy-smsgate/factor"
)

// kindSaid reports whether the name of a device of kind (factor.Device's
// Name) says its kind already, as the defaults do ("Authenticator app 1",
// "Passkey 2"): the devices page then says no kind beside it, where it
// said "Authenticator app 1 authenticator app" (walk38). A phone's never
// does (its number is said). The kind is looked for in lang's words and
// in English, case, hyphens and spaces aside ("Authenticator-App" is
// "authenticator app").
func (p *Pages) kindSaid(lang, kind, name string) bool {
	id, ok := kindIDs[kind]
	if !ok || kind == factor.Phone.Name() {
		return false
	}
	fold := func(s string) string {
		return strings.NewReplacer("-", " ", "\u00a0", " ").Replace(strings.ToLower(s))
	}
	named := fold(name)
	for _, l := range []string{lang, "en"} {
		if strings.Contains(named, fold(p.Words.T(l, id))) {
			return true
		}
	}
	return false
}
