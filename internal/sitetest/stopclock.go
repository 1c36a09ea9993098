package sitetest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// StopClock stops the site's gates' clock where it is, until the test
// ends: from then on only Advance moves it, so that what the test does
// between two Advances happens at one instant however long it takes on
// a loaded machine (a test of what one second holds). The product's
// waits (timers, the store's polls) still run on the real time.
func (s *Site) StopClock() {
	s.t.Helper()
	at := time.Now().UnixNano()
	s.Set("clock", "stop "+strconv.FormatInt(at, 10))
	if s.p != nil {
		s.p.stopped.Store(at)
	}
}

// The knob "clock" stops the gates' clock: "stop UNIXNANO", the real
// time it stops at (StopClock).
func init() {
	Knob("clock", func(value string) (func(), error) {
		ns, ok := strings.CutPrefix(value, "stop ")
		at, err := strconv.ParseInt(ns, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("not stop UNIXNANO: %q", value)
		}
		gates.Stop(time.Unix(0, at))
		return gates.Run, nil
	})
}
