package processes

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestSentinelFailover: two Caddy instances run the README's Sentinel
// Caddyfile. The master is killed between a code's sending and its
// entry. Meanwhile the sign-in gets a clear "try again" (503, never a 500,
// never a session) or waits through it on the client's retries, the
// signed-in user keeps getting in on both instances,
// and once the sentinels have promoted the replica the same code works —
// no Caddy restart. The time from the kill to that sign-in is logged.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	sentinel := redistest.StartSentinel(t)
	env := []string{"REDIS_SENTINELS=" + strings.Join(sentinel.Sentinels, " "), "REDIS_MASTER=" + redistest.MasterName}
	example, err := os.ReadFile("../../caddyfile-examples/redis-sentinel.Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var a, b *server
	var wg sync.WaitGroup
	for name, into := range map[string]**server{"a": &a, "b": &b} {
		sock := listen(t)
		port := sock.Port
		base := fmt.Sprintf("http://localhost:%d", port)
		config, logFile := caddyfile(t, dir, name, "admin off", strings.NewReplacer("localhost:8080", fmt.Sprintf("localhost:%d", port), exampleHash, demoHash).Replace(string(example)))
		wg.Go(func() { *into = startCaddy(t, sock, config, logFile, base, env...) })
	}
	wg.Wait()

	// demo enrolls on A and confirms on B.
	owner := newBrowser(t, a.base)
	owner.do("GET", "/.smsgate/login", nil)
	_, _, page := owner.do("GET", "/.smsgate/enroll", nil)
	csrf := csrfField.FindStringSubmatch(page)[1]
	if st, _, _ := owner.do("POST", "/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {csrf}}); st != http.StatusSeeOther {
		t.Fatalf("enroll on A: %d", st)
	}
	owner.base = b.base
	if st, loc, body := owner.do("POST", "/.smsgate/verify", url.Values{"code": {a.lastCode()}, "csrf": {csrf}}); st != http.StatusSeeOther || loc != "/.smsgate/recovery" {
		t.Fatalf("A's code on B: %d\n%s", st, body)
	}
	admitted := func(when string) {
		t.Helper()
		for _, s := range []*server{a, b} {
			owner.base = s.base
			if st, _, body := owner.do("GET", "/", nil); st != http.StatusOK || body != "Hello, demo!" {
				t.Fatalf("the signed-in user on %s %s: %d %q", s.base, when, st, body)
			}
		}
	}
	admitted("before the failover")

	// A second browser asks A for a code; the replica has it too.
	late := newBrowser(t, a.base)
	if st, loc, _ := late.do("GET", "/.smsgate/login", nil); st != http.StatusSeeOther || loc != "/.smsgate/verify" {
		t.Fatalf("sign-in on A: %d %s", st, loc)
	}
	_, _, page = late.do("GET", "/.smsgate/verify", nil)
	csrf = csrfField.FindStringSubmatch(page)[1]
	if st, loc, _ := late.do("POST", "/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {csrf}}); st != http.StatusSeeOther || loc != "/.smsgate/verify" {
		t.Fatalf("send on A: %d %s", st, loc)
	}
	code := a.lastCode()
	sentinel.Replicated()

	// Through the failover, the signed-in user's requests keep flowing on
	// both instances.
	stop, flowed := make(chan struct{}), make(chan []int)
	go func() {
		var statuses []int
		for i := 0; ; i++ {
			select {
			case <-stop:
				flowed <- statuses
				return
			case <-time.After(50 * time.Millisecond):
			}
			req, _ := http.NewRequest("GET", []*server{a, b}[i%2].base+"/", nil)
			req.SetBasicAuth("demo", "demo")
			if res, err := owner.c.Do(req); err != nil {
				statuses = append(statuses, 0)
			} else {
				res.Body.Close()
				statuses = append(statuses, res.StatusCode)
			}
		}
	}()
	old := sentinel.KillMaster()
	killed := time.Now()
	late.base = b.base
	refused, firstAnswer := 0, time.Duration(0)
	for {
		st, loc, body := late.do("POST", "/.smsgate/verify", url.Values{"code": {code}, "csrf": {csrf}})
		if firstAnswer == 0 {
			firstAnswer = time.Since(killed)
		}
		if st == http.StatusSeeOther && loc == "/" {
			break
		}
		if st != http.StatusServiceUnavailable || !strings.Contains(body, "try again") ||
			strings.Contains(body, "goroutine") || strings.Contains(strings.ToLower(body), "redis") {
			log, _ := os.ReadFile(b.log)
			t.Fatalf("a sign-in during the failover: %d %s\n%s", st, loc, log)
		}
		if late.cookieValue(b.base, "smsgate_session") != "" {
			t.Fatal("a session without a code")
		}
		refused++
		if time.Since(killed) > 30*time.Second {
			t.Fatal("sign-ins did not come back 30 s after the master was killed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	recovered := time.Since(killed)
	close(stop)
	statuses := <-flowed
	for _, st := range statuses {
		if st != http.StatusOK {
			t.Fatalf("the signed-in user during the failover: %v", statuses)
		}
	}
	sentinel.WaitFailover(old, 10*time.Second) // it was the new master that answered
	t.Logf("the master was killed; the first try answered after %s; %d tries got \"try again\"; the same code worked %s after the kill; the signed-in user got %d answers of 200 meanwhile",
		firstAnswer.Round(10*time.Millisecond), refused, recovered.Round(10*time.Millisecond), len(statuses))
	// The first try was in flight through the outage: it was refused, or
	// the client's retries carried it over to the new master (which takes
	// the sentinels at least their 1 s down-after time).
	if refused == 0 && firstAnswer < time.Second {
		t.Fatal("the sign-in did not meet the failover")
	}
	if st, _, body := late.do("GET", "/", nil); st != http.StatusOK || body != "Hello, demo!" {
		t.Fatalf("after the failover: %d %q", st, body)
	}
	admitted("after the failover")

	// Revocations flow through the new master: a logout on A ends the
	// session on B.
	late.base = a.base
	_, _, page = late.do("GET", "/.smsgate/logout", nil)
	csrf = csrfField.FindStringSubmatch(page)[1]
	stolen := late.cookieValue(b.base, "smsgate_session")
	if st, _, _ := late.do("POST", "/.smsgate/logout", url.Values{"csrf": {csrf}}); st != http.StatusOK {
		t.Fatalf("logout on A: %d", st)
	}
	thief := newBrowser(t, b.base)
	thief.setCookie(b.base, "smsgate_session", stolen)
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if st, _, _ := thief.do("GET", "/", nil); st != http.StatusOK {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("B still accepts the session 5 s after a logout on A")
		}
	}
}
