package pages_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

func TestTwilioFlow(t *testing.T) {
	sitetest.Parallel(t)
	f := fakes.NewTwilio(t)
	s := sitetest.TwilioVoiceSite(t, f, `site_name "Example Wiki"`)

	c := sitetest.NewClient(t, "alice")
	res, tok := sitetest.EnrollWith(t, c, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	sent := f.Last(t)
	if !strings.HasSuffix(sent.Path, "/Messages.json") || sent.Form["To"] != "+14155552671" {
		t.Fatalf("Twilio got %s %v", sent.Path, sent.Form)
	}
	if !strings.HasPrefix(sent.Form["Body"], "Your Example Wiki verification code is ") || !strings.Contains(sent.Form["Body"], "\n\n@localhost #") {
		t.Fatalf("SMS body %q", sent.Form["Body"])
	}

	// Call me instead: a call that reads a new code; the SMS code dies.
	page := c.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, "Call me instead")
	smsCode := fakes.CodeIn(sent.Form["Body"])
	s.Advance(31 * time.Second) // a switch waits as a resend does
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"call"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	call := f.Last(t)
	if !strings.HasSuffix(call.Path, "/Calls.json") || call.Form["From"] != "+15005550006" {
		t.Fatalf("Twilio got %s %v", call.Path, call.Form)
	}
	sitetest.ExpectBody(t, c.Get("/.smsgate/verify"), "We are calling &#43;1•••••••671.")
	callCode := fakes.CodeIn(call.Form["Twiml"])
	for callCode == smsCode { // one time in a million: another call, past the cooldown
		s.Advance(time.Minute)
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"call"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		callCode = fakes.CodeIn(f.Last(t).Form["Twiml"])
	}
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {smsCode}, "csrf": {tok}}), http.StatusBadRequest, "")
	sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {callCode}, "csrf": {tok}}), "/")
	sitetest.ExpectBody(t, c.Get("/"), "Hello, alice!")

	// The number's fault: a clear message, nothing else tried, the form kept.
	b := sitetest.NewClient(t, "bob")
	res, _ = sitetest.EnrollWith(t, b, "+15005550004")
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, "opted out of messages")
	sitetest.ExpectBody(t, res, `value="&#43;15005550004"`)
	if strings.Contains(res.Text, "unsubscribed recipient") || strings.Contains(res.Text, "21610") {
		t.Fatal("Twilio's own text reached the user")
	}

	// Twilio's fault (it refused the credentials: nothing sent): a short
	// safe message; the admin's log has the details. (A 500, which may have
	// sent it: TestAnUnconfirmedTextCountsAsSent.)
	f.Status = http.StatusUnauthorized
	s.Advance(time.Minute)
	res, _ = sitetest.EnrollWith(t, b, "+14155550100")
	sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
	sitetest.ExpectBody(t, res, "The code could not be sent; please try again in a moment.")
	if strings.Contains(res.Text, "20003") || strings.Contains(res.Text, "Authentication") {
		t.Fatal("Twilio's error reached the user")
	}
}

// twilioVerifySite is a ProviderSite whose codes the fake Twilio f's
// Verify service makes and checks.
func twilioVerifySite(t *testing.T, f *fakes.Twilio) *sitetest.Site {
	return sitetest.ProviderSite(t, fmt.Sprintf(`provider twilio {
			account_sid %s
			auth_token %s
			verify_service VA00000000000000000000000000000001
			from +15005550006
			base_url %s
			verify_base_url %s
		}`, f.AccountSID, f.AuthToken, f.URL, f.URL))
}

