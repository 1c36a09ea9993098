package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// What one account can make the gate pay for, or spend of a budget, with
// numbers it has not confirmed (fixb39, from attack39b's findings 1 and 2).

// budgetSite is the quickstart (alice and bob) on storeLine with options
// (a provider among them).
func budgetSite(t *testing.T, storeLine, options string) *sitetest.Site {
	t.Helper()
	return sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		bob %[1]s
	}
	smsgate {
		%[2]s
		%[3]s
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, storeLine, options))
}

// A phone added on the devices page is a number the user has not
// confirmed: its code is a new number's send, counted in global_new, not
// in the enrolled users' global_enrolled. Before, an add was counted in
// global_enrolled: with global_new spent, alice's add of a never-seen
// number was texted all the same, and unconfirmed adds (10 an hour per
// account; the device limit counts confirmed phones only) spent the
// budget that lets enrolled users sign in (bob refused, 429).
func TestAnAddedPhoneSpendsTheNewNumbersBudget(t *testing.T) {
	sitetest.Parallel(t)
	onBothStores(t, addedPhoneSpendsTheNewNumbersBudget)
}

func addedPhoneSpendsTheNewNumbersBudget(t *testing.T, storeLine string) {
	s := budgetSite(t, storeLine, "provider log\n\t\tlimit global_new 3 1h\n\t\tlimit global_enrolled 2 1h")
	bob := sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, bob, "+14155552672") // global_new: 1 of 3
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155552671") // 2 of 3
	add := func(num string) *sitetest.Response {
		s.Advance(5 * time.Minute / 4) // past the cooldown of the code before
		page := alice.Get("/.smsgate/devices")
		m := sitetest.CSRFField.FindStringSubmatch(page.Text)
		if m == nil {
			t.Fatalf("devices page %d\n%s", page.StatusCode, page.Text)
		}
		return alice.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {num}, "name": {"x"}, "csrf": {m[1]}})
	}
	sent := s.Sent()
	if res := add("+447400123456"); res.StatusCode != http.StatusSeeOther || s.Sent() != sent+1 {
		t.Fatalf("alice's first add: %d %s, %d codes sent, want one more than %d", res.StatusCode, res.Header.Get("Location"), s.Sent(), sent)
	}
	sent = s.Sent() // global_new: 3 of 3; global_enrolled: none taken
	res := add("+447400123457")
	if s.Sent() != sent || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("alice's second add with global_new spent: %d %s, %d codes sent where %d were; want 429 and none", res.StatusCode, res.Header.Get("Location"), s.Sent(), sent)
	}
	other := sitetest.NewClient(t, "bob") // bob, enrolled, on another browser
	sitetest.Expect(t, other.Get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/verify")
	tok := other.CSRF("/.smsgate/verify")
	res = other.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}})
	if s.Sent() != sent+1 {
		t.Fatalf("bob, enrolled, after alice's adds: %d, %d codes sent where %d were; want his code (global_enrolled untouched by the adds)", res.StatusCode, s.Sent(), sent)
	}
}

// A number Twilio Lookup refuses (a landline) cost a paid lookup, and a
// number the gateway refuses (a webhook's 4xx) a global budget's slot: both
// count in the user's and the IP's windows, as a send does. Before, either
// gave back every window but the global budget (and the cooldown): one
// account at one address had a lookup made, or the gateway asked, for
// every number it posted, as fast as it could (6 here where `limit user`
// is 3), bounded only by global_new, which it could spend for everyone.
// The two kinds' four parts are the test's own (lookup/badger, …), one
// level of parallel parts: a serial kind gave its slot back while its
// parts ran and queued again behind every waiting test to end, then the
// next kind's parts queued (168 s of wall for ~3 s of its parts at load
// 50, the package's last test to end), and a parallel kind (speed40) had
// its parts queue again too (docs/TESTING.md, speed40b and speed41b).
func TestARefusedNumberCountsInTheUsersWindows(t *testing.T) {
	sitetest.Parallel(t)
	onBothStoresAs(t, "lookup/", refusedLookupsCount)
	onBothStoresAs(t, "webhook/", refusedSendsCount)
}

const refusedLimits = "limit user 3 1h\n\t\tlimit global_new 6 1h"

func refusedLookupsCount(t *testing.T, storeLine string) {
	f := fakes.NewTwilio(t)
	budgetSite(t, storeLine, fmt.Sprintf(`%s
		provider twilio {
			account_sid %s
			auth_token %s
			from +15005550006
			base_url %s
			lookup {
				base_url %[4]s
			}
		}`, refusedLimits, f.AccountSID, f.AuthToken, f.URL))
	alice := sitetest.NewClient(t, "alice")
	for i := range 6 {
		num := fmt.Sprintf("+1415555%04d", 3000+i)
		f.LineType[num] = "landline"
		want := http.StatusBadRequest // "not a mobile"
		if i >= 3 {
			want = http.StatusTooManyRequests // limit user
		}
		if res, _ := sitetest.EnrollWith(t, alice, num); res.StatusCode != want {
			t.Fatalf("alice's landline %d: %d, want %d", i+1, res.StatusCode, want)
		}
	}
	lookups := 0
	for _, r := range f.Requests() {
		if strings.HasPrefix(r.Path, "/v2/PhoneNumbers/") {
			lookups++
		}
	}
	if lookups != 3 {
		t.Fatalf("%d paid lookups for one account at one address, want 3 (limit user 3)", lookups)
	}
	bob := sitetest.NewClient(t, "bob")
	if res, _ := sitetest.EnrollWith(t, bob, "+14155552699"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's first phone (a mobile) after alice's landlines: %d, want 303", res.StatusCode)
	}
}

func refusedSendsCount(t *testing.T, storeLine string) {
	hook := fakes.NewHook(t)
	hook.Status = http.StatusBadRequest // the gateway refuses alice's numbers
	budgetSite(t, storeLine, refusedLimits+"\n\t\tprovider webhook "+hook.URL)
	alice := sitetest.NewClient(t, "alice")
	for i := range 6 {
		want := http.StatusServiceUnavailable // not sent: try again
		if i >= 3 {
			want = http.StatusTooManyRequests // limit user
		}
		if res, _ := sitetest.EnrollWith(t, alice, fmt.Sprintf("+1415555%04d", 3000+i)); res.StatusCode != want {
			t.Fatalf("alice's number %d, refused by the gateway: %d, want %d", i+1, res.StatusCode, want)
		}
	}
	if n := len(hook.Requests()); n != 3 {
		t.Fatalf("the gateway was asked %d times for one account at one address, want 3 (limit user 3)", n)
	}
	hook.Status = http.StatusOK
	bob := sitetest.NewClient(t, "bob")
	if res, _ := sitetest.EnrollWith(t, bob, "+14155552699"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's first phone after alice's refused ones: %d, want 303", res.StatusCode)
	}
}
