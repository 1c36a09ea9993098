package pages_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAChangeResumedAfterAStepUpAsksTheStore: through a real Caddy on
// Redis, a devices-page change kept for its step-up is made by the GET
// after the step-up (resumeChange), which asked only the gate's cache: a
// sign-out everywhere written at another instance (here straight into the
// shared Redis, before this gate reads the log) between the step-up and
// that GET did not stop the removal (review35 F4). Now that GET asks the
// store as a POST does (liveChange), and the ended session goes to sign in.
func TestAChangeResumedAfterAStepUpAsksTheStore(t *testing.T) {
	sitetest.Parallel(t)
	addr := redistest.Server(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	smsgate {
		store redis %[2]s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, addr))
	other, closeOther, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeOther()

	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155552671")
	s.Advance(10 * time.Minute)
	tok := alice.CSRF("/.smsgate/devices")
	add := url.Values{"action": {"add"}, "phone": {"+447400123456"}, "name": {"Work phone"}, "csrf": {tok}}
	sitetest.Expect(t, alice.Post("/.smsgate/devices", add), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	s.Advance(time.Minute)
	sitetest.Expect(t, alice.Get("/.smsgate/devices"), http.StatusSeeOther, "/.smsgate/verify")
	tok = alice.CSRF("/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	page := alice.Get("/.smsgate/devices")
	var m string
	for _, f := range regexp.MustCompile(`(?s)<strong>([^<]+)</strong>.*?name="device" value="([^"]+)"`).FindAllStringSubmatch(page.Text, -1) {
		if f[1] == "Work phone" {
			m = f[2]
		}
	}
	if m == "" {
		t.Fatalf("no work phone:\n%.500s", page.Text)
	}

	// The removal, its step-up passed.
	s.Advance(10 * time.Minute)
	tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	remove := url.Values{"action": {"remove"}, "device": {m}, "confirm": {"1"}, "csrf": {tok}}
	sitetest.Expect(t, alice.Post("/.smsgate/devices", remove), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")

	// Another instance signs her out everywhere now (its record only; this
	// gate reads the log later).
	raw, _ := json.Marshal(s.Now().Add(time.Second).UTC())
	if err := other.Put(context.Background(), endkeys.User("localhost", "alice"), raw, 0); err != nil {
		t.Fatal(err)
	}
	page = alice.Get("/.smsgate/devices")
	if strings.Contains(page.Text, "was removed") || !strings.Contains(page.Text+page.Header.Get("Location"), "Work phone") && page.StatusCode == http.StatusOK {
		t.Errorf("the GET after the step-up removed the work phone with a session the store says is ended: %d %s, notices %q", page.StatusCode, page.Header.Get("Location"), s.Notices())
	}
}
