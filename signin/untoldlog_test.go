package signin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// untoldFault fails every write of a removal's owed notice while on.
type untoldFault struct {
	store.Store
	on bool
}

func (f *untoldFault) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if f.on && strings.Contains(key, "removal-untold") {
		return errors.New("store down")
	}
	return f.Store.Update(ctx, key, change)
}

// TestARemovalAskedAgainLogsAnUnreadNotice: a removal asked again (the
// phone already gone) whose store fails to say whether its notice was
// told logs that failure, with no number in it, and the removal stands.
// (Before, the error was dropped: nothing said why no phone was told.)
func TestARemovalAskedAgainLogsAnUnreadNotice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &untoldFault{Store: storetest.Badger(t)}
	s := newServiceOn(st, LoginForm{})
	core, logs := observer.New(zap.InfoLevel)
	s.Logger, s.Notices, s.Site = zap.New(core), new(counted), "Example"
	lost, _, err := s.Devices.AddIn(ctx, "r", "dora", "+14155550101", "Lost", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Devices.AddIn(ctx, "r", "dora", "+14155550102", "Kept", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemovePhone(ctx, "r", "dora", lost, nil); err != nil {
		t.Fatal(err)
	}
	st.on = true
	if _, err := s.RemovePhone(ctx, "r", "dora", lost, nil); err != nil {
		t.Fatalf("a removal asked again: %v", err)
	}
	found := logs.FilterMessage("reading whether a removal was told").All()
	if len(found) != 1 {
		t.Fatalf("%d logs of the unread notice, want 1: %v", len(found), logs.All())
	}
	for _, e := range logs.All() {
		if strings.Contains(fmt.Sprint(e.Message, e.ContextMap()), "5550101") {
			t.Errorf("a log names the number: %v", e)
		}
	}
}
