package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestWhatANumberEarnedStandsWhereItIsGiven: a session and a trust a
// config's phone earned (their Device its NumberMark) are refused at a
// gate whose config does not give the user that number (CheckNumbers),
// and admitted at one that does; a session of a device, of none (a
// recovery code), or of a release before the mark ("" or no claim) is
// not asked. No device's end is read for a mark. On Badger.
func TestWhatANumberEarnedStandsWhereItIsGiven(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	st := storetest.Badger(t)
	a, b := gatesOn(t, st, &now)
	given := map[string]string{"alice": NumberMark("old")} // b's config
	b.CheckNumbers(func(user, mark string) bool { return given[user] == mark })

	mark, device, none := NumberMark("old"), "d1", ""
	issue := func(d *string) string {
		t.Helper()
		tok, err := a.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{Device: d})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	marked, byDevice, byNone, before := issue(&mark), issue(&device), issue(&none), issue(nil)
	trust, _, err := a.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: "Firefox", System: "Linux"}, mark, []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if b.Check(ctx, marked) == nil {
		t.Fatal("a session of the number the config gives was refused")
	}
	if _, _, err := b.Trusted(ctx, trust); err != nil {
		t.Fatalf("a trust of the number the config gives: %v", err)
	}

	given["alice"] = NumberMark("new") // the admin gives her another number: a new gate, its cache empty
	b.LetGo()
	if b.Check(ctx, marked) != nil {
		t.Error("a session of a number the config no longer gives was admitted")
	}
	if _, _, err := b.Trusted(ctx, trust); !errors.Is(err, ErrNotTrusted) {
		t.Errorf("a trust of a number the config no longer gives: %v", err)
	}
	for name, tok := range map[string]string{"a device's": byDevice, "a recovery code's": byNone, "the release before's": before} {
		if b.Check(ctx, tok) == nil {
			t.Errorf("%s session refused", name)
		}
	}
	if a.Check(ctx, marked) == nil {
		t.Error("refused at a gate that checks no number (CheckNumbers never called)")
	}
	var batch store.Batch
	if readDeviceEnd(&batch, "example.com", &Claims{Device: &mark}) != nil {
		t.Error("a number's mark read as a device's end")
	}
}
