package pages_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// Anyone may post an unsigned receipt to /.smsgate/twilio/status (it is
// outside the first factor): a flood of them writes a warning per 5 s,
// not one each (attack26 F7: 300 in 3.6 s wrote 300).
func TestForgedReceiptsWriteAWarningPerFiveSeconds(t *testing.T) {
	sitetest.Parallel(t)
	s := receiptsSite(t)
	c := sitetest.NewClient(t, "")
	const sent = 200
	for i := 0; i < sent; i++ {
		forgeReceipt(t, s, c)
	}
	lines := s.LogEntries("delivery receipt refused: its signature is wrong")
	if len(lines) == 0 || len(lines) > 3 {
		t.Errorf("%d forged receipts wrote %d warnings; want one per 5 s", sent, len(lines))
	}
}

// receiptsSite is a gate texting through a fake Twilio, which takes its
// delivery receipts.
func receiptsSite(t *testing.T) *sitetest.Site {
	f := fakes.NewTwilio(t)
	return sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
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
}

// forgeReceipt posts an unsigned delivery receipt as c.
func forgeReceipt(t *testing.T, s *sitetest.Site, c *sitetest.Client) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.Base+"/.smsgate/twilio/status?r=x", strings.NewReader("MessageStatus=delivered"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res := c.Do(req); res.StatusCode != http.StatusForbidden {
		t.Fatalf("forged receipt: %d", res.StatusCode)
	}
}

// from is a client posting from the loopback address ip.
func from(t *testing.T, ip string) *sitetest.Client {
	c := sitetest.NewClient(t, "")
	c.HTTP = harness.Browser(harness.Loopback(net.ParseIP(ip)))
	return c
}

// forgedFrom are the forged receipts' warnings naming ip.
func forgedFrom(s *sitetest.Site, ip string) (out []map[string]any) {
	for _, l := range s.LogEntries("delivery receipt refused: its signature is wrong") {
		if l["ip"] == ip {
			out = append(out, l)
		}
	}
	return out
}

// A flood of forged receipts from one source does not hide another's: the
// throttle was keyed by the provider, so while 127.0.0.2 flooded, the admin
// never saw 127.0.0.3 (review28).
func TestAForgedReceiptFloodHidesNoOtherSource(t *testing.T) {
	sitetest.Parallel(t)
	s := receiptsSite(t)
	flood, other := from(t, "127.0.0.2"), from(t, "127.0.0.3")
	for i := 0; i < 50; i++ {
		forgeReceipt(t, s, flood)
	}
	forgeReceipt(t, s, other)
	if got := forgedFrom(s, "127.0.0.3"); len(got) != 1 {
		t.Fatalf("a forged receipt from 127.0.0.3 amid 127.0.0.2's flood wrote %d warnings naming it; want 1", len(got))
	}
	for i := 0; i < 50; i++ {
		forgeReceipt(t, s, flood)
	}
	if got := forgedFrom(s, "127.0.0.2"); len(got) == 0 || len(got) > 3 {
		t.Errorf("100 forged receipts from 127.0.0.2 wrote %d warnings; want one per 5 s", len(got))
	}
	for _, l := range s.LogEntries("delivery receipt refused: its signature is wrong") {
		if strings.Contains(fmt.Sprint(l), "delivered") {
			t.Errorf("a warning tells the receipt's body: %v", l)
		}
	}
}

// A flood from many sources still writes a bounded number of lines (5 in
// 5 s), and the next line counts the sources none of whose receipts were
// written.
func TestForgedReceiptsFromManySourcesWriteBoundedLines(t *testing.T) {
	sitetest.Parallel(t)
	s := receiptsSite(t)
	const sources = 40
	start := time.Now()
	for i := 0; i < sources; i++ {
		c := from(t, fmt.Sprintf("127.0.0.%d", 10+i))
		for j := 0; j < 3; j++ {
			forgeReceipt(t, s, c)
		}
	}
	windows := int(time.Since(start)/(5*time.Second)) + 1
	lines := s.LogEntries("delivery receipt refused: its signature is wrong")
	if len(lines) == 0 || len(lines) > 5*windows {
		t.Fatalf("%d forged receipts from %d sources wrote %d warnings in %d windows of 5 s; want at most 5 a window", 3*sources, sources, len(lines), windows)
	}
	s.Advance(6 * time.Second)
	forgeReceipt(t, s, from(t, "127.0.0.99"))
	last := forgedFrom(s, "127.0.0.99")
	if len(last) != 1 || last[0]["other_sources"] == nil || last[0]["other_sources"].(float64) < 1 {
		t.Errorf("the next warning after the flood: %v; want it to count the sources not written (other_sources)", last)
	}
}
