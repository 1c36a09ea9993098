package pages_test

import (
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
)

// TestMain runs the tests through this binary's own Caddy (see sitetest).
// The pages in a real browser are tested in ../browser.
func TestMain(m *testing.M) { sitetest.Main(m) }

// The knobs a test turns in its site's Caddy (Site.Set), wherever that
// Caddy runs.
func init() {
	// How long the pages wait for a POST's body (a duration).
	sitetest.Knob("body-time", func(value string) (func(), error) {
		d, err := time.ParseDuration(value)
		if err != nil {
			return nil, err
		}
		return pages.ShortenBodyTime(d), nil
	})
}
