package signin

import (
	"context"
	"testing"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAProvisionedRecordOfTheReleaseBeforeIsRead: a store holding the
// record attack6's build wrote (one number: "<key's hash> <number's
// hash>") is read as a set of one. The same number ends nothing and
// leaves the record as it was; a second gate giving carol another number
// adds it and ends nothing; a config no longer giving the first ends her
// sessions.
func TestAProvisionedRecordOfTheReleaseBeforeIsRead(t *testing.T) {
	ctx := context.Background()
	st := storetest.Badger(t)
	s := newServiceOn(st, nil)
	s.Logger = zap.NewNop()
	old := s.Devices.NumberID(keyCheck) + " " + s.Devices.NumberID("+14155552671")
	if err := st.Put(ctx, provisionedKey("r", "carol"), []byte(old), 0); err != nil {
		t.Fatal(err)
	}
	revoked := func() bool {
		t.Helper()
		at, err := session.RevokedBefore(ctx, st, "r", "carol")
		if err != nil {
			t.Fatal(err)
		}
		return !at.IsZero()
	}
	if err := SettleProvisioned(ctx, "r", []*Service{s}); err != nil || revoked() {
		t.Fatalf("the same number as the old record's: %v, revoked %v", err, revoked())
	}
	if v, _ := st.Get(ctx, provisionedKey("r", "carol")); string(v) != old {
		t.Fatalf("the old record rewritten for the same number: %q", v)
	}
	other := newServiceOn(st, nil)
	other.Users = map[string]User{"carol": {Name: "carol", Phone: "+447400123456"}}
	if err := SettleProvisioned(ctx, "r", []*Service{s, other}); err != nil || revoked() {
		t.Fatalf("a number added: %v, revoked %v", err, revoked())
	}
	if err := SettleProvisioned(ctx, "r", []*Service{other}); err != nil || !revoked() {
		t.Fatalf("the old record's number taken away: %v, revoked %v", err, revoked())
	}
}
