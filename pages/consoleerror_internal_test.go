package pages

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/words"
)

// TestConsoleStatusesAreTheAdminAPIs: a console change's failure has the
// admin API's status (admin.Refuse), in the reader's words where it is the
// admin's mistake. An error with words that no row of the admin's table
// names (a store's, a provider's) is the store failing: 503 and "try again
// later", never its words. Before, any error with words was a 400 with
// them, the admin's mistake.
func TestConsoleStatusesAreTheAdminAPIs(t *testing.T) {
	t.Parallel()
	p := &Pages{Config: Config{Words: words.English, Logger: zap.NewNop()}}
	req := &request{lang: "de", example: "+49 1512 3456789"}
	for _, c := range []struct {
		err    error
		status int
		says   string
	}{
		{enrollment.ErrNoDevice, http.StatusNotFound, words.English.Render("de", words.Text{ID: "device.none"})},
		{phone.WithExample(phone.ErrMalformed, "GB"), http.StatusBadRequest, "+44"},
		{fmt.Errorf("redis: %w", words.New("invite.dead")), http.StatusServiceUnavailable, words.English.Render("de", words.Text{ID: "gate.unavailable"})},
	} {
		says, status := p.consoleError(req, c.err)
		if status != c.status || !strings.Contains(says, c.says) {
			t.Errorf("%v: %d %q; want %d saying %q", c.err, status, says, c.status, c.says)
		}
	}
}
