package caddymodule_test

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

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestReloadDuringANotice: some of a request's work goes on after its
// answer (the notice texted to a user's phones when their account locks,
// not in the answer's time). A reload while that notice was on its way
// cleaned the old gate up at once, as if nothing were in flight: its last
// counts were written before the notice's send was counted, and the send
// never reached the figures (on Redis, the notice's store calls after the
// reload met a closed client).
func TestReloadDuringANotice(t *testing.T) {
	sitetest.Parallel(t)
	codes, notices, release := make(chan string, 4), make(chan string, 1), make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ Body, Message string }
		_ = json.NewDecoder(r.Body).Decode(&m)
		if strings.Contains(m.Message, "verification code") {
			codes <- m.Body
		} else {
			notices <- m.Body
			<-release
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok": true}`)
	}))
	t.Cleanup(hook.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	site := func(store string, i int) *sitetest.Site {
		return sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		max_failures 3
		store badger %s
		provider webhook %s {
			timeout 1m
		}
		site_name "Wiki %d"
	}
	respond ok
}`, store, hook.URL, i))
	}
	s := site("{DIR}", 1)
	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	<-codes
	for i := 1; ; i++ {
		res := c.Post("/.smsgate/verify", url.Values{"code": {"000000"}, "csrf": {tok}})
		if res.StatusCode == http.StatusTooManyRequests {
			break
		}
		if res.StatusCode != http.StatusBadRequest || i == 3 {
			t.Fatalf("wrong code %d: %d, want 400 before the third locks", i, res.StatusCode)
		}
	}
	select {
	case <-notices: // the answer is out; the notice is on its way
	case <-time.After(10 * time.Second):
		t.Fatal("no notice of the lock")
	}
	site(s.Store, 2) // a reload while the notice is sent
	close(release)
	texts := func() int64 {
		status, body := s.Admin(http.MethodGet, "/smsgate/figures?days=1", "")
		var figures struct{ Total struct{ Texts int64 } }
		if status != http.StatusOK || json.Unmarshal([]byte(body), &figures) != nil {
			t.Fatalf("figures: %d %s", status, body)
		}
		return figures.Total.Texts
	}
	for range 50 {
		if texts() == 2 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%d texts in the figures, want 2 (the code and the notice): the notice sent across the reload was not counted", texts())
}