func TestTwilioVerifyFlow(t *testing.T) {
	sitetest.Parallel(t)
	f := fakes.NewTwilio(t)
	s := twilioVerifySite(t, f)
	c := sitetest.NewClient(t, "alice")
	res, tok := sitetest.EnrollWith(t, c, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	code := f.VerifyCode("+14155552671")
	if code == "" {
		t.Fatal("no verification started at Twilio")
	}
	res = c.Post("/.smsgate/verify", url.Values{"code": {"000000"}, "csrf": {tok}})
	sitetest.ExpectBody(t, res, "4 tries left")
	sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}), "/")
	sitetest.ExpectBody(t, c.Get("/"), "Hello, alice!")
	if s.Sent() != 0 {
		t.Fatal("a code of smsgate's own went out")
	}

	// Twilio forgot the code (expired there): a clear answer.
	b := sitetest.NewClient(t, "bob")
	_, tok = sitetest.EnrollWith(t, b, "+14155550100")
	f.Expire()
	res = b.Post("/.smsgate/verify", url.Values{"code": {"123456"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, "This code has expired")
}

func TestWebhookFlow(t *testing.T) {
	sitetest.Parallel(t)
	hook := fakes.NewHook(t)
	sitetest.ProviderSite(t, fmt.Sprintf(`provider webhook %s/send {
			bearer hook-token
			body <<JSON
			{"chat_id": "-100123", "text": "{{.Body}}", "to": "{{.To}}"}
			JSON
		}`, hook.URL))
	c := sitetest.NewClient(t, "alice")
	res, tok := sitetest.EnrollWith(t, c, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	r := hook.Last(t)
	if r.Header.Get("Authorization") != "Bearer hook-token" || r.JSON["chat_id"] != "-100123" || r.JSON["to"] != "+14155552671" {
		t.Fatalf("hook got %v %v", r.Header, r.JSON)
	}
	text, _ := r.JSON["text"].(string)
	sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {fakes.CodeIn(text)}, "csrf": {tok}}), "/")
	sitetest.ExpectBody(t, c.Get("/"), "Hello, alice!")

	// The webhook refuses (403: nothing sent): try again later.
	hook.Status = http.StatusForbidden
	b := sitetest.NewClient(t, "bob")
	res, _ = sitetest.EnrollWith(t, b, "+14155550100")
	sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
	if strings.Contains(res.Text, "internal-gateway-detail") {
		t.Fatal("the webhook's answer reached the user")
	}
	// It fails (502: it may have sent it): the code counts as sent, and
	// the page says it could not be confirmed.
	hook.Status = http.StatusBadGateway
	res, _ = sitetest.EnrollWith(t, b, "+14155550100")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	page := b.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, "We could not confirm that the code went out.")
	if strings.Contains(page.Text, "internal-gateway-detail") {
		t.Fatal("the webhook's answer reached the user")
	}
}

func TestSignalFlowWithFailover(t *testing.T) {
	sitetest.Parallel(t)
	sig := fakes.NewSignal(t)
	tw := fakes.NewTwilio(t)
	tw.Status = http.StatusTooManyRequests
	s := sitetest.ProviderSite(t, fmt.Sprintf(`provider twilio {
			account_sid %s
			auth_token %s
			from +15005550006
			base_url %s
		}
		provider signal %s {
			number +15005550006
			token %s
		}`, tw.AccountSID, tw.AuthToken, tw.URL, sig.URL, sig.Token))
	c := sitetest.NewClient(t, "alice")
	res, tok := sitetest.EnrollWith(t, c, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	if len(tw.Requests()) != 1 || len(sig.Requests()) != 1 {
		t.Fatalf("twilio %d, signal %d requests; want one each", len(tw.Requests()), len(sig.Requests()))
	}
	msg, _ := sig.Last(t).JSON["message"].(string)
	sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {fakes.CodeIn(msg)}, "csrf": {tok}}), "/")
	sitetest.ExpectBody(t, c.Get("/"), "Hello, alice!")

	failed := s.LogEntries("provider_failed")
	delivered := s.LogEntries("delivered")
	// Unnamed providers are known by their module and place in the chain.
	if len(failed) != 1 || failed[0]["provider"] != "twilio.1" || len(delivered) != 1 || delivered[0]["provider"] != "signal.2" {
		t.Fatalf("log: failed %v, delivered %v", failed, delivered)
	}
	if e, _ := failed[0]["error"].(string); !strings.Contains(e, "error 20429") || strings.Contains(e, tw.AuthToken) {
		t.Fatalf("the admin's log says %q", e)
	}
}

