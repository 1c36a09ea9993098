package pumping

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// The guard's defaults, as README.md's option table and SECURITY.md give
// them, are Defaults: a change of one fails here until the docs say it.
func TestDocumentedDefaultsAreTheCodes(t *testing.T) {
	d := Defaults
	hours := func(x time.Duration) string { return fmt.Sprint(int(x / time.Hour)) }
	percent := fmt.Sprint(int(d.MinConversion*100 + 0.5))
	for _, doc := range []struct{ file, want string }{
		{"README.md", fmt.Sprintf("| `pumping_guard { … }` | on: `window %sh`, `prefix_digits %d`, `prefix_min_sends %d`, `country_min_sends %d`, `min_conversion %s`, `pause %sh`, `grace %d` |",
			hours(d.Window), d.PrefixDigits, d.PrefixMinSends, d.CountryMinSends, percent, hours(d.Pause), d.Grace)},
		{"SECURITY.md", fmt.Sprintf("| `pumping_guard` | a prefix (country code + %d digits) after %d codes in an hour, a country after %d, with fewer than %s%% used → new sends there paused %s hour, doubling within a day, ≤ %s hours; an enrolled number keeps codes until it leaves %d unused in a row |",
			d.PrefixDigits, d.PrefixMinSends, d.CountryMinSends, percent, hours(d.Pause), hours(MaxPause), d.Grace)},
		{"SECURITY.md", fmt.Sprintf("the codes sent and the codes used over a sliding hour, in the store (shared by every instance on one Redis; the counters ride in the batches a send and a check already make). When a prefix has been sent %d codes, or a country %d, and fewer than %s%% were used",
			d.PrefixMinSends, d.CountryMinSends, percent)},
		{"SECURITY.md", fmt.Sprintf("at most %d reach it before the pause", d.PrefixMinSends-1)},
	} {
		raw, err := os.ReadFile("../" + doc.file)
		if err != nil {
			t.Fatal(err)
		}
		if text := strings.Join(strings.Fields(string(raw)), " "); !strings.Contains(text, doc.want) {
			t.Errorf("%s does not say %q", doc.file, doc.want)
		}
	}
	if d.Window != time.Hour {
		t.Errorf("SECURITY.md says a sliding hour; the window is %s", d.Window)
	}
}
