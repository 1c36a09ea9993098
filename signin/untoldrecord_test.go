package signin

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestARemovalsOwedNoticeKeepsNoWholeNumber: the notice a removal owes
// (removal-untold/, kept a day) holds the removed phone's number masked,
// as the text shows it, not whole (before: "+14155550101" for a day). A
// record the release before wrote, the number whole (its removal answered
// an error: owed), is still told by the removal asked again after the
// upgrade, the number masked in the text, and written over without it.
func TestARemovalsOwedNoticeKeepsNoWholeNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	s := newServiceOn(st, LoginForm{})
	sent := new(counted)
	s.Notices, s.Site, s.Logger = sent, "Example", zap.NewNop()
	for _, user := range []string{"dora", "emma"} {
		lost, _, err := s.Devices.AddIn(ctx, "r", user, "+14155550101", "Lost", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Devices.AddIn(ctx, "r", user, "+14155550102", "Kept", ""); err != nil {
			t.Fatal(err)
		}
		key := store.Key("removal-untold", "r", user, lost)
		if user == "emma" { // the release before's removal, answered as an error
			if _, err := s.Devices.Remove(ctx, "r", user, lost, false); err != nil {
				t.Fatal(err)
			}
			if err := st.Put(ctx, key, []byte(`{"device":{"id":"`+lost+`","phone":"+14155550101","enrolled":"0001-01-01T00:00:00Z"}}`), 0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.RemovePhone(ctx, "r", user, lost, nil); err != nil {
			t.Fatal(err)
		}
		raw, err := st.Get(ctx, key)
		if err != nil || strings.Contains(string(raw), "5550101") || !strings.Contains(string(raw), "+1•••••••101") || !strings.Contains(string(raw), `"told":true`) {
			t.Errorf("%s: the removal's notice record: %s, %v; want the number masked, told", user, raw, err)
		}
		if len(sent.sent) != 1 || sent.sent[0].To != "+14155550102" || !strings.Contains(sent.sent[0].Body, "(+1•••••••101)") {
			t.Errorf("%s: the texts of the removal: %+v; want one to her phone left, naming the removed one masked", user, sent.sent)
		}
		sent.take()
	}
}
