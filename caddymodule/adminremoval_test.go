package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/phone"
)

// TestTheAdminsRemovalTellsHerPhones: the admin removes alice's lost
// phone through the admin API (as the console does, and `caddy smsgate
// remove-device` while Caddy runs). Her phone left is texted as her own
// removal texts it, in its own language (added in German), the number
// masked, and the answer says one phone was told; the lost phone is not
// texted, and no log line holds a whole number. Removed again (a removal
// whose end the store failed, asked again), nothing more is texted. On
// Badger and Redis, through a real Caddy. (Before: no notice at all, and
// the answer {"removed": id}.)
func TestTheAdminsRemovalTellsHerPhones(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, limitsOff)
		const lost, kept = "+14155552671", "+4915112345678"
		if st, out := s.Admin("POST", "/smsgate/import?realm=localhost", `[{"key":"device/localhost/alice","value":[`+
			`{"id":"LOST0001","name":"Phone 1","phone":"`+lost+`","enrolled":"2026-12-01T00:00:00Z","lang":"en"},`+
			`{"id":"KEPT0002","name":"Phone 2","phone":"`+kept+`","enrolled":"2026-12-01T00:00:00Z","lang":"de"}]}]`); st != http.StatusOK {
			t.Fatalf("importing alice's phones: %d %s", st, out)
		}
		for i := range 2 {
			st, out := s.Admin("POST", "/smsgate/devices/remove", `{"realm":"localhost","user":"alice","id":"LOST0001"}`)
			var answer struct {
				Removed    string `json:"removed"`
				PhonesTold *int   `json:"phones_told"`
			}
			if st != http.StatusOK || json.Unmarshal([]byte(out), &answer) != nil || answer.Removed != "LOST0001" || answer.PhonesTold == nil {
				t.Fatalf("the admin's removal: %d %s", st, out)
			}
			notices := s.Notices()
			if len(notices) != 1 || *answer.PhonesTold != 1-i {
				t.Fatalf("removal %d: phones told %d; notices %q; want one, to her phone left, at the first", i+1, *answer.PhonesTold, notices)
			}
			want := "Ein Telefon (" + phone.Mask(lost) + ") wurde aus Ihrem Konto entfernt. Damit angemeldete Browser wurden abgemeldet."
			if n := notices[0]; !strings.Contains(n, want) || !strings.HasSuffix(n, "→ "+phone.Mask(kept)) {
				t.Fatalf("the notice: %q; want %q, to her German phone, masked", n, want)
			}
		}
		log, err := os.ReadFile(s.LogFile)
		if err != nil {
			t.Fatal(err)
		}
		raw := strings.Join(strings.Fields(string(log)), "")
		for _, number := range []string{lost, kept} {
			if strings.Contains(raw, number[1:]) {
				t.Fatalf("the log holds %s whole", number)
			}
		}
	})
}
