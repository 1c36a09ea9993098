package admin

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// mintedFailsOnce fails the second read of ivy's index of the invites she
// minted (the first is the read of whether she holds anything), once.
type mintedFailsOnce struct {
	store.Store
	reads atomic.Int32
}

func (s *mintedFailsOnce) Get(ctx context.Context, key string) ([]byte, error) {
	if key == endkeys.MintedInvites("r", "ivy") && s.reads.Add(1) == 2 {
		return nil, errors.New("the store went away at 10.0.0.7:6379")
	}
	return s.Store.Get(ctx, key)
}

// TestAResetStoppedPartWaySaysTryAgain (adminops38): through the admin
// API's operation (and so the console's and the CLI's), a reset of ivy,
// an admin with a phone who minted an invite at the console, that the
// store stops at the end of her invites (her phone gone already) answers
// 503 and "try again", not the store's words, and audits nothing; asked
// again, it answers the reset, invites_ended 1, audited once as
// admin_reset with the admin who asked. On Badger and Redis.
func TestAResetStoppedPartWaySaysTryAgain(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		failing := &mintedFailsOnce{Store: st}
		_, dev, adm := enrollment.New(&enrollment.Core{Store: failing, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now}, enrollment.Challenges{})
		if _, _, err := dev.AddIn(ctx, "r", "ivy", "+14155550101", "Phone", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := adm.NewInviteFrom(ctx, "r", "ned", "ivy", nil, time.Hour); err != nil {
			t.Fatal(err)
		}
		var audited []string
		req := Request{Realm: "r", User: "ivy", by: "root", audit: func(event, user, _ string, _ ...zap.Field) { audited = append(audited, event+" "+user) }}
		_, err := adminOp(ctx, adm, nil, nil, "", "", "reset", req)
		var ae caddy.APIError
		if !errors.As(apiError(err), &ae) || ae.HTTPStatus != http.StatusServiceUnavailable || ae.Message != errStoreDown {
			t.Fatalf("a reset the store stopped part way: %v (%#v); want 503, %q", err, ae, errStoreDown)
		}
		if list, err := dev.List(ctx, "r", "ivy"); err != nil || len(list) != 0 || len(audited) != 0 {
			t.Fatalf("after it: her phones %v, %v, audited %v; want her phone gone (part way), nothing audited", list, err, audited)
		}
		out, err := adminOp(ctx, adm, nil, nil, "", "", "reset", req)
		m, _ := out.(map[string]any)
		if err != nil || m["reset"] != "ivy" || m[InvitesEnded] != "1" || len(audited) != 1 || audited[0] != "admin_reset ivy" {
			t.Fatalf("the reset asked again: %v, %v, audited %v; want reset, invites_ended 1, audited once", out, err, audited)
		}
	})
}
