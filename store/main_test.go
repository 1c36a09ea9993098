package store_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestMain runs more tests at once than there are CPUs: most of them wait
// on redis-server processes (a cluster's start, a second for expiries).
func TestMain(m *testing.M) {
	harness.Parallel(8)
	harness.Main(m)
}
