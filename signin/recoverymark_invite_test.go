package signin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestARecoveryCodesMarkEndsNoInvite (review33 F2): a recovery code's use
// marks her record of invites (enrollment.MarkRecovery), and where she had
// none — an invite minted before the record existed — it made one naming
// no ID, which ReadGone took for a newer invite: her pending link was
// refused as replaced. A record holding only a mark says nothing of
// invites; a reset's (endkeys.NoInvite) and a newer invite's still end it.
func TestARecoveryCodesMarkEndsNoInvite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, st := range map[string]store.Store{"badger": storetest.Badger(t), "redis": storetest.Redis(t)} {
		t.Run(name, func(t *testing.T) {
			s := newServiceOn(st, LoginForm{})
			sum := sha256.Sum256([]byte("before-the-record"))
			raw := `{"user":"gina","expires":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano) + `"}`
			if err := st.Put(ctx, store.Key("invite", "r", hex.EncodeToString(sum[:])), []byte(raw), time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := s.Devices.MarkRecovery(ctx, "r", "gina", "a-mark"); err != nil {
				t.Fatal(err)
			}
			if step, err := s.AcceptInvite(ctx, "r", &Flow{}, "before-the-record", ""); err != nil || step != Enroll {
				t.Fatalf("her invite, after a recovery code's mark: %v %v", step, err)
			}
		})
	}
}
