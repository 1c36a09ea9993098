package processes

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
	"github.com/smsgate/caddy-smsgate/storewatch"
)

// TestWipeIsRememberedAcrossRestarts: Redis loses alice's phone while
// Caddy is stopped. Started again, the gate remembers (in its data
// directory) that the store held users: new enrollments stay paused, and
// the log says why. A new instance, which remembers nothing, sees the
// freeze in the store. The log also warned, at start, that this Redis
// keeps nothing on disk. The admin accepts with Caddy stopped (the CLI on
// the config's store); then enrollment goes on.
func TestWipeIsRememberedAcrossRestarts(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	dir := t.TempDir()
	sock := listen(t)
	port := sock.Port
	base := fmt.Sprintf("http://localhost:%d", port)
	site := fmt.Sprintf(`http://localhost:%%d {
	respond /health 200
	basic_auth {
		demo %s
	}
	smsgate {
		realm wipe.localhost
		store redis %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}
`, demoHash, r.Addr)
	config, logFile := caddyfile(t, dir, "caddy", "admin off", fmt.Sprintf(site, port))
	s := startCaddy(t, sock, config, logFile, base)
	if !logSays(t, logFile, "keeps nothing on disk") {
		t.Fatal("no warning at start that this Redis keeps nothing on disk")
	}
	b := newBrowser(t, base)
	_, _, page := b.do("GET", "/.smsgate/enroll", nil)
	csrf := csrfField.FindStringSubmatch(page)[1]
	if st, _, _ := b.do("POST", "/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {csrf}}); st != http.StatusSeeOther {
		t.Fatalf("enroll: %d", st)
	}
	if st, _, _ := b.do("POST", "/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {csrf}}); st != http.StatusSeeOther {
		t.Fatalf("verify: %d", st)
	}
	s.stop()
	r.Restart() // the store forgets

	s = startCaddy(t, sock, config, logFile, base)
	paused := func(base string) bool {
		t.Helper()
		st, _, body := newBrowser(t, base).do("GET", "/.smsgate/enroll", nil)
		return st == http.StatusServiceUnavailable && strings.Contains(body, "New enrollments are paused")
	}
	if !paused(base) {
		t.Fatal("after a restart on the wiped store, enrollment is open")
	}
	if !logSays(t, logFile, "the store lost its data") {
		t.Fatal("the log does not say the store lost its data")
	}
	// A new instance (its own, empty data directory) sees the freeze.
	otherSock := listen(t)
	other := otherSock.Port
	otherBase := fmt.Sprintf("http://localhost:%d", other)
	otherConfig, otherLog := caddyfile(t, t.TempDir(), "new", "admin off", fmt.Sprintf(site, other))
	n := startCaddy(t, otherSock, otherConfig, otherLog, otherBase)
	if !paused(otherBase) {
		t.Fatal("a new instance opens enrollment on a frozen store")
	}
	n.stop()

	// With Caddy stopped, the admin accepts through the config's store.
	s.stop()
	if out, err := runCaddy(t, []string{"XDG_DATA_HOME=" + filepath.Join(dir, "data")}, "smsgate", "accept-store", "--config", config); err != nil || !strings.Contains(out, `"accepted": true`) {
		t.Fatalf("accept-store on the stopped Caddy's store: %v\n%s", err, out)
	}
	startCaddy(t, sock, config, logFile, base)
	if paused(base) {
		t.Fatal("enrollment is still paused after the admin accepted")
	}
}

// logSays reports whether Caddy's log file has a line with text.
func logSays(t *testing.T, logFile, text string) bool {
	t.Helper()
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(raw), text)
}

// TestLostSecretInstancesAgree: Redis restarts empty under two instances
// that made their signing secret in it. One restarts at once; a new one
// joins. Without a restart of the others, all agree on one secret within
// the store watch: a session or a code from any instance is good on every
// other (before, half the requests bounced until every instance restarted).
func TestLostSecretInstancesAgree(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	dir := t.TempDir()
	// A try signs a new user in: enough of them for the watches' bound
	// below. Four (three tries) bounded it at ~2.1 s on a quick machine,
	// the watch's interval itself: 17 of 24 runs under load agreed only at
	// their third and last try, 2.05-2.4 s after the wipe.
	const tries = 16
	p := startPair(t, dir, users(tries+1)+"store redis "+r.Addr)
	u0 := newBrowser(t, "")
	if st, body := signInPair(u0, p.a, p.b, "u0"); st != http.StatusSeeOther {
		t.Fatalf("u0: %d\n%s", st, body)
	}

	r.Restart()
	// A new instance joins at once (it remembers nothing of the store).
	sock := listen(t)
	port := sock.Port
	config, logFile := caddyfile(t, t.TempDir(), "c", "admin off", pairSite(port, users(tries+1)+"store redis "+r.Addr))
	c := startCaddy(t, sock, config, logFile, fmt.Sprintf("http://localhost:%d", port))

	agree := func(from, to *server, user string) bool {
		b := newBrowser(t, "")
		st, _ := signInPair(b, from, to, user)
		if st != http.StatusSeeOther {
			return false
		}
		for _, s := range []*server{p.a, p.b, c} {
			if st, _, _ := b.do("GET", s.base+"/", nil); st != http.StatusOK {
				return false
			}
		}
		return true
	}
	start, n := time.Now(), 1
	for ; !agree(c, p.a, fmt.Sprint("u", n)); n++ {
		if n == tries || time.Since(start) > 3*storewatch.StoreWatch+2*time.Second {
			t.Fatalf("the instances still disagree %s after the wipe (%d tries)", time.Since(start).Round(time.Millisecond), n)
		}
		time.Sleep(storewatch.StoreWatch / 2)
	}
	t.Logf("the instances agree on the secret %s after the wipe (try %d)", time.Since(start).Round(time.Millisecond), n)
}
