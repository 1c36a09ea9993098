package signin

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/recent"
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

// TestARemovalsAuditNamesTheNumberMasked: the audit of a removal
// (device_removed) names the removed phone masked, in the log line and
// the console's recent events, as the text does: a removal that took the
// phone away, and one asked again after the release before's (its owed
// notice, the number whole in the store, read masked). No log line holds
// a whole number.
func TestARemovalsAuditNamesTheNumberMasked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	s := newServiceOn(st, LoginForm{})
	core, logs := observer.New(zap.InfoLevel)
	ring := &recent.Ring{Store: st, Realm: "r"}
	s.Notices, s.Site, s.Logger = new(counted), "Example", zap.New(core)
	s.Audit = (&audit.Log{Logger: zap.New(core), Realm: "r", Recent: ring, Now: time.Now}).Audit
	for _, user := range []string{"dora", "emma"} {
		lost, _, err := s.Devices.AddIn(ctx, "r", user, "+14155550101", "Lost", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Devices.AddIn(ctx, "r", user, "+14155550102", "Kept", ""); err != nil {
			t.Fatal(err)
		}
		if user == "emma" { // the release before's removal, answered as an error
			if _, err := s.Devices.Remove(ctx, "r", user, lost, false); err != nil {
				t.Fatal(err)
			}
			key := store.Key("removal-untold", "r", user, lost)
			if err := st.Put(ctx, key, []byte(`{"device":{"id":"`+lost+`","phone":"+14155550101","enrolled":"0001-01-01T00:00:00Z"}}`), 0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.RemovePhone(ctx, "r", user, lost, nil); err != nil {
			t.Fatal(err)
		}
	}
	removed := logs.FilterMessage("device_removed").All()
	if len(removed) != 2 {
		t.Fatalf("%d device_removed lines, want 2: %v", len(removed), logs.All())
	}
	for i, e := range removed {
		if got, _ := e.ContextMap()["phone"].(string); got != "+1•••••••101" {
			t.Errorf("device_removed %d: phone %q, want +1•••••••101", i, got)
		}
	}
	for _, e := range logs.All() {
		if strings.Contains(fmt.Sprint(e.ContextMap()), "5550101") {
			t.Errorf("a log line holds the whole number: %s %v", e.Message, e.ContextMap())
		}
	}
	events, err := ring.Read(ctx, recent.Filter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var phones []string
	for _, e := range events {
		if e.Kind == "device_removed" {
			phones = append(phones, e.Phone)
		}
	}
	if fmt.Sprint(phones) != fmt.Sprint([]string{"+1•••••••101", "+1•••••••101"}) {
		t.Errorf("the console's device_removed events name %q; want the phone masked, twice", phones)
	}
}
