package signin

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestARekeyAfterHerLineWasDeletedEndsWhatItsNumberAdded (final16 M-A):
// a reload deletes carol's line, and the gate adopts a new secret before
// the settle: the re-keying, which went through the users the config
// names only, left her record under the old key, and the settle, unable
// to read it, deleted it and ended nothing: X, added from her number's
// session, stayed. Now a deleted line's record is re-keyed as lost.
func TestARekeyAfterHerLineWasDeletedEndsWhatItsNumberAdded(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s := rekeyFixture(t, st, map[string][]string{"carol": {rekeyA}})
		x := enrollment.Device{ID: "x", Kind: factor.Phone, Phone: "+14155559001", Name: "X", AddedBy: s.numberMark(rekeyA)}
		y := enrollment.Device{ID: "y", Kind: factor.Phone, Phone: "+14155559002", Name: "Y"}
		raw, _ := json.Marshal([]enrollment.Device{x, y})
		if err := st.Put(ctx, store.Key("device", "r", "carol"), raw, 0); err != nil {
			t.Fatal(err)
		}
		none := map[string][]string{}
		s.GiveNumbers(none) // a reload deletes carol's line
		s.Rekey("r", []byte(rekeyNew))
		if err := SettleProvisioned(ctx, "r", time.Time{}, []*Service{s}, none); err != nil {
			t.Fatal(err)
		}
		list, err := s.Devices.List(ctx, "r", "carol")
		if err != nil || len(list) != 1 || list[0].ID != "y" {
			t.Errorf("her devices after the re-keying and the settle: %v %v; want Y alone (X came from the number deleted)", list, err)
		}
	})
}

// TestASettleBeforeTheRekeysTurnWaitsForIt (final16 M-B): a reload took A
// away and its settle is retrying; the gate adopts a new secret, whose
// re-keying waits for its turn; the settle's retry, taking the realm's
// lock first, hashed with the new key, found the old key's record and
// wrote over it, ending nothing; the re-keying then found no record of
// its old key: X stayed. Now a settle meeting a record of a key the gate
// is re-keying from is refused (errSettleRaced) and settles after it.
func TestASettleBeforeTheRekeysTurnWaitsForIt(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s := rekeyFixture(t, st, map[string][]string{"carol": {rekeyA, rekeyB}})
		only := map[string][]string{"carol": {rekeyB}}
		s.GiveNumbers(only)
		turn, finished := make(chan struct{}), make(chan struct{})
		s.RekeyTurn = func(context.Context) (func(), bool) { <-turn; return func() { close(finished) }, true }
		s.RekeyOn = func() bool { return true }
		s.Rekey("r", []byte(rekeyNew))                                    // adopted: the re-keying waits for its turn
		_ = SettleProvisioned(ctx, "r", time.Time{}, []*Service{s}, only) // the settle's retry, first
		close(turn)
		<-finished
		if err := SettleProvisioned(ctx, "r", time.Time{}, []*Service{s}, only); err != nil { // its retry
			t.Fatal(err)
		}
		if list, err := s.Devices.List(ctx, "r", "carol"); err != nil || len(list) != 0 {
			t.Errorf("her devices: %v %v; want none (X came from A, which the reload took away)", list, err)
		}
	})
}
