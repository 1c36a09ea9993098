package docs

import (
	"go/ast"
	"go/token"
	"slices"
	"strconv"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestKindsAreNamedOnlyInFactor: a kind of device, a channel, a kind of
// device held or an amr value is named as a word ("sms", "totp",
// "passkey", "swk"…) only in package factor; every other room names it
// by factor's typed values, so that a renamed or mistyped kind is one
// place to change, not a string that quietly compares false. Go lets an
// untyped "pasky" convert to factor.Device, so this test is the check
// that none does. The words left outside are other vocabularies that
// happen to share a word (the reason by each).
func TestKindsAreNamedOnlyInFactor(t *testing.T) {
	wire := []string{"sms", "voice", "totp", "webauthn", "passkey", "tel", "otp", "swk", "hwk"}
	other := map[string][]string{
		"providers/twilio.go":  {"voice"},   // the twilio block's `voice` option
		"enrollment/limits.go": {"voice"},   // the `limit voice` option
		"enrollment/calls.go":  {"voice"},   // that limit, by its name
		"signin/policy.go":     {"passkey"}, // the devices page's action that adds a passkey
		"pages/devices.go":     {"passkey"}, // that action, and its page (passkey.html's name)
		"pages/passkeys.go":    {"passkey"}, // that action
		"pages/render.go":      {"passkey"}, // that page's title
		"pages/steps.go":       {"sms"},     // the verify page's buttons (action sms, call)
		"pages/verify.go":      {"sms"},     // the button it offers (Switch: sms, call)
	}
	// factor names them; the rest are test rigs and tools (a fake Twilio
	// speaks Twilio's words).
	for _, f := range harness.GoFiles(t, token.NewFileSet(), 0, "factor", "bench", "internal/fakes") {
		ast.Inspect(f.File, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			word, err := strconv.Unquote(lit.Value)
			if err == nil && slices.Contains(wire, word) && !slices.Contains(other[f.Rel], word) {
				t.Errorf("%s names the kind %q as a word: name it by package factor's value", f.Rel, word)
			}
			return true
		})
	}
}
