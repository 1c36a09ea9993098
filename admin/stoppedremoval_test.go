package admin

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// replyLost is a store whose write of key, while lose is on, is made and
// answered as an error (a connection dropped before the reply).
type replyLost struct {
	store.Store
	key  string
	lose bool
}

func (s *replyLost) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	err := s.Store.Update(ctx, key, change)
	if err == nil && s.lose && key == s.key {
		return errors.New("the store's reply was lost")
	}
	return err
}

// texts keeps the texts a gate sends.
type texts struct {
	mu   sync.Mutex
	sent []providers.Message
}

func (t *texts) Send(_ context.Context, m providers.Message) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sent = append(t.sent, m)
	return nil
}

// TestAStoppedCaddysRemovalLeavesTheNoticeOwed: the admin removes ivy's
// lost phone through the admin API; the store writes her device list
// without it and the reply is lost (an error: nobody texted, the notice
// owed). With Caddy stopped, the admin removes it again on the store (the
// CLI's remove-device --store), which can text nobody: its answer says so,
// and that the notice stays owed (notice_owed); removed once more through
// a running Caddy, her phone left is texted, once. On Badger and Redis.
// (Before: the stopped Caddy's removal marked the notice told, and the
// removal went unseen.)
func TestAStoppedCaddysRemovalLeavesTheNoticeOwed(t *testing.T) {
	t.Parallel()
	const realm, user = "example.com", "ivy"
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		lossy := &replyLost{Store: st, key: store.Key("device", realm, user)}
		_, dev, adm := enrollment.New(&enrollment.Core{Store: lossy, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now}, enrollment.Challenges{})
		sent := &texts{}
		running := &signin.Service{Devices: dev, Invites: adm, Notices: sent, Site: "Example", Now: time.Now}
		lost, _, err := dev.AddIn(ctx, realm, user, "+14155550101", "Lost", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := dev.AddIn(ctx, realm, user, "+14155550102", "Kept", ""); err != nil {
			t.Fatal(err)
		}
		remove := func(tell *signin.Service) (map[string]any, error) {
			out, err := adminOp(ctx, adm, tell, nil, "", "", "devices/remove", Request{Realm: realm, User: user, ID: lost})
			m, _ := out.(map[string]any)
			return m, err
		}
		lossy.lose = true
		if _, err := remove(running); err == nil {
			t.Fatal("a removal whose reply was lost answered no error")
		}
		lossy.lose = false
		if len(sent.sent) != 0 {
			t.Fatalf("a removal answered as an error texted %d phones", len(sent.sent))
		}
		out, err := remove(nil) // Caddy stopped
		if err != nil || out["phones_told"] != 0 || out["notice_owed"] != true || !strings.Contains(out["notice"].(string), "remove the device again once Caddy runs") {
			t.Fatalf("the removal with Caddy stopped: %v, %v; want no phone told and the notice said owed", out, err)
		}
		for i := range 2 {
			out, err := remove(running)
			if err != nil || len(sent.sent) != 1 || sent.sent[0].To != "+14155550102" || out["phones_told"] != 1-i {
				t.Fatalf("the removal asked again through a running Caddy (%d): %v, %v; texts %v; want her phone left texted once", i+1, out, err, sent.sent)
			}
		}
		if out, err := remove(nil); err != nil || out["notice_owed"] != false {
			t.Fatalf("the removal with Caddy stopped, once told: %v, %v; want the notice not owed", out, err)
		}
	})
}
