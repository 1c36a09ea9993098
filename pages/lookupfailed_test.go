package pages_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// lookupFailedLine is the admin's warning of a Lookup that cannot answer
// while sign-ins' codes go out unchecked.
const lookupFailedLine = "Twilio Lookup cannot answer: codes go out without a check of its line type or SIM swap (on_error_sign_in open)"

// TestALookupOutageAtSignInIsToldToTheAdmin: through a real Caddy, a gate
// with Twilio Lookup (sim_swap_within 7d, each_send) whose Lookup fails
// (its credentials refused, the SIM-swap package not enabled) signs carol
// in three times, each code sent unchecked as on_error_sign_in open says;
// the admin's log has one warning of it (lookup_failed, at sign_in, with
// Twilio's reason, no number), not one per sign-in, and Caddy's /metrics
// caddy_smsgate_lookup_failures_total{at="sign_in",result="sent"} 3.
// Before, nothing in the log or the metrics: the SIM-swap check was off
// and nobody knew (attack28's F4). A fourth sign-in a minute later by
// the gate's clock is warned of again, counting the two not written
// (repeats 2): the throttle goes by the gate's clock (clock32; before, by
// the machine's, it held the fourth back too).
func TestALookupOutageAtSignInIsToldToTheAdmin(t *testing.T) {
	sitetest.Parallel(t)
	f := fakes.NewTwilio(t)
	f.LookupStatus = http.StatusForbidden
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		store badger {DIR}
		resend_cooldown 10s
		provider twilio {
			account_sid %s
			auth_token %s
			from +15005550006
			base_url %s
			lookup {
				sim_swap_within 7d
				each_send
				base_url %[3]s
			}
		}
	}
	respond "Hello, {http.auth.user.id}!"
}`, f.AccountSID, f.AuthToken, f.URL))
	for i := range 4 {
		s.Advance(11 * time.Second) // past the last send's cooldown
		if i == 3 {
			s.Advance(time.Minute) // past the warning's minute
		}
		c := sitetest.NewClient(t, "")
		tok := c.CSRF("/.smsgate/login")
		sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		code := fakes.CodeIn(f.Last(t).Form["Body"])
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}), http.StatusSeeOther, "/")
	}
	warned := s.LogEntries(lookupFailedLine)
	if len(warned) != 2 || warned[1]["repeats"] != float64(2) {
		t.Fatalf("%d warnings of the failing Lookup for three sign-ins in a minute and one a minute later; want 2, the second with repeats 2: %v", len(warned), warned)
	}
	line := fmt.Sprint(warned[0])
	if warned[0]["level"] != "warn" || warned[0]["at"] != "sign_in" || warned[0]["event"] != "lookup_failed" ||
		!strings.Contains(line, "HTTP 403") || strings.Contains(line, "2671") {
		t.Errorf("the warning: %s", line)
	}
	res, err := http.Get(s.WithPorts("http://localhost:{ADMIN_PORT}/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if want := `caddy_smsgate_lookup_failures_total{at="sign_in",result="sent"} 4`; !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %s", want)
	}
}
