package signin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// buryFault is a store that fails every write of a record of spent
// recovery codes (spent-recovery/, enrollment's tombstones) while fail is
// set, and nothing else.
type buryFault struct {
	store.Store
	fail atomic.Bool
}

func (f *buryFault) Update(ctx context.Context, k string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if strings.HasPrefix(k, "spent-recovery/") && f.fail.Load() {
		return errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	return f.Store.Update(ctx, k, change)
}

// TestARightRecoveryCodeWhoseRecordFailsSignsIn: alice types a right
// recovery code; the store takes it out of her set, then fails the write
// of her record of spent codes. The code was used: she is signed in (amr
// "recovery"), the code does not work again, and the failure is logged
// (recovery_code_unrecorded, an error) without the code or her number.
// On Badger and on a real Redis. Before, the sign-in was refused (the
// store's error, a 503) with the code gone from her set.
func TestARightRecoveryCodeWhoseRecordFailsSignsIn(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		fault := &buryFault{Store: st}
		b := newResetBench(t, fault, time.Now)
		core, logs := observer.New(zap.InfoLevel)
		b.s.Logger = zap.New(core)
		const user, number = "alice", "+14155550123"
		if _, _, err := b.dev.AddIn(ctx, "r", user, number, "Phone", ""); err != nil {
			t.Fatal(err)
		}
		r, err := b.dev.FirstRecoveryCodes(ctx, "r", user)
		if err != nil || r == nil {
			t.Fatalf("alice's codes: %v", err)
		}
		code := r.Codes[0]
		fault.fail.Store(true)
		res, err := b.s.Check(ctx, resetScope, &Flow{ID: "f1"}, user, nil, code, nil)
		if err != nil || res == nil || res.User != user || len(res.AMR) != 1 || res.AMR[0] != factor.AMRRecovery {
			t.Fatalf("a right code whose record the store failed: %+v, %v; want alice signed in by a recovery code", res, err)
		}
		if left, err := b.dev.RecoveryCodesLeft(ctx, "r", user); err != nil || left != enrollment.RecoveryCount-1 {
			t.Errorf("%d codes left (%v); want %d", left, err, enrollment.RecoveryCount-1)
		}
		for _, failing := range []bool{true, false} {
			fault.fail.Store(failing)
			if _, err := b.s.Check(ctx, resetScope, &Flow{ID: fmt.Sprint("again-", failing)}, user, nil, code, nil); !errors.Is(err, enrollment.ErrWrongRecovery) {
				t.Errorf("the code used, typed again (the record failing: %v): %v; want %v", failing, err, enrollment.ErrWrongRecovery)
			}
		}
		logged := logs.FilterMessage("recovery_code_unrecorded").All()
		if len(logged) != 1 || logged[0].Level != zap.ErrorLevel || logged[0].ContextMap()["event"] != "recovery_code_unrecorded" || logged[0].ContextMap()["user"] != user {
			t.Errorf("logged %+v; want one error recovery_code_unrecorded for alice", logged)
		}
		for _, e := range logs.All() {
			text := fmt.Sprint(e.Message, e.ContextMap())
			for _, secret := range []string{code, strings.ReplaceAll(code, "-", ""), number, number[1:]} {
				if strings.Contains(text, secret) {
					t.Errorf("the log holds %q: %s", secret, text)
				}
			}
		}
	})
}
