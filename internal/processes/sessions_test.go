package processes

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// consolePost submits a console form as a browser does: with the page's
// Origin.
func consolePost(t *testing.T, b *browser, target, origin string, form url.Values) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Origin", origin)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(body)
}

// refusedWithin waits until b's session is refused at base, at most
// logoutReach plus a second (a poll's round trip on a busy machine).
func refusedWithin(t *testing.T, b *browser, base, who string) {
	t.Helper()
	start := time.Now()
	for {
		if st, _, _ := b.do("GET", base+"/", nil); st == http.StatusFound {
			t.Logf("%s was signed out at %s after %s", who, base, time.Since(start).Round(10*time.Millisecond))
			return
		}
		if time.Since(start) > logoutReach+time.Second {
			t.Fatalf("%s is still signed in at %s %s after the end", who, base, time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var sessionField = regexp.MustCompile(`name="session" value="([^"]+)"`)

// TestConsoleSessionsOnTwoInstances: two Caddys on one redis-server. Dave
// signs in on each; the console on either lists both sessions (where each
// was made); ending one from B's console signs that browser out on A
// within the revocation bound, and not the other; `caddy smsgate
// sessions` and `end-session` do the same through the admin endpoint,
// and with both stopped, on the store the config names.
func TestConsoleSessionsOnTwoInstances(t *testing.T) {
	t.Parallel()
	redisAddr := redistest.Server(t)
	a, b := startTwo(t, t.TempDir(), true, func(port int) string {
		return fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	smsgate {
		identity none
		realm sessions.localhost
		user carol +14155552671
		user dave +14155550100
		admins carol
		store redis %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}
`, port, redisAddr)
	})
	onA, onB, admin := newBrowser(t, ""), newBrowser(t, ""), newBrowser(t, "")
	for _, in := range []struct {
		b    *browser
		s    *server
		user string
	}{{onA, a.s, "dave"}, {onB, b.s, "dave"}, {admin, a.s, "carol"}} {
		if st, body := signInPair(in.b, in.s, in.s, in.user); st != http.StatusSeeOther {
			t.Fatalf("%s on %s: %d\n%s", in.user, in.s.base, st, body)
		}
	}

	// B's console lists both, each with where it was made.
	st, _, page := admin.do("GET", b.s.base+"/.smsgate/admin/user?name=dave", nil)
	if st != http.StatusOK || !strings.Contains(page, "at "+a.host) || !strings.Contains(page, "at "+b.host) {
		t.Fatalf("dave's page on B's console: %d\n%s", st, page)
	}
	var sidA string
	for _, row := range strings.Split(page, "<tr>") {
		if m := sessionField.FindStringSubmatch(row); m != nil && strings.Contains(row, "at "+a.host) {
			sidA = m[1]
		}
	}
	csrf := csrfField.FindStringSubmatch(page)[1]
	// The change answers 303 to the page (Post/Redirect/Get), which says it.
	st, loc, body := consolePost(t, admin, b.s.base+"/.smsgate/admin/user?name=dave", b.s.base, url.Values{"action": {"end"}, "session": {sidA}, "csrf": {csrf}})
	if st != http.StatusSeeOther || loc != "/.smsgate/admin/user?name=dave" {
		t.Fatalf("ending the session made on A, from B: %d to %q\n%s", st, loc, body)
	}
	if st, _, body = admin.do("GET", b.s.base+loc, nil); st != http.StatusOK || !strings.Contains(body, "The session has ended") {
		t.Fatalf("the page after ending the session made on A: %d\n%s", st, body)
	}
	refusedWithin(t, onA, a.s.base, "the browser signed in on A")
	for _, base := range []string{a.s.base, b.s.base} {
		if st, _, body := onB.do("GET", base+"/", nil); st != http.StatusOK || body != "Hello, dave!" {
			t.Fatalf("the other browser at %s: %d %q", base, st, body)
		}
	}

	// The CLI, through A's admin endpoint.
	cli := func(args ...string) string {
		t.Helper()
		out, err := runInProcess(t, append(args, "--realm", "sessions.localhost", "--user", "dave")...)
		if err != nil {
			t.Fatalf("caddy %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	table := cli("smsgate", "sessions", "--address", a.admin)
	row := regexp.MustCompile(`(?m)^(\S+)\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+sms\s+` + regexp.QuoteMeta(b.host) + `\s+-$`).FindStringSubmatch(table)
	if row == nil || strings.Contains(table, sidA) {
		t.Fatalf("sessions (running):\n%s", table)
	}
	cli("smsgate", "end-session", "--id", row[1], "--address", a.admin)
	refusedWithin(t, onB, b.s.base, "the browser signed in on B")
	if out, err := runInProcess(t, "smsgate", "end-session", "--realm", "sessions.localhost", "--user", "dave", "--address", a.admin); err == nil || !strings.Contains(out, "end-session needs --id") {
		t.Fatalf("end-session without --id: %v\n%s", err, out)
	}

	// Stopped: the same, on the Redis the config names.
	again := newBrowser(t, "")
	if st, body := signInPair(again, a.s, a.s, "dave"); st != http.StatusSeeOther {
		t.Fatalf("dave again: %d\n%s", st, body)
	}
	a.s.stop()
	b.s.stop()
	table = cli("smsgate", "sessions", "--address", a.admin, "--config", a.cfg)
	rows := regexp.MustCompile(`(?m)^([A-Z2-7]{26})\s.*`+regexp.QuoteMeta(a.host)+`\s+-$`).FindAllStringSubmatch(table, -1)
	if len(rows) != 1 {
		t.Fatalf("sessions (stopped), want one row:\n%s", table)
	}
	cli("smsgate", "end-session", "--id", rows[0][1], "--address", a.admin, "--config", a.cfg)
	if out := cli("smsgate", "sessions", "--address", a.admin, "--config", a.cfg); !strings.Contains(out, "No sessions listed") {
		t.Fatalf("sessions after the end (stopped):\n%s", out)
	}
}
