package processes

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestFiguresCLIOnTwoInstances: two Caddys on one redis-server, a sign-in
// begun on each and finished on the other. `caddy smsgate figures` on
// either shows both (each instance adds what it counted when asked, the
// others within 5 s), priced by the config's costs; `pumping` shows the
// guard on, `pumping-resume` refuses a place that is not paused; stopped,
// the same figures come from the store the config names.
func TestFiguresCLIOnTwoInstances(t *testing.T) {
	t.Parallel()
	redisAddr := redistest.Server(t)
	a, b := startTwo(t, t.TempDir(), true, func(port int) string {
		return fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	smsgate {
		identity none
		realm figures.localhost
		user carol +14155552671
		user dave +14155550100
		costs {
			currency EUR
			price US sms 0.0079
		}
		store redis %s
		provider log
	}
	respond "hi"
}
`, port, redisAddr)
	})
	for _, u := range []struct {
		user        string
		first, then *server
	}{{"carol", a.s, b.s}, {"dave", b.s, a.s}} {
		if st, body := signInPair(newBrowser(t, ""), u.first, u.then, u.user); st != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", u.user, st, body)
		}
	}
	cli := func(args ...string) string {
		t.Helper()
		out, err := runInProcess(t, args...)
		if err != nil {
			t.Fatalf("caddy %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	cli("smsgate", "figures", "--address", b.admin) // b adds its counts
	table := cli("smsgate", "figures", "--address", a.admin, "--days", "7")
	if !strings.Contains(table, "figures.localhost") || !strings.Contains(table, "2 texts, 0 calls, estimated cost 0.0158 EUR") ||
		!regexp.MustCompile(`(?m)^US\s+2\s+0\s+0\s+0\s+2\s+2\s+2\s+100%\s+0\s+0.0158 EUR`).MatchString(table) ||
		!regexp.MustCompile(`(?m)^log.1\s+2\s+0`).MatchString(table) {
		t.Fatalf("figures (table):\n%s", table)
	}
	if out := cli("smsgate", "figures", "--address", b.admin, "--json"); !strings.Contains(out, `"codes_used":2`) || !strings.Contains(out, `"on":true`) {
		t.Fatalf("figures --json:\n%s", out)
	}
	if out := cli("smsgate", "pumping", "--address", a.admin); !strings.Contains(out, `"on":true,"pauses":[]`) {
		t.Fatalf("pumping:\n%s", out)
	}
	if out, err := runInProcess(t, "smsgate", "pumping-resume", "--place", "+44740", "--address", a.admin); err == nil || !strings.Contains(out, "+44740 is not paused") {
		t.Fatalf("resuming a place that is not paused: %v\n%s", err, out)
	}
	if out, err := runInProcess(t, "smsgate", "figures", "--days", "31", "--address", a.admin); err == nil || !strings.Contains(out, "days: a whole number from 1 to 30") {
		t.Fatalf("--days 31: %v\n%s", err, out)
	}
	a.s.stop()
	b.s.stop()
	if out := cli("smsgate", "figures", "--address", a.admin, "--config", a.cfg); !strings.Contains(out, "2 texts, 0 calls, estimated cost 0.0158 EUR") {
		t.Fatalf("figures (stopped, --config):\n%s", out)
	}
}
