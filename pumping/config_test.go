package pumping

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

// TestNumbersAreRefusedAlike walks the guard's table of numbers: just out
// of range (and negative) is refused by the Caddyfile, with its line, and
// by a JSON config's Settings, in the same words; the bounds are taken by
// both. 0 is left out: in JSON it is the option not given.
func TestNumbersAreRefusedAlike(t *testing.T) {
	for _, n := range new(Config).numbers() {
		refused, taken := []time.Duration{-1}, []time.Duration{n.Min}
		if n.Min-1 > 0 {
			refused = append(refused, n.Min-1)
		}
		if n.Max > 0 {
			refused, taken = append(refused, n.Max+1), append(taken, n.Max)
		}
		for _, v := range append(refused, taken...) {
			shown := n.Show(v)
			value, _ := json.Marshal(shown)
			if n.Int != nil {
				value = []byte(shown)
			}
			var c Config
			if err := json.Unmarshal([]byte(`{"`+n.Option+`": `+string(value)+`}`), &c); err != nil {
				t.Fatal(err)
			}
			_, fromJSON := c.Settings()
			d := caddyfile.NewTestDispenser("pumping_guard {\n" + n.Option + " " + shown + "\n}")
			d.Next() // at the option's name, as the gate's parser leaves it
			fromCaddyfile := new(Config).UnmarshalCaddyfile(d)
			if v >= n.Min && (n.Max == 0 || v <= n.Max) {
				if fromJSON != nil || fromCaddyfile != nil {
					t.Errorf("%s %s, in range, refused: JSON %v; Caddyfile %v", n.Option, shown, fromJSON, fromCaddyfile)
				}
				continue
			}
			if fromJSON == nil || !strings.HasPrefix(fromJSON.Error(), "pumping_guard: "+n.Option+" must be ") {
				t.Errorf("%s %s from JSON: %v", n.Option, shown, fromJSON)
				continue
			}
			if fromCaddyfile == nil || !strings.Contains(fromCaddyfile.Error(), fromJSON.Error()+", at Testfile:2") {
				t.Errorf("%s %s from the Caddyfile: %v; want JSON's words (%q) and line 2", n.Option, shown, fromCaddyfile, fromJSON)
			}
		}
	}
}

// TestDocumentedRangesAreTheTables: each of the guard's numbers with a
// maximum states its range, the table's, in its JSON field's doc.
func TestDocumentedRangesAreTheTables(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		if field, ok := n.(*ast.Field); ok && field.Tag != nil {
			tag, _ := strconv.Unquote(field.Tag.Value)
			name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
			docs[name] = strings.Join(strings.Fields(field.Doc.Text()), " ")
		}
		return true
	})
	short := func(n cfutil.Number, v time.Duration) string { // 1m, 24h: as the docs write them
		return strings.TrimSuffix(strings.TrimSuffix(n.Show(v), "0s"), "0m")
	}
	for _, n := range new(Config).numbers() {
		if want := short(n, n.Min) + " to " + short(n, n.Max); n.Max > 0 && !strings.Contains(docs[n.Option], want) {
			t.Errorf("%s's doc does not say %q: %q", n.Option, want, docs[n.Option])
		}
	}
}
