package session

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
)

// TestEndDeviceEndsWhatTheDeviceEarned: the removal of alice's lost phone
// ends the sessions and trusts it earned and those of the release before
// the claim (which name no device), with the sessions of the trusts it
// ends; a session and a trust another phone earned stay, so does one no
// device earned (a recovery code's), and so do the session that asked for
// the removal and its trust, though that phone earned them.
func TestEndDeviceEndsWhatTheDeviceEarned(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	m, st := newManager(t, "HS256", &now)
	lost, kept, none := "lost", "kept", ""
	trust := func(device string) *TrustedBrowser {
		t.Helper()
		_, tb, err := m.Trust(ctx, Began{}, "alice", "", "", "a browser", device, []factor.AMR{factor.AMRSMS}, now.Unix(), 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	issue := func(w Where) (string, *Claims) {
		t.Helper()
		tok, _, err := m.IssueBegun(ctx, Began{}, "alice", []factor.AMR{factor.AMRSMS}, w)
		if err != nil {
			t.Fatal(err)
		}
		cl, err := m.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		return tok, cl
	}
	tLost, tKept, tOld, tKeep := trust(lost), trust(kept), trust(kept), trust(lost)
	sLost, _ := issue(Where{Device: &lost})
	sKept, _ := issue(Where{Device: &kept})
	sNone, _ := issue(Where{Device: &none})
	sOld, oldCl := issue(Where{})
	sOfTrust, _ := issue(Where{Trust: tLost.ID, Device: &kept}) // a code of kept in a browser lost's trust holds
	sKeep, keep := issue(Where{Trust: tKeep.ID, Device: &lost})
	// The previous release's: no device in the index, nor in the trust.
	if err := editIndex(ctx, st, "example.com", "alice", now, func(list []Info) []Info {
		for i := range list {
			if list[i].SID == oldCl.SID {
				list[i].Where.Device = nil
			}
		}
		return list
	}); err != nil {
		t.Fatal(err)
	}
	list, err := m.TrustedBrowsers(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for i := range list {
		if list[i].ID == tOld.ID {
			list[i].Device = nil
		}
	}
	raw, _ := json.Marshal(list)
	if err := st.Put(ctx, trustedKey("example.com", "alice"), raw, time.Hour); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	if err := EndDevice(ctx, st, "example.com", "alice", lost, keep, now); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"the lost phone's": sLost, "the previous release's": sOld, "its trust's": sOfTrust} {
		if m.Check(ctx, tok) != nil {
			t.Errorf("%s session outlived the removal", name)
		}
	}
	for name, tok := range map[string]string{"another phone's": sKept, "no device's": sNone, "the removing": sKeep} {
		if m.Check(ctx, tok) == nil {
			t.Errorf("%s session ended with the removal", name)
		}
	}
	if list, err = m.TrustedBrowsers(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, tb := range list {
		left = append(left, tb.ID)
	}
	if want := []string{tKept.ID, tKeep.ID}; !slices.Equal(left, want) {
		t.Errorf("trusts left %v, want another phone's and the removing session's %v", left, want)
	}
}
