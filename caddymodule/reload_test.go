package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestReloadKeepsTheCounts: a reload ends the old config's gate, whose
// last counts (the figures' tally, flushed every admin.FlushEvery) are
// written as it stops. Caddy cleans up a config's modules in no set order;
// the gate's store (on Redis, a client of its own) must still be open
// then, or each reload may lose up to five seconds of counts.
func TestReloadKeepsTheCounts(t *testing.T) {
	sitetest.Parallel(t)
	addr := redistest.Server(t)
	const rounds = 8
	var users strings.Builder
	for i := range rounds {
		fmt.Fprintf(&users, "\t\tuser%d %s\n", i, sitetest.DemoHash)
	}
	var s *sitetest.Site
	for i := range rounds {
		// Each round a new config (its site's name), so a reload.
		s = sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth {
%s	}
	smsgate {
		store redis %s
		provider log
		site_name "Wiki %d"
	}
	respond ok
}`, users.String(), addr, i))
		c := sitetest.NewClient(t, fmt.Sprint("user", i))
		tok := c.CSRF("/.smsgate/enroll")
		sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {fmt.Sprintf("+1415555%04d", 2671+i)}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	}
	figures := totals(t, s)
	if got := figures.CodesSent; got != rounds {
		t.Fatalf("%d codes sent counted across %d reloads, want %d: a stopped gate's last counts were lost", got, rounds-1, rounds)
	}
}

// totals are the admin's figures of today, as the admin API gives them.
type figuresTotals struct {
	Texts     int64 `json:"texts"`
	CodesSent int64 `json:"codes_sent"`
}

func totals(t *testing.T, s *sitetest.Site) figuresTotals {
	t.Helper()
	status, raw := s.Admin(http.MethodGet, "/smsgate/figures?days=1", "")
	var figures struct{ Total figuresTotals }
	if err := json.Unmarshal([]byte(raw), &figures); status != http.StatusOK || err != nil {
		t.Fatalf("figures: %d %v %s", status, err, raw)
	}
	return figures.Total
}
