package caddymodule_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestReloadDuringASend: Caddy stops a config's servers without waiting
// for the requests in flight (they finish within the grace period), and
// cleans up its gates at once. An enrollment whose code is on its way
// through a gateway while the config is replaced must still finish on the
// old gate: its challenge written, its answer the verify page, its code
// good on the new config, and its send counted. On Redis each config has
// a client of its own: closed under the request, it failed the enrollment
// after its text had gone (a 500), and the send was never counted.
func TestReloadDuringASend(t *testing.T) {
	sitetest.Parallel(t) // the parts too: serial with SMSGATE_SITETEST_SERIAL
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		arrived, release := make(chan string, 1), make(chan struct{})
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m struct{ Body string }
			_ = json.NewDecoder(r.Body).Decode(&m)
			arrived <- m.Body
			<-release
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok": true}`)
		}))
		t.Cleanup(hook.Close)
		site := func(store string, i int) *sitetest.Site {
			return sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %s
	}
	smsgate {
		%s
		provider webhook %s {
			timeout 1m
		}
		site_name "Wiki %d"
	}
	respond ok
}`, sitetest.DemoHash, store, hook.URL, i))
		}
		s := site(storeLine, 1)
		storeLine = keep(s)
		c := sitetest.NewClient(t, "alice")
		tok := c.CSRF("/.smsgate/enroll")
		req, _ := http.NewRequest(http.MethodPost, s.Base+"/.smsgate/enroll", strings.NewReader(url.Values{"phone": {"+14155552671"}, "csrf": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("alice", "demo")
		answer := aside(t, c.HTTP, req)
		code := regexp.MustCompile(`\b\d{6}\b`).FindString(<-arrived)
		s = site(storeLine, 2) // the reload, while the first gate sends
		close(release)
		res, body := answer()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/.smsgate/verify" {
			t.Fatalf("the enrollment in flight during the reload: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), body)
		}
		sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}), "/")
		if n := totals(t, s).CodesSent; n != 1 {
			t.Fatalf("%d codes sent counted, want 1: the send in flight during the reload was not counted", n)
		}
	})
}

// TestSignInsDuringReloads: a burst of sign-ins and logouts while the
// config is replaced several times (the site around the gate changes, the
// gate's configuration does not, as in most reloads). Every request is
// answered cleanly, never a 5xx (a request that reaches a replaced gate is
// handed to its successor: before, a 503), every session the gate issued
// still passes on the last config, and every logout it acknowledged still
// holds.
func TestSignInsDuringReloads(t *testing.T) {
	sitetest.Parallel(t) // the parts too: serial with SMSGATE_SITETEST_SERIAL
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		const workers, each = 6, 5
		var mu sync.Mutex
		codes := map[string]string{} // the last code sent to each number
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m struct{ To, Body string }
			_ = json.NewDecoder(r.Body).Decode(&m)
			mu.Lock()
			codes[m.To] = m.Body // the code (the default body's Body)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok": true}`)
		}))
		t.Cleanup(hook.Close)
		var users strings.Builder
		for i := range workers * each {
			fmt.Fprintf(&users, "\t\tuser u%d +1415555%04d\n", i, 2600+i)
		}
		var logs []string
		site := func(i int) *sitetest.Site {
			s := sitetest.StartWith(t, sitetest.TrustedProxies, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
%s		%s
		provider webhook %s
		site_name Wiki
	}
	respond "hi {http.auth.user.id} (config %d)"
}`, users.String(), storeLine, hook.URL, i))
			logs = append(logs, s.LogFile)
			return s
		}
		s := site(0)
		storeLine = keep(s)
		base := s.Base // the same for every config
		type outcome struct {
			cookie string
			out    bool // logged out
		}
		var results []outcome
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for k := range each {
					n := w*each + k
					o, err := signInAndOut(base, fmt.Sprintf("u%d", n), fmt.Sprintf("10.0.%d.%d", w, k), n%2 == 1, func() string {
						mu.Lock()
						defer mu.Unlock()
						return codes[fmt.Sprintf("+1415555%04d", 2600+n)]
					})
					var dropped *url.Error
					if errors.As(err, &dropped) {
						// A connection Caddy dropped as it swapped its
						// servers (grace_period 1ns): nothing acknowledged.
						t.Logf("u%d: %v", n, err)
					} else if err != nil {
						t.Errorf("u%d: %v", n, err)
					}
					if o != "" {
						mu.Lock()
						results = append(results, outcome{o, n%2 == 1})
						mu.Unlock()
					}
				}
			})
		}
		for i := 1; i <= 6; i++ {
			time.Sleep(100 * time.Millisecond)
			s = site(i)
		}
		wg.Wait()
		t.Logf("%d sign-ins acknowledged", len(results))
		for _, f := range logs {
			b, _ := os.ReadFile(f)
			for _, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, "panic") || strings.Contains(line, `"status":5`) || strings.Contains(line, `"level":"error"`) && !strings.Contains(line, "server graceful shutdown") {
					t.Errorf("%s", line[:min(len(line), 600)])
				}
			}
		}
		for _, o := range results {
			c := sitetest.NewClient(t, "")
			c.SetCookie("smsgate_session", o.cookie)
			res := c.Get("/")
			if o.out && res.StatusCode != http.StatusFound {
				t.Errorf("a logout acknowledged during the reloads did not last: %d %s", res.StatusCode, res.Text)
			}
			if !o.out && res.StatusCode != http.StatusOK {
				t.Errorf("a session issued during the reloads does not pass: %d %s", res.StatusCode, res.Text)
			}
		}
	})
}

// signInAndOut signs user in through the login form (from ip), and out
// again when out; it returns the session cookie once the gate issued it
// (and, with out, once the logout was acknowledged), or "" and why not.
// Connections are not kept: a reload closes the idle ones, and a POST on
// one that closes is not retried.
func signInAndOut(base, user, ip string, out bool, code func() string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (*http.Response, string, error) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Accept", "text/html")
		req.Header.Set("X-Forwarded-For", ip)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := c.Do(req)
		if err != nil {
			return nil, "", err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			return res, string(b), fmt.Errorf("%s %s: %d\n%s", method, path, res.StatusCode, b)
		}
		return res, string(b), nil
	}
	_, page, err := do(http.MethodGet, "/.smsgate/login", nil)
	if err != nil {
		return "", err
	}
	m := sitetest.CSRFField.FindStringSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("no form: %s", page)
	}
	tok := m[1]
	res, _, err := do(http.MethodPost, "/.smsgate/login", url.Values{"username": {user}, "csrf": {tok}})
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("login: %d", res.StatusCode)
	}
	res, page, err = do(http.MethodPost, "/.smsgate/verify", url.Values{"code": {code()}, "csrf": {tok}})
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("verify: %d %s", res.StatusCode, page)
	}
	var session string
	for _, ck := range res.Cookies() {
		if ck.Name == "smsgate_session" {
			session = ck.Value
		}
	}
	if session == "" {
		return "", errors.New("verify: no session cookie")
	}
	if !out {
		return session, nil
	}
	_, page, err = do(http.MethodGet, "/.smsgate/logout", nil)
	if err != nil {
		return "", err
	}
	m = sitetest.CSRFField.FindStringSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("no logout form: %s", page)
	}
	if res, _, err = do(http.MethodPost, "/.smsgate/logout", url.Values{"csrf": {m[1]}}); err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("logout: %d", res.StatusCode)
	}
	return session, nil
}
