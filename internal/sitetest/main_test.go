package sitetest

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestMain runs the hold store's tests through the harness, as every
// package's tests are: a folder of their own, and the redis-servers
// they start stopped at exit.
func TestMain(m *testing.M) { harness.Main(m) }