// TestNamedProviders: two webhooks in a chain are told apart in the log and
// the metrics by their names.
func TestNamedProviders(t *testing.T) {
	sitetest.Parallel(t)
	down, up := fakes.NewHook(t), fakes.NewHook(t)
	down.Status = http.StatusBadGateway
	s := sitetest.ProviderSite(t, fmt.Sprintf(`provider webhook %s {
			name gateway-a
		}
		provider webhook %s {
			name gateway-b
		}`, down.URL, up.URL))
	c := sitetest.NewClient(t, "alice")
	res, _ := sitetest.EnrollWith(t, c, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	failed, delivered := s.LogEntries("provider_failed"), s.LogEntries("delivered")
	if len(failed) != 1 || failed[0]["provider"] != "gateway-a" || len(delivered) != 1 || delivered[0]["provider"] != "gateway-b" {
		t.Fatalf("log: failed %v, delivered %v", failed, delivered)
	}
	res2, err := http.Get(s.WithPorts("http://localhost:{ADMIN_PORT}/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	body, _ := io.ReadAll(res2.Body)
	for _, want := range []string{`provider="gateway-a",result="failed"`, `provider="gateway-b",result="delivered"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestDeliveryReceipts: Twilio reports whether the text arrived. The gate
// believes only signed receipts; the verify page says what happened and,
// when the text did not arrive, offers the call.
func TestDeliveryReceipts(t *testing.T) {
	sitetest.Parallel(t)
	f := fakes.NewTwilio(t)
	s := sitetest.TwilioVoiceSite(t, f, "")
	c := sitetest.NewClient(t, "alice")
	res, _ := sitetest.EnrollWith(t, c, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	if cb := f.Last(t).Form["StatusCallback"]; !strings.HasPrefix(cb, s.WithPorts("http://localhost:{HTTP_PORT}/.smsgate/twilio/status?r=")) {
		t.Fatalf("StatusCallback %q", cb)
	}
	status := func() map[string]any {
		req, _ := http.NewRequest(http.MethodGet, s.Base+"/.smsgate/status", nil)
		req.Header.Set("Accept", "application/json")
		var out map[string]any
		_ = json.Unmarshal([]byte(c.Do(req).Text), &out)
		return out
	}
	if st := status(); st["delivery"] != "pending" {
		t.Fatalf("before any receipt: %v", st)
	}
	// A forged receipt is refused and logged, and changes nothing.
	if r := f.Receipt(t, "undelivered", "30003", true); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a forged receipt: %d", r.StatusCode)
	}
	if len(s.LogEntries("delivery receipt refused: its signature is wrong")) != 1 {
		t.Fatal("the forged receipt is not in the log")
	}
	if st := status(); st["delivery"] != "pending" {
		t.Fatalf("after a forged receipt: %v", st)
	}
	// "sent", then "undelivered" with 30003: the text did not arrive.
	if r := f.Receipt(t, "sent", "", false); r.StatusCode != http.StatusNoContent {
		t.Fatalf("a receipt: %d", r.StatusCode)
	}
	f.Receipt(t, "undelivered", "30003", false)
	if st := status(); st["delivery"] != "failed" || st["offer_call"] != true {
		t.Fatalf("after an undelivered receipt: %v", st)
	}
	page := c.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, "The text did not arrive.")
	sitetest.ExpectBody(t, page, `id="call" class="offered"`)
	// A late "sent" does not undo the end.
	f.Receipt(t, "sent", "", false)
	if st := status(); st["delivery"] != "failed" {
		t.Fatalf("a late receipt undid the end: %v", st)
	}
	// The call's own receipt: delivered.
	tok := c.CSRF("/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"call"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	f.Receipt(t, "completed", "", false)
	if st := status(); st["delivery"] != "delivered" || st["offer_call"] != false {
		t.Fatalf("after the call completed: %v", st)
	}
	// A validly signed "no-answer" replayed after it changes nothing: a
	// status only moves forward.
	f.Receipt(t, "no-answer", "", false)
	if st := status(); st["delivery"] != "delivered" {
		t.Fatalf("a replayed receipt took the end back: %v", st)
	}
	res2, err := http.Get(s.WithPorts("http://localhost:{ADMIN_PORT}/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	body, _ := io.ReadAll(res2.Body)
	for _, want := range []string{`caddy_smsgate_deliveries_total{country="US",provider="twilio.1",result="failed"} 1`, `caddy_smsgate_deliveries_total{country="US",provider="twilio.1",result="delivered"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The admin's figures count them too: a text and a call, each with its end.
	res3, err := http.Get(s.WithPorts("http://localhost:{ADMIN_PORT}/smsgate/figures?days=1"))
	if err != nil {
		t.Fatal(err)
	}
	defer res3.Body.Close()
	var figures struct {
		Providers []struct {
			Provider                                      string
			Texts, Calls, Delivered, Undelivered, Unknown int64
		}
	}
	if err := json.NewDecoder(res3.Body).Decode(&figures); err != nil || len(figures.Providers) != 1 {
		t.Fatalf("figures: %+v, %v", figures, err)
	}
	if p := figures.Providers[0]; p.Provider != "twilio.1" || p.Texts != 1 || p.Calls != 1 || p.Delivered != 1 || p.Undelivered != 1 || p.Unknown != 0 {
		t.Fatalf("twilio's figures: %+v", p)
	}
}

// aliceWithTwoPhones starts a site (options, then Twilio with a Lookup
// before every send, never cached) where alice enrolled +14155552671 (her
// default) and the admin gave her +14155550199 ("Work").
func aliceWithTwoPhones(t *testing.T, options string) (*sitetest.Site, *fakes.Twilio) {
	t.Helper()
	f := fakes.NewTwilio(t)
	s := sitetest.ProviderSite(t, fmt.Sprintf(`%s
		provider twilio {
			account_sid %s
			auth_token %s
			from +15005550006
			base_url %s
			lookup {
				sim_swap_within 7d
				each_send
				cache 1ns
				base_url %[4]s
			}
		}`, options, f.AccountSID, f.AuthToken, f.URL))
	alice := sitetest.NewClient(t, "alice")
	res, tok := sitetest.EnrollWith(t, alice, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {fakes.CodeIn(f.Last(t).Form["Body"])}, "csrf": {tok}}), "/")
	if st, body := sitetest.Admin(t, "POST", "/smsgate/users", `{"realm":"localhost","user":"alice","phone":"+14155550199","name":"Work"}`); st != 200 {
		t.Fatalf("adding a phone: %d %s", st, body)
	}
	return s, f
}

// TestLookupBeforeSending: Twilio Lookup refuses landlines at enrollment
// and recently swapped SIMs at sign-in (telling the user's other phones);
// an outage fails closed at enrollment.
func TestLookupBeforeSending(t *testing.T) {
	sitetest.Parallel(t)
	s, f := aliceWithTwoPhones(t, "number_types sms mobile fixed_line_or_mobile personal_number")

	// The default phone's SIM was swapped an hour ago: no code goes to it
	// (the work phone, just added, is not the default).
	f.SIMSwapped["+14155552671"] = time.Now().Add(-time.Hour)
	again := sitetest.NewClient(t, "alice")
	tok := again.CSRF("/.smsgate/verify")
	sent := len(f.Requests())
	res := again.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusForbidden, "")
	sitetest.ExpectBody(t, res, "SIM card was changed recently")
	var notices []string
	for _, r := range f.Requests()[sent:] {
		if strings.HasSuffix(r.Path, "/Messages.json") {
			if r.Form["To"] == "+14155552671" {
				t.Fatal("a message went to the swapped number")
			}
			notices = append(notices, r.Form["Body"])
		}
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "SIM card was changed recently") {
		t.Fatalf("notices to the other phone: %q", notices)
	}
	if len(s.LogEntries("sim_swap")) != 1 {
		t.Fatal("no sim_swap audit event")
	}

	// A landline cannot enroll for texts.
	f.LineType["+14155550001"] = "landline"
	bob := sitetest.NewClient(t, "bob")
	res, _ = sitetest.EnrollWith(t, bob, "+14155550001")
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, "This kind of number cannot receive codes")

	// Lookup down: enrollment fails closed, with a clear message.
	f.LookupStatus = http.StatusServiceUnavailable
	s.Advance(time.Minute)
	res, _ = sitetest.EnrollWith(t, bob, "+14155550002")
	sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
	sitetest.ExpectBody(t, res, "could not be checked")
}

// TestASwappedSIMIsToldOnceADay: a send refused for a swapped SIM was given
// back to every limit (now it counts in the user's and the IP's windows,
// a paid lookup: once limit user is spent a retry is refused 429), and its notice to the user's other phones passes
// none, so each retry — a script holding the first factor, the very thief
// who swapped the SIM — texted every other phone, without end and at the
// site's cost (100 posts: 100 notices; with the pumping guard on, until
// it paused the number's whole prefix). Now each device's swap is told once
// a day (FirstSwapNotice), and again the next day if it still holds.
func TestASwappedSIMIsToldOnceADay(t *testing.T) {
	sitetest.Parallel(t)
	s, f := aliceWithTwoPhones(t, "pumping_guard off")
	f.SIMSwapped["+14155552671"] = time.Now().Add(-time.Hour)
	thief := sitetest.NewClient(t, "alice")
	tok := thief.CSRF("/.smsgate/verify")
	notices := func() (n int) {
		for _, r := range f.Requests() {
			if r.Form["To"] == "+14155550199" {
				n++
			}
		}
		return n
	}
	refused := 0 // 403s, before each refusal (a paid lookup) spends limit user's 10 (fixb39): then 429
	for i := range 20 {
		res := thief.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}})
		switch {
		case res.StatusCode == http.StatusForbidden && refused == i:
			refused++
		case res.StatusCode != http.StatusTooManyRequests || refused == 0:
			t.Fatalf("post %d: %d after %d refused for the swap; want 403s, then 429s", i+1, res.StatusCode, refused)
		}
	}
	if refused > 10 {
		t.Fatalf("%d sends refused for the swap, each a lookup; want at most limit user's 10", refused)
	}
	// Behind a first factor the refusal is told in the answer, and the
	// notice goes out before it.
	if n := notices(); n != 1 {
		t.Fatalf("%d refused sends told the other phone %d times; want once", refused, n)
	}
	if n := len(s.LogEntries("sim_swap")); n != refused {
		t.Fatalf("%d sim_swap audit events; want one for each refused send, %d", n, refused)
	}
	s.Advance(24*time.Hour + time.Minute)
	tok = thief.CSRF("/.smsgate/verify")
	sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusForbidden, "")
	if n := notices(); n != 2 {
		t.Fatalf("a day later the other phone was told %d times in all; want twice", n)
	}
}

