package enrollment

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestMain lets all the race tests' runs (race_test.go) go at once: each
// spends most of its time waiting, on Badger's fsyncs or on Redis's round
// trips, not computing.
func TestMain(m *testing.M) {
	harness.Parallel(12)
	harness.Main(m)
}
