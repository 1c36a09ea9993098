package pages_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// Anyone may post an unsigned receipt to /.smsgate/twilio/status (it is
// outside the first factor): a flood of them writes a warning per 5 s,
// not one each (attack26 F7: 300 in 3.6 s wrote 300).
func TestForgedReceiptsWriteAWarningPerFiveSeconds(t *testing.T) {
	sitetest.Parallel(t)
	f := fakes.NewTwilio(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +15005550006
		number_types sms mobile fixed_line_or_mobile personal_number
		store badger {DIR}
		provider twilio {
			account_sid %s
			auth_token %s
			from +15005550006
			base_url %s
		}
	}
	respond "hi"
}`, f.AccountSID, f.AuthToken, f.URL))
	c := sitetest.NewClient(t, "")
	const sent = 200
	for i := 0; i < sent; i++ {
		req, _ := http.NewRequest(http.MethodPost, s.Base+"/.smsgate/twilio/status?r=x", strings.NewReader("MessageStatus=delivered"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res := c.Do(req); res.StatusCode != http.StatusForbidden {
			t.Fatalf("forged receipt %d: %d", i, res.StatusCode)
		}
	}
	lines := s.LogEntries("delivery receipt refused: its signature is wrong")
	if len(lines) == 0 || len(lines) > 3 {
		t.Errorf("%d forged receipts wrote %d warnings; want one per 5 s", sent, len(lines))
	}
}
