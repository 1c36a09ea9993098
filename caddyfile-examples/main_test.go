package examples_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestMain runs the tests through this binary's own Caddy (see sitetest).
func TestMain(m *testing.M) { sitetest.Main(m) }
