package pages

import "strings"

// kindWord is the kind of a device named name (factor.Device's Name:
// "app", "passkey"), in lang's words, for the devices page to say beside
// the name: "" for a phone (its number is said instead), and "" where the
// name says the kind already, as the defaults do ("Authenticator app 1",
// "Passkey 2"): "Authenticator app 1 authenticator app" said it twice
// (walk38). The kind is looked for in lang's words and in English, case,
// hyphens and spaces aside ("Authenticator-App" is "authenticator app").
func (p *Pages) kindWord(lang, kind, name string) string {
	var key, word string
	switch kind {
	case "app":
		key, word = "authenticator app", p.Words.T(lang, "authenticator app")
	case "passkey":
		key, word = "passkey", p.Words.T(lang, "passkey")
	default:
		return ""
	}
	fold := strings.NewReplacer("-", " ", "\u00a0", " ")
	named := fold.Replace(strings.ToLower(name))
	for _, said := range []string{word, key} {
		if strings.Contains(named, fold.Replace(strings.ToLower(said))) {
			return ""
		}
	}
	return word
}
