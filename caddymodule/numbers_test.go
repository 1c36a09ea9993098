package caddymodule

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

// TestNumbersAreRefusedAlike walks the table of numbers (Gate.numbers):
// for each option, the values just out of its range (and a negative one)
// are refused by the Caddyfile, with the option's line, and by a JSON
// config's check, naming the field, in the same words; its bounds are
// taken by both. 0 is left out: in JSON it is the option not given.
func TestNumbersAreRefusedAlike(t *testing.T) {
	numbers := new(Gate).numbers()
	if len(numbers) < 12 {
		t.Fatalf("the table has %d numbers", len(numbers))
	}
	for _, n := range numbers {
		unit := time.Duration(1) // a count's, or a duration's: 1ns
		refused, taken := []time.Duration{-unit}, []time.Duration{n.Min}
		if below := n.Min - unit; below > 0 {
			refused = append(refused, below)
		}
		if n.Max > 0 {
			refused, taken = append(refused, n.Max+unit), append(taken, n.Max)
		}
		for _, v := range append(refused, taken...) {
			want := ""
			if v < n.Min || (n.Max > 0 && v > n.Max) {
				want = n.Option + " must be "
			}
			shown := n.Show(v)
			fromJSON := jsonCheck(t, n, shown)
			fromCaddyfile := adaptError(n.Option + " " + shown)
			if want == "" {
				if fromJSON != nil || fromCaddyfile != nil {
					t.Errorf("%s %s, in range, refused: JSON %v; Caddyfile %v", n.Option, shown, fromJSON, fromCaddyfile)
				}
				continue
			}
			var opt *cfutil.OptionError
			if !errors.As(fromJSON, &opt) || opt.Key != n.Option || !strings.HasPrefix(opt.Error(), want) {
				t.Errorf("%s %s from JSON: %v; want an error of option %s, %q…", n.Option, shown, fromJSON, n.Option, want)
				continue
			}
			if fromCaddyfile == nil || !strings.Contains(fromCaddyfile.Error(), "Caddyfile:4") || !strings.Contains(fromCaddyfile.Error(), opt.Error()) {
				t.Errorf("%s %s from the Caddyfile: %v; want JSON's words (%q) and line 4", n.Option, shown, fromCaddyfile, opt.Error())
			}
		}
	}
}

// jsonCheck is what a JSON config's check (as Provision runs it) says of
// a gate whose option n is v.
func jsonCheck(t *testing.T, n cfutil.Number, v string) error {
	t.Helper()
	value, _ := json.Marshal(v) // a duration, as a string
	if n.Int != nil {
		value = []byte(v)
	}
	var g Gate
	cfg := `{"realm": "localhost", "identity": "none", "providers": [{"provider": "log"}], "` + n.Option + `": ` + string(value) + `}`
	if err := json.Unmarshal([]byte(cfg), &g); err != nil {
		t.Fatalf("%s: %v", cfg, err)
	}
	return new(gate).check(g.withDefaults())
}

// adaptError is the error of adapting a Caddyfile whose gate has option
// on line 4.
func adaptError(option string) error {
	cfg := "localhost {\n\tsmsgate {\n\t\tidentity none\n\t\t" + option + "\n\t\tprovider log\n\t}\n}\n"
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
	return err
}

// TestREADMERangesAreTheTables: a range the docs state for a number
// option is the table's (Gate.numbers), so that no number in a doc drifts
// from the code: in README.md's option block (and UnmarshalCaddyfile's
// godoc, the same block), its table's row, its examples' comments, and
// the JSON field's doc comment. An option with a maximum states it in
// each.
func TestREADMERangesAreTheTables(t *testing.T) {
	t.Parallel()
	readme := readDoc(t, "README.md")
	block := syntaxBlock(t, readme, "smsgate [<matcher>] {")
	fields := fieldDocs(t)
	// The lines the patterns below can match (see tableRows): the
	// table's rows, and the examples' lines with a comment.
	rows := tableRows(readme)
	comments := linesWhere(readme, func(line string) bool { return strings.Contains(line, "#") })
	for _, n := range new(Gate).numbers() {
		show := func(v time.Duration) string {
			if n.Int != nil {
				return n.Show(v)
			}
			return caddyDuration(caddy.Duration(v))
		}
		places := map[string]string{"the JSON field's doc": fields[n.Option]}
		for _, line := range block {
			if strings.Fields(line)[0] == n.Option {
				places["the option block"] = line
			}
		}
		if m := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(n.Option) + "[` ].*$").FindString(rows); m != "" {
			places["the table"] = m
		}
		for i, m := range regexp.MustCompile("(?m)^\\s*"+regexp.QuoteMeta(n.Option)+" .*#(.*)$").FindAllStringSubmatch(comments, -1) {
			places["example "+strconv.Itoa(i+1)] = m[1]
		}
		for where, text := range places {
			min, max := statedRange(strings.ReplaceAll(text, "`", ""))
			if min != "" && min != show(n.Min) {
				t.Errorf("%s: %s states %s as its least, the table %s", n.Option, where, min, show(n.Min))
			}
			if max != "" && (n.Max == 0 || max != show(n.Max)) {
				t.Errorf("%s: %s states %s as its most, the table %s", n.Option, where, max, show(n.Max))
			}
			if max == "" && n.Max > 0 && !strings.HasPrefix(where, "example") {
				t.Errorf("%s: %s does not state its range (%s to %s): %q", n.Option, where, show(n.Min), show(n.Max), text)
			}
		}
	}
}

