package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
	root := harness.Root(t)
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
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			// factor names them; the rest are test rigs and tools (a fake
			// Twilio speaks Twilio's words).
			if strings.HasPrefix(d.Name(), ".") || slices.Contains([]string{"factor", "bench", "testdata", "internal/fakes"}, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			word, err := strconv.Unquote(lit.Value)
			if err == nil && slices.Contains(wire, word) && !slices.Contains(other[rel], word) {
				t.Errorf("%s names the kind %q as a word: name it by package factor's value", rel, word)
			}
			return true
		})
		return nil
	})
	if err != nil || checked < 100 {
		t.Fatalf("walked %d files: %v", checked, err)
	}
}
