package enrollment

import (
	"context"
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

// NewRecoveryCodes gives user a fresh set of recovery codes in place of
// any (RenewRecoveryCodes), for the tests; the gate makes a user's first
// set with FirstRecoveryCodes.
func (s *Devices) NewRecoveryCodes(ctx context.Context, realm, user string) ([]string, error) {
	r, err := s.RenewRecoveryCodes(ctx, realm, user)
	if err != nil {
		return nil, err
	}
	return r.Codes, nil
}
