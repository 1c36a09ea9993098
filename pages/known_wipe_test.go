package pages_test

import (
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAWipeMakesNoEndedBrowserKnownAgain: the thief's browser stopped
// being alice's known browser (the admin ended its session); then Redis
// restarts without persistence and forgets everything, the end's mark with
// it (no export carries those), and the admin gives alice her phone again.
// The thief's browser must stay a stranger's: refused with the strangers
// once they fill alice's window, never given hers. A browser is known only
// by a cookie issued in the store's epoch, which the wipe renewed. (Before,
// the thief's old cookie counted as alice's again: its guess checked, 400,
// past the strangers' full window.)
func TestAWipeMakesNoEndedBrowserKnownAgain(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.Start(t)
	knownEndedOn(t, "redis "+r.Addr, func(s *sitetest.Site, thief *sitetest.Client, admin func(path, body string)) {
		admin("/smsgate/sessions/end", `{"realm":"localhost","user":"alice","id":"`+alicesSessionsOf(t, s, 1)[0]+`"}`)
		r.Restart() // no persistence: the store forgets all it held
		s.Advance(time.Second)
		admin("/smsgate/users", `{"realm":"localhost","user":"alice","phone":"+14155552672"}`)
	}, false, false)
}
