package caddymodule_test

import (
	"context"
	"net/url"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

func init() { caddy.RegisterModule(eventRecorder{}) }

// recorded holds the events the recorder heard.
var recorded struct {
	sync.Mutex
	events []caddy.Event
}

// eventRecorder is an events handler for tests: it keeps what it hears.
type eventRecorder struct{}

func (eventRecorder) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "events.handlers.smsgate_test_recorder", New: func() caddy.Module { return eventRecorder{} }}
}

func (eventRecorder) Handle(_ context.Context, e caddy.Event) error {
	recorded.Lock()
	recorded.events = append(recorded.events, e)
	recorded.Unlock()
	return nil
}

func (eventRecorder) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	return nil
}

var _ caddyevents.Handler = eventRecorder{}

// TestAuditEventsAreCaddyEvents: what the audit log says, the events app
// hears too, with the same masked fields.
func TestAuditEventsAreCaddyEvents(t *testing.T) {
	recorded.Lock()
	recorded.events = nil
	recorded.Unlock()
	s := sitetest.Carol(t, "events {\n\t\ton smsgate_verified smsgate_test_recorder\n\t\ton smsgate_code_sent smsgate_test_recorder\n\t}")
	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/.smsgate/login")
	c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	recorded.Lock()
	defer recorded.Unlock()
	names := map[string]caddy.Event{}
	for _, e := range recorded.events {
		names[e.Name()] = e
	}
	sent, ok := names["smsgate_code_sent"]
	if !ok || names["smsgate_verified"].Data["user"] != "carol" {
		t.Fatalf("events heard: %v", recorded.events)
	}
	if sent.Data["phone"] != "+1•••••••671" || sent.Origin() == nil || sent.Origin().CaddyModule().ID != "http.handlers.smsgate" {
		t.Fatalf("code_sent event: %v from %v", sent.Data, sent.Origin())
	}
}