// TestLookupWithoutSIMData: a carrier that gives no SIM-swap data (Lookup
// answers 200 with "sim_swap": null) is no outage: by default the code is
// sent and the admin's log says the SIM could not be checked; with
// on_no_sim_data closed, the user hears why no code comes.
func TestLookupWithoutSIMData(t *testing.T) {
	sitetest.Parallel(t)
	f := fakes.NewTwilio(t)
	f.NoSIMData["+14155552671"] = true
	site := func(option string) *sitetest.Site {
		return sitetest.ProviderSite(t, fmt.Sprintf(`number_types sms mobile fixed_line_or_mobile personal_number
		provider twilio {
			account_sid %s
			auth_token %s
			from +15005550006
			base_url %s
			lookup {
				sim_swap_within 7d
				%s
				base_url %[3]s
			}
		}`, f.AccountSID, f.AuthToken, f.URL, option))
	}
	s := site("")
	res, _ := sitetest.EnrollWith(t, sitetest.NewClient(t, "alice"), "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	if e := s.LogEntries("no SIM-swap data for this number; the code is sent (on_no_sim_data open)"); len(e) != 1 || e[0]["to"] != "+1•••••••671" {
		t.Fatalf("the admin's log: %v", e)
	}
	site("on_no_sim_data closed")
	res, _ = sitetest.EnrollWith(t, sitetest.NewClient(t, "alice"), "+14155552671")
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, "does not tell whether its SIM card was changed recently")
}

