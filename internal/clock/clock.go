// Package clock is the time every gate reads: time.Now, unless a test
// binary moved it forward, so that a cooldown or a step-up can be waited
// out without sleeping. Provision hands it to everything it builds.
package clock

import "time"

// Now is the gates' clock. Only a test binary replaces it, in its
// TestMain, before any gate runs (see internal/sitetest).
var Now = time.Now
