package caddymodule

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig"

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
	g.gate = new(gate)
	g.setDefaults()
	return g.check()
}

// adaptError is the error of adapting a Caddyfile whose gate has option
// on line 4.
func adaptError(option string) error {
	cfg := "localhost {\n\tsmsgate {\n\t\tidentity none\n\t\t" + option + "\n\t\tprovider log\n\t}\n}\n"
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
	return err
}

