package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// The ratios README.md quotes from docs/BENCHMARKS.md are the median
// rounds its side-by-side table gives: the inline gate and nginx's
// auth_request against Caddy's forward_auth.
func TestREADMEQuotesTheBenchmarks(t *testing.T) {
	root := harness.Root(t)
	read := func(name string) string {
		raw, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	readme, bench := read("README.md"), read("docs/BENCHMARKS.md")
	for _, q := range []struct{ ratio, inREADME string }{
		{"b/c", `inline gate serves ([\d.]+)× the requests`},
		{"e/c", `serves ([\d.]+)× \(e/c\)`},
	} {
		said := regexp.MustCompile(q.inREADME).FindStringSubmatch(readme)
		measured := regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(q.ratio) + ` \| ([\d.]+) \|`).FindStringSubmatch(bench)
		if said == nil || measured == nil {
			t.Errorf("%s: README.md says %v, docs/BENCHMARKS.md's table %v", q.ratio, said, measured)
		} else if said[1] != measured[1] {
			t.Errorf("%s: README.md quotes %s×, docs/BENCHMARKS.md measured %s", q.ratio, said[1], measured[1])
		}
	}
}
