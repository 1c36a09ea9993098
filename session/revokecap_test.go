package session

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestTheCappedMessageNamesLeeway: the warning of a capped revoke names
// the cap, Leeway, in seconds, whatever Leeway is: it spelt "30 s" apart
// from it (close13). With Leeway made 45 s, it failed on the literal
// and passes on this message (checked).
func TestTheCappedMessageNamesLeeway(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.WarnLevel)
	now := time.Now()
	tellCapped(zap.New(core), t.Name(), "alice", now.Add(Leeway+time.Minute), now) // a realm of its own: capTold
	want := fmt.Sprintf("capped at %d s past", int(Leeway.Seconds()))
	if told := logs.All(); len(told) != 1 || !strings.Contains(told[0].Message, want) {
		t.Errorf("the capped revoke told %v; want once, saying %q", told, want)
	}
}
