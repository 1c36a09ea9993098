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
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestANoticeAfterTheAnswerOutlivesAReload: the notice that tells a user
// their account was locked goes out after the locking request is answered
// (its timing must tell nothing). A reload right then must neither close
// the old gate's store under it nor count its text after the gate's last
// counts were written: the figures count the notice, on the new config.
func TestANoticeAfterTheAnswerOutlivesAReload(t *testing.T) {
	sitetest.Parallel(t)
	noticed, release := make(chan struct{}, 1), make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&m)
		if strings.Contains(m.Body, "someone is trying codes") {
			noticed <- struct{}{}
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
	redis := redistest.Server(t)
	site := func(i int) *sitetest.Site {
		return sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		max_failures 3
		store redis %s
		provider webhook %s
		site_name "Wiki %d"
	}
	respond ok
}`, redis, hook.URL, i))
	}
	s := site(1)
	attacker := sitetest.NewClient(t, "")
	tok := attacker.CSRF("/.smsgate/login")
	sitetest.Expect(t, attacker.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	var res *sitetest.Response
	for range 3 {
		res = attacker.Post("/.smsgate/verify", url.Values{"code": {"000000"}, "csrf": {tok}})
	}
	sitetest.Expect(t, res, http.StatusTooManyRequests, "")
	<-noticed
	s = site(2) // the reload, while the old gate sends the notice
	close(release)
	// The old gate's last counts land once the notice is sent.
	var texts int64
	for range 50 {
		if texts = totals(t, s).Texts; texts == 2 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%d texts counted, want 2 (the code, and the notice the old gate sent across the reload)", texts)
}
