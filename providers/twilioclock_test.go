package providers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/clock"
)

// TestTwilioKeepsTheGatesTime (clock32 4): a 429's back-off and Lookup's
// cache of answers go by the gate's clock (clock.From at provision), as
// the rest of the gate does, not by the machine's: moved past the
// Retry-After, the provider sends again; moved past the cache's hour,
// Lookup is asked again. Before, both read time.Now: still blocked, and
// answered from the cache.
func TestTwilioKeepsTheGatesTime(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		fmt.Fprint(w, `{"line_type_intelligence":{"type":"mobile"}}`)
	}))
	defer srv.Close()
	var c clock.Test
	ctx, cancel := caddy.NewContext(caddy.Context{Context: clock.With(context.Background(), c.Now)})
	defer cancel()
	tw := &Twilio{AccountSID: "ACxxxx", AuthToken: "tokentoken", From: "+15005550006",
		Lookup: &TwilioLookup{BaseURL: srv.URL, EachSend: true, CacheFor: caddy.Duration(time.Hour)}}
	if err := tw.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	tw.client, tw.Lookup.logger = srv.Client(), zap.NewNop()

	_ = tw.failed(&response{status: http.StatusTooManyRequests, header: http.Header{"Retry-After": {"60"}}})
	if tw.checkBlocked() == nil {
		t.Fatal("not backing off after a 429")
	}
	c.Advance(61 * time.Second)
	if err := tw.checkBlocked(); err != nil {
		t.Errorf("past the 429's Retry-After by the gate's clock: %v", err)
	}

	for range 2 {
		if err := tw.CheckNumber(context.Background(), "+491511234567", "sms", false); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(time.Hour + time.Second)
	if err := tw.CheckNumber(context.Background(), "+491511234567", "sms", false); err != nil {
		t.Fatal(err)
	}
	if n := asked.Load(); n != 2 {
		t.Errorf("Lookup asked %d times for three checks, the third past the cache's hour by the gate's clock; want 2", n)
	}
}
