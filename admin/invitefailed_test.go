package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/enrollment"
)

// TestAFailedInviteSaysWhatBecameOfTheEarlierLinks (invite26, review27
// F2): an invite the store failed to make is the store's 503, its
// driver's text kept from the admin, saying what became of the user's
// earlier links: working where the invite's own write failed, perhaps
// not where the record naming it her newest did (written after it, its
// answer perhaps lost). (Through a real Caddy, the second:
// TestAFailedInviteSaysWhatBecameOfTheLinkSent.)
func TestAFailedInviteSaysWhatBecameOfTheEarlierLinks(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial tcp 10.0.0.7:6379: EOF")
	for _, c := range []struct {
		err  error
		said string
	}{
		{cause, "no invite was made: the user's earlier invite links still work"},
		{fmt.Errorf("%w: %w", enrollment.ErrInviteUnrecorded, cause), "no invite link was made, and the user's earlier invite links may no longer work"},
	} {
		var ae caddy.APIError
		if err := apiError(&inviteFailed{c.err}); !errors.As(err, &ae) || ae.HTTPStatus != http.StatusServiceUnavailable ||
			!strings.Contains(ae.Message, c.said) || strings.Contains(ae.Message, "10.0.0.7") {
			t.Errorf("%v: %#v; want 503 saying %q", c.err, err, c.said)
		}
	}
}