// TestReceiptsTellStrangersNothing: after a login form, whether a text
// arrived would tell a name that has a phone from a decoy; the verify page
// and /status say nothing of it there. The receipt reaches the gate (no
// matcher in front of it: a gate under `smsgate @people` with @people
// excluding /.smsgate/twilio/status had the app answer it, and the test
// passed whatever the gate did) and is taken (204).
func TestReceiptsTellStrangersNothing(t *testing.T) {
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
	status := func(c *sitetest.Client) string {
		req, _ := http.NewRequest(http.MethodGet, s.Base+"/.smsgate/status", nil)
		req.Header.Set("Accept", "application/json")
		return c.Do(req).Text
	}
	known, stranger := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
	for c, name := range map[*sitetest.Client]string{known: "carol", stranger: "nobody"} {
		tok := c.CSRF("/.smsgate/login")
		sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {name}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	}
	if res := f.Receipt(t, "delivered", "", false); res.StatusCode != http.StatusNoContent {
		t.Fatalf("the signed receipt: %d, not the gate's 204", res.StatusCode)
	}
	if a, b := status(known), status(stranger); a != b {
		t.Fatalf("/status after a delivered text: carol %s, nobody %s", a, b)
	}
	if strings.Contains(known.Get("/.smsgate/verify").Text, `id="delivery"`) {
		t.Fatal("the verify page after a login form tells of the text's delivery")
	}
}

