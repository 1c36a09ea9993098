package browser_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestMain runs the tests through this binary's own Caddy (see sitetest),
// and stops the tests' Chromium at the end.
func TestMain(m *testing.M) { sitetest.Main(m, stopChromium) }
