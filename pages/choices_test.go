package pages

import (
	"slices"
	"testing"

	"github.com/smsgate/caddy-smsgate/factor"
)

// Every kind of device signin names is a choice the verify page's JSON
// answer can offer, under one name each, and a page offering every way on
// lists each of them with a recovery code's amr value: a kind added to
// signin without its name here, or a name written out again beside it,
// shows here, not as a choice no client was told of.
func TestEveryKindIsAChoice(t *testing.T) {
	seen := map[string]factor.Kind{}
	for _, k := range factor.Kinds {
		c, ok := choices[k]
		if !ok || c == "" {
			t.Errorf("kind %q has no choice on the verify page", k)
			continue
		}
		if other, dup := seen[c]; dup {
			t.Errorf("kinds %q and %q are both the choice %q", other, k, c)
		}
		seen[c] = k
	}
	if len(choices) != len(factor.Kinds) {
		t.Errorf("%d choices for %d kinds: one names no kind of signin's", len(choices), len(factor.Kinds))
	}
	all := verifyChoices(pageData{Switch: "call", App: true, Passkey: true, Recoverable: true})
	for c := range seen {
		if !slices.Contains(all, c) {
			t.Errorf("choice %q is never offered (offered: %v)", c, all)
		}
	}
	if !slices.Contains(all, string(factor.AMRRecovery)) {
		t.Errorf("a recovery code is not offered as %q: %v", factor.AMRRecovery, all)
	}
}