// statedRange is the least and the most a doc's text states: "6 to 10",
// "from 1s to 1h", "30s–10m", "at least 1s", "at most 100".
func statedRange(text string) (min, max string) {
	if m := regexp.MustCompile(`(-?\d+[a-z]*) ?(?:to|–) ?(\d+[a-z]*)`).FindStringSubmatch(text); m != nil {
		return m[1], m[2]
	}
	if m := regexp.MustCompile(`at least (\d+[a-z]*)`).FindStringSubmatch(text); m != nil {
		min = m[1]
	}
	if m := regexp.MustCompile(`(?:at most|maximum:) (\d+[a-z]*)`).FindStringSubmatch(text); m != nil {
		max = m[1]
	}
	return min, max
}

// fieldDocs is the doc comment of each of Gate's fields, by its JSON name.
func fieldDocs(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.TypeSpec)
		if !ok || spec.Name.Name != "Gate" {
			return true
		}
		for _, field := range spec.Type.(*ast.StructType).Fields.List {
			if field.Tag == nil {
				continue
			}
			tag, _ := strconv.Unquote(field.Tag.Value)
			name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
			docs[name] = strings.Join(strings.Fields(field.Doc.Text()), " ")
		}
		return false
	})
	return docs
}

// TestLimitsAreRefusedAlike: each limit's count and window are refused by
// the Caddyfile, with the line, and by a JSON config's check, naming the
// limit, in the same words (enrollment.Rate.Check); 0 is off in both
// (but for guesses, refused alike).
func TestLimitsAreRefusedAlike(t *testing.T) {
	for _, name := range enrollment.LimitNames {
		for _, c := range []struct {
			count  int
			window string
			ok     bool
		}{{-1, "1h", false}, {1, "-1h", false}, {0, "-1h", false}, {1, "0s", false}, {0, "0s", true}, {0, "1h", true}, {1, "24h", true}} {
			window, _ := json.Marshal(c.window)
			var g Gate
			cfg := `{"realm": "localhost", "identity": "none", "providers": [{"provider": "log"}], "limits": {"` + name + `": {"count": ` + strconv.Itoa(c.count) + `, "window": ` + string(window) + `}}}`
			if err := json.Unmarshal([]byte(cfg), &g); err != nil {
				t.Fatal(err)
			}
			fromJSON := new(gate).check(g.withDefaults())
			fromCaddyfile := adaptError("limit " + name + " " + strconv.Itoa(c.count) + " " + c.window)
			if fromJSON == nil {
				if !c.ok || fromCaddyfile != nil {
					t.Errorf("limit %s %d %s: JSON took it; the Caddyfile: %v", name, c.count, c.window, fromCaddyfile)
				}
				continue
			}
			// Taken, but for guesses, which cannot be off (its odds).
			var opt *cfutil.OptionError
			if !errors.As(fromJSON, &opt) || opt.Key != "limit "+name || (c.ok && name != "guesses") {
				t.Errorf("limit %s %d %s from JSON: %v; want an error of limit %s", name, c.count, c.window, fromJSON, name)
				continue
			}
			if fromCaddyfile == nil || !strings.Contains(fromCaddyfile.Error(), opt.Error()+", at Caddyfile:4") {
				t.Errorf("limit %s %d %s from the Caddyfile: %v; want JSON's words (%q) and line 4", name, c.count, c.window, fromCaddyfile, opt.Error())
			}
		}
	}
}
