package signin

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// withPhone gives the rig's ends mallory's devices (on the rig's store,
// which fails where told), and her a phone; it returns them.
func (r *endsRig) withPhone(t *testing.T) *enrollment.Devices {
	t.Helper()
	_, dev, _ := enrollment.New(&enrollment.Core{Store: r.st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now}, enrollment.Challenges{})
	if _, _, err := dev.AddIn(context.Background(), "r", "mallory", "+14155550101", "Phone", ""); err != nil {
		t.Fatal(err)
	}
	r.ends.Devices = dev
	return dev
}

// listed counts mallory's sessions listed (those nothing has ended).
func listed(t *testing.T, r *endsRig) int {
	t.Helper()
	list, err := session.Sessions(context.Background(), r.st.Store, "r", "mallory", r.ends.Now())
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// phones counts mallory's devices.
func phones(t *testing.T, dev *enrollment.Devices) int {
	t.Helper()
	list, err := dev.List(context.Background(), "r", "mallory")
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// TestResetAndRevokeAreOneStepEach (adminops38, #23): the admin's reset
// and revoke of mallory, an admin (a phone, a trusted browser a thief
// signed in from, and two invites minted at the console), are each one
// step of signin's: every trust and session of hers ends, and every
// invite she minted (the thief's and her own), her phone too where it is
// a reset; one admin_reset or admin_revoke names the admin who asked and
// invites_ended 2, and the answer says she held something. A name that
// held nothing (a typo) is done all the same, answered Held false (the
// admin's 404) and audited nowhere: the choice the admin made before, in
// admin/ops.go, kept. On Badger and Redis.
func TestResetAndRevokeAreOneStepEach(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"admin_reset", "admin_revoke"} {
		storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
			ctx := context.Background()
			r := newEndsRig(t, st, false)
			dev := r.withPhone(t)
			step := r.ends.Revoke
			if op == "admin_reset" {
				step = r.ends.Reset
			}
			ended, err := step(ctx, "mallory", "root")
			if err != nil || !ended.Held || ended.Minted.Ended != 2 {
				t.Fatalf("%s: %+v, %v; want her held, both invites ended", op, ended, err)
			}
			if !r.withdrawn(t, "mal") || !r.withdrawn(t, "ned") || listed(t, r) != 0 || !r.thiefOut() {
				t.Errorf("%s: mal's invite ended %v, ned's %v, %d sessions listed, the thief out %v; want both ended, none, out", op, r.withdrawn(t, "mal"), r.withdrawn(t, "ned"), listed(t, r), r.thiefOut())
			}
			if trusts, err := r.m.TrustedBrowsers(ctx, "mallory"); err != nil || len(trusts) != 0 {
				t.Errorf("%s: her trusts after: %v, %v; want none", op, trusts, err)
			}
			if n, want := phones(t, dev), map[string]int{"admin_reset": 0, "admin_revoke": 1}[op]; n != want {
				t.Errorf("%s: she has %d phones; want %d", op, n, want)
			}
			r.wantAudit(t, op, map[string]any{"user": "mallory", "by": "root", "invites_ended": int64(2)})
			ended, err = step(ctx, "nobody", "root")
			if err != nil || ended.Held || len(r.audited) != 1 {
				t.Errorf("%s of a name that held nothing: %+v, %v, audited %v; want Held false, nothing audited", op, ended, err, r.audited[1:])
			}
		})
	}
}

// TestAResetStoppedPartWayIsDoneWhenAskedAgain (adminops38): the store
// fails at the reset's end of the invites mallory minted (her index's
// read), once her phone went and her sessions ended: the step answers
// the store's error (the admin: 503, "try again", admin's
// TestAResetStoppedPartWaySaysTryAgain), audits nothing, and leaves her
// invites, the thief's too, live. Asked again, she is found by her index
// (Held), both invites end, and the reset is audited once. The same for
// a revoke. On Badger and Redis.
func TestAResetStoppedPartWayIsDoneWhenAskedAgain(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"admin_reset", "admin_revoke"} {
		storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
			ctx := context.Background()
			r := newEndsRig(t, st, false)
			dev := r.withPhone(t)
			if n := listed(t, r); n != 2 {
				t.Fatalf("%d sessions of hers listed before; want 2 (hers and the thief's)", n)
			}
			step := r.ends.Revoke
			if op == "admin_reset" {
				step = r.ends.Reset
			}
			r.st.pass.Store(1) // whether she held anything: read
			r.st.failNext.Store(true)
			if _, err := step(ctx, "mallory", ""); err == nil {
				t.Fatalf("%s whose invites failed: no error", op)
			}
			if r.st.failNext.Load() {
				t.Fatalf("%s failed before it read her index", op)
			}
			// Part way: her sessions and (a reset's) her phone are gone.
			if len(r.audited) != 0 || listed(t, r) != 0 || !r.thiefOut() || r.withdrawn(t, "mal") || (op == "admin_reset") != (phones(t, dev) == 0) {
				t.Fatalf("%s after the failure: audited %v, %d sessions listed, mal's invite ended %v, %d phones", op, r.audited, listed(t, r), r.withdrawn(t, "mal"), phones(t, dev))
			}
			ended, err := step(ctx, "mallory", "")
			if err != nil || !ended.Held || ended.Minted.Ended != 2 {
				t.Fatalf("%s asked again: %+v, %v; want her held, both invites ended", op, ended, err)
			}
			if !r.withdrawn(t, "mal") || !r.withdrawn(t, "ned") {
				t.Errorf("%s asked again: mal's invite ended %v, ned's %v; want both", op, r.withdrawn(t, "mal"), r.withdrawn(t, "ned"))
			}
			r.wantAudit(t, op, map[string]any{"user": "mallory", "invites_ended": int64(2)})
			if _, by := r.audited[0]["by"]; by {
				t.Errorf("%s by the admin API: audited with a by, %v", op, r.audited[0])
			}
		})
	}
}
