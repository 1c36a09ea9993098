package caddymodule_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnInviteOpenedInTwoBrowsersEnrollsOnce (attack14, held): an invite
// link opened in two browsers at once (a forwarded mail), each accepting
// it and typing its own phone's code at the same moment, through a real
// Caddy on Badger and Redis: one browser accepts it, one phone becomes the
// user's, one browser is signed in.
func TestAnInviteOpenedInTwoBrowsersEnrollsOnce(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := inviteOnlySite(t, storeLine, limitsOff)
		st, body := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"dan","ttl":"1h"}`)
		if st != http.StatusOK {
			t.Fatalf("invite: %d %s", st, body)
		}
		var inv struct{ Path string }
		_ = json.Unmarshal([]byte(body), &inv)
		token := strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")
		type browser struct {
			c         *sitetest.Client
			tok, code string
		}
		bs := make([]*browser, 2)
		for i := range bs {
			c := sitetest.NewClient(t, "")
			bs[i] = &browser{c: c, tok: c.CSRF("/.smsgate/login")}
		}
		accepted := make([]bool, 2)
		var wg sync.WaitGroup
		for i, b := range bs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				accepted[i] = b.c.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {b.tok}}).StatusCode < 400
			}()
		}
		wg.Wait()
		if accepted[0] == accepted[1] {
			t.Fatalf("one invite opened in two browsers at once: accepted %v, want one", accepted)
		}
		for i, b := range bs {
			sent := s.Sent()
			res := b.c.Post("/.smsgate/enroll", url.Values{"phone": {fmt.Sprintf("+1415555267%d", i)}, "csrf": {b.tok}})
			if s.Sent() > sent {
				b.code = s.LastCode()
			}
			if accepted[i] != (b.code != "") {
				t.Errorf("browser %d (accepted: %v): enroll %d %s, a code sent: %v", i, accepted[i], res.StatusCode, res.Header.Get("Location"), b.code != "")
			}
		}
		for _, b := range bs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b.c.Post("/.smsgate/verify", url.Values{"code": {cmp.Or(b.code, "000000")}, "csrf": {b.tok}})
			}()
		}
		wg.Wait()
		in := 0
		for _, b := range bs {
			if res := b.c.Get("/"); res.StatusCode == http.StatusOK {
				in++
			}
		}
		_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
		if phones := strings.Count(out, `"phone":"`); in != 1 || phones != 1 {
			t.Fatalf("one invite, two browsers at once: %d signed in, %d phones: %s", in, phones, out)
		}
	})
}
