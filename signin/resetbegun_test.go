package signin

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAStoreOfTheReleaseBeforeResetsAsBefore (redesign39's reset-begun/
// record), on Badger on disk and a real Redis: a store as 9356213 left
// it, which holds no reset-begun/ record — rosa with one phone, mallory
// an admin with her sessions, trusts and minted invites (endsRig) — is
// reset as before: each found (Held), reset, audited once as admin_reset,
// and no reset-begun/ record is left behind; a name that held nothing (a
// typo) is Held false, audited nowhere, and writes no such record (its
// reset asked again is Held false too). A reset that release left half
// done, her every record gone, is Held false as then (no record says it
// began).
func TestAStoreOfTheReleaseBeforeResetsAsBefore(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		r := newEndsRig(t, st, false)
		r.withPhone(t)
		if _, _, err := r.ends.Devices.AddIn(ctx, "r", "rosa", "+14155550102", "Phone", ""); err != nil {
			t.Fatal(err)
		}
		begun := func(user string) bool {
			_, err := st.Get(ctx, store.Key("reset-begun", "r", user))
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
			return err == nil
		}
		for i, user := range []string{"rosa", "mallory"} {
			ended, err := r.ends.Reset(ctx, user, "root")
			if err != nil || !ended.Held || len(r.audited) != i+1 || r.audited[i]["event"] != "admin_reset" || r.audited[i]["user"] != user {
				t.Fatalf("the reset of %s: %+v, %v, audited %v; want Held, admin_reset of her", user, ended, err, r.audited)
			}
			if begun(user) {
				t.Errorf("the reset of %s left its reset-begun/ record", user)
			}
		}
		for range 2 {
			if ended, err := r.ends.Reset(ctx, "nobody", "root"); err != nil || ended.Held || len(r.audited) != 2 || begun("nobody") {
				t.Fatalf("a reset of a name that held nothing: %+v, %v, audited %v, reset-begun/ %v; want Held false, nothing audited nor written", ended, err, r.audited[2:], begun("nobody"))
			}
		}
		// The release before's reset, stopped after ivy's only phone went:
		// nothing of hers is left, nor any record that it began.
		_, dev, _ := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now}, enrollment.Challenges{})
		if _, _, err := dev.AddIn(ctx, "r", "ivy", "+14155550103", "Phone", ""); err != nil {
			t.Fatal(err)
		}
		if err := dev.ResetUser(ctx, "r", "ivy"); err != nil {
			t.Fatal(err)
		}
		if ended, err := r.ends.Reset(ctx, "ivy", "root"); err != nil || ended.Held || len(r.audited) != 2 {
			t.Errorf("the reset asked again of ivy, stopped part way by the release before: %+v, %v, audited %v; want Held false, as then", ended, err, r.audited[2:])
		}
	})
}
