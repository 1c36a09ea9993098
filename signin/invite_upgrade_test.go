package signin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAnInviteAndAFlowOfThePreviousRelease: the previous release wrote
// invites without "made" and flow cookies without "ina". Such an invite
// still enrolls a user never reset or revoked, and none once they were;
// the flow that accepted it stays valid the same way (a flow of this
// release's, which names its invitee: the previous release's enrolls
// nobody, as it cannot say whom its invite was for). Its flow's
// InvitedAt is 0, as the previous release's flows read (not the overflow
// of a zero time's UnixNano, which is undefined).
func TestAnInviteAndAFlowOfThePreviousRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	s := newServiceOn(st, LoginForm{})
	var revoked time.Time
	s.Revoked = func(*store.Batch, string, string) func() (time.Time, error) {
		return func() (time.Time, error) { return revoked, nil }
	}
	oldInvite := func(token string) {
		t.Helper()
		sum := sha256.Sum256([]byte(token))
		raw := `{"user":"gina","expires":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano) + `"}`
		if err := st.Put(ctx, store.Key("invite", "r", hex.EncodeToString(sum[:])), []byte(raw), time.Hour); err != nil {
			t.Fatal(err)
		}
	}

	oldInvite("never-revoked")
	f := &Flow{}
	step, err := s.AcceptInvite(ctx, "r", f, "never-revoked", "")
	if err != nil || step != Enroll {
		t.Fatalf("an earlier release's invite for a user never revoked: %v %v", step, err)
	}
	if f.InvitedAt != 0 {
		t.Errorf("a flow that accepted an earlier release's invite: InvitedAt %d, want 0", f.InvitedAt)
	}
	// An earlier release's flow cookie: inv, no ina.
	if step, err := s.Next(ctx, "r", &Flow{User: "gina", Invitee: "gina"}, "gina"); err != nil || step != Enroll {
		t.Fatalf("an earlier release's invited flow, user never revoked: %v %v", step, err)
	}
	// The previous release's: no ivu either. It cannot say whom its invite
	// was for (a login form may have taken another name since): it
	// enrolls nobody.
	prev := new(Flow)
	if err := json.Unmarshal([]byte(`{"usr":"gina","inv":true}`), prev); err != nil {
		t.Fatal(err)
	}
	if step, err := s.Next(ctx, "r", prev, "gina"); err != nil || step == Enroll {
		t.Fatalf("the previous release's invited flow, which names no invitee: %v %v", step, err)
	}

	revoked = time.Now()
	oldInvite("revoked")
	if _, err := s.AcceptInvite(ctx, "r", &Flow{}, "revoked", ""); !errors.Is(err, enrollment.ErrInviteEnded) {
		t.Fatalf("an earlier release's invite for a user revoked since: %v", err)
	}
	old := &Flow{User: "gina", Invitee: "gina"}
	if step, err := s.Next(ctx, "r", old, "gina"); err != nil || step == Enroll || old.Invitee != "" {
		t.Fatalf("an earlier release's invited flow, user revoked since: %v %v (invited as %q)", step, err, old.Invitee)
	}
}
