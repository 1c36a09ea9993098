package admin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// untoldUnread is a store that cannot read whether a removal's notice is
// owed (removal-untold/).
type untoldUnread struct{ store.Store }

func (s untoldUnread) Get(ctx context.Context, key string) ([]byte, error) {
	if strings.HasPrefix(key, store.Key("removal-untold")) {
		return nil, errors.New("the store failed")
	}
	return s.Store.Get(ctx, key)
}

// TestAStoppedCaddysRemovalSaysItCouldNotTellWhetherANoticeIsOwed: the
// CLI's removal with Caddy stopped, on a store that fails the read of
// whether its notice is owed, removes the device and says it could not
// tell (notice_owed null, and the notice says to remove it again once
// Caddy runs). On Badger and Redis. (Before: notice_owed false, as if
// none were owed: nobody would be told.)
func TestAStoppedCaddysRemovalSaysItCouldNotTellWhetherANoticeIsOwed(t *testing.T) {
	t.Parallel()
	const realm, user = "example.com", "ivy"
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		_, dev, adm := enrollment.New(&enrollment.Core{Store: untoldUnread{st}, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now}, enrollment.Challenges{})
		lost, _, err := dev.AddIn(ctx, realm, user, "+14155550101", "Lost", "")
		if err != nil {
			t.Fatal(err)
		}
		out, err := adminOp(ctx, adm, nil, nil, "", "", "devices/remove", Request{Realm: realm, User: user, ID: lost})
		m, _ := out.(map[string]any)
		if err != nil || m["removed"] != lost || m["notice_owed"] != nil || !strings.Contains(m["notice"].(string), "could not be read") {
			t.Fatalf("the removal with Caddy stopped, the notice unread: %v, %v; want removed, notice_owed null and said", out, err)
		}
	})
}
