package signin

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestMain lets eight parallel tests run at once, not GOMAXPROCS: the race
// tests (storetest.Interleaver) mostly wait, on a held store call, on
// Badger's fsyncs or on Redis's round trips, not compute.
func TestMain(m *testing.M) {
	harness.Parallel(8)
	harness.Main(m)
}
