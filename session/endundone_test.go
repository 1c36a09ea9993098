package session

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
)

// TestAnUndoneDeviceEndsOnlyWhatNamesIt (review18 L1): the undo of an
// adding (its session ended while it ran) ends the session and the trust
// the undone app earned, the sessions of that trust, and writes the app's
// end (for a session naming it that no list holds); alice's session and
// trust of the previous release, which name no device, stay: the app
// earned neither. (Before, EndDevice's rule for a removal ended both.)
func TestAnUndoneDeviceEndsOnlyWhatNamesIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	m, st := newManager(t, "HS256", &now)
	app, phone := "app", "phone"
	a := alicesRecords{t, m, st, &now}
	trust, issue := a.trust, a.issue
	tApp, tOld, tPhone := trust(app), trust(phone), trust(phone)
	sApp, _ := issue(Where{Device: &app})
	sOfTrust, _ := issue(Where{Trust: tApp.ID, Device: &phone})
	sPhone, _ := issue(Where{Device: &phone})
	sOld, oldCl := issue(Where{})
	a.ofThePreviousRelease(oldCl.SID, tOld.ID)
	now = now.Add(time.Second)
	if err := EndUndoneDevice(ctx, st, "example.com", "alice", app, now); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"the app's": sApp, "its trust's": sOfTrust} {
		if m.Check(ctx, tok) != nil {
			t.Errorf("%s session outlived the undo", name)
		}
	}
	for name, tok := range map[string]string{"her phone's": sPhone, "the previous release's": sOld} {
		if m.Check(ctx, tok) == nil {
			t.Errorf("%s session ended with the undo", name)
		}
	}
	left := a.trustsLeft()
	if want := []string{tOld.ID, tPhone.ID}; !slices.Equal(left, want) {
		t.Errorf("trusts left %v, want the previous release's and her phone's %v", left, want)
	}
	if e, found, err := parseDeviceEnd(st.Get(ctx, endkeys.Device("example.com", "alice", app))); err != nil || !found || !e.At.Equal(now) || e.Keep != "" {
		t.Errorf("the app's end %+v found %v %v, want at the undo, keeping none", e, found, err)
	}
}