// TestAGatewayThatRedirectsIsAFailure: a gateway answering a redirect (a
// login page in front of it once its credentials expired, a move to
// another host, https to http) has not accepted the message. Its answer
// is a failure, and the next provider gets the code; nothing is sent on to
// where it points — neither the code and the number (a 307 re-posts the
// body) nor the gateway's key (Go strips Authorization on a move to
// another host, never an API key header). Before, the redirect was
// followed: a login page's 200 was "delivered" (the user got nothing and
// the next provider was never tried), and the 307 re-posted the code with
// the key to the other host.
func TestAGatewayThatRedirectsIsAFailure(t *testing.T) {
	sitetest.Parallel(t)
	elsewhere := fakes.NewHook(t) // where the redirects point: must hear nothing
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			http.Redirect(w, r, elsewhere.URL+"/login-page", http.StatusFound)
			return
		}
		http.Redirect(w, r, elsewhere.URL+"/send", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(moved.Close)
	up := fakes.NewHook(t)
	s := sitetest.ProviderSite(t, fmt.Sprintf(`provider webhook %s/login {
			name expired
			header X-Api-Key gateway-key
		}
		provider webhook %s/send {
			name moved
			header X-Api-Key gateway-key
		}
		provider webhook %s {
			name up
		}`, moved.URL, moved.URL, up.URL))
	c := sitetest.NewClient(t, "alice")
	res, tok := sitetest.EnrollWith(t, c, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	if n := len(elsewhere.Requests()); n != 0 {
		t.Fatalf("the redirects were followed: %d requests reached their target (%v)", n, elsewhere.Last(t).Header)
	}
	failed, delivered := s.LogEntries("provider_failed"), s.LogEntries("delivered")
	if len(failed) != 2 || failed[0]["provider"] != "expired" || failed[1]["provider"] != "moved" || len(delivered) != 1 || delivered[0]["provider"] != "up" {
		t.Fatalf("log: failed %v, delivered %v", failed, delivered)
	}
	body, _ := up.Last(t).JSON["Message"].(string)
	sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {fakes.CodeIn(body)}, "csrf": {tok}}), "/")
}
