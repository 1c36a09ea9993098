package processes

// Restart tests stop a Caddy process and start it again (on the same
// socket, store and data directory): what survives a restart.

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

func TestRestarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := listen(t)
	port := sock.Port
	base := fmt.Sprintf("http://localhost:%d", port)
	config, logFile := caddyfile(t, dir, "caddy", "admin off", fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	basic_auth {
		demo %s
	}
	smsgate {
		store badger %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}
`, port, demoHash, filepath.Join(dir, "store")))

	// Send a code, then restart before typing it in.
	s := startCaddy(t, sock, config, logFile, base)
	b := newBrowser(t, base)
	b.do("GET", "/.smsgate/login", nil)
	_, _, page := b.do("GET", "/.smsgate/enroll", nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no enroll form:\n%s", page)
	}
	csrf := m[1]
	if st, loc, _ := b.do("POST", "/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {csrf}}); st != 303 || loc != "/.smsgate/verify" {
		t.Fatalf("enroll: %d %s", st, loc)
	}
	code := s.lastCode()
	s = s.restart()
	// A first enrollment shows the recovery codes, then goes on.
	if st, loc, body := b.do("POST", "/.smsgate/verify", url.Values{"code": {code}, "csrf": {csrf}}); st != http.StatusSeeOther || loc != "/.smsgate/recovery" {
		t.Fatalf("verify after restart: %d %s\n%s", st, loc, body)
	}
	if st, _, body := b.do("GET", "/.smsgate/recovery", nil); st != 200 || !strings.Contains(body, "recovery codes") {
		t.Fatalf("the recovery codes after restart: %d\n%s", st, body)
	}
	if st, _, body := b.do("GET", "/", nil); st != 200 || body != "Hello, demo!" {
		t.Fatalf("app: %d %q", st, body)
	}
	// The session and the device both survive another restart.
	s.restart()
	if st, _, body := b.do("GET", "/", nil); st != 200 || body != "Hello, demo!" {
		t.Fatalf("app after restart: %d %q", st, body)
	}
	fresh := newBrowser(t, base)
	if st, loc, _ := fresh.do("GET", "/.smsgate/login", nil); st != 303 || loc != "/.smsgate/verify" {
		t.Fatalf("new session after restart goes to %d %s, want the verify page", st, loc)
	}
}

func TestLockoutSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := listen(t)
	port := sock.Port
	base := fmt.Sprintf("http://localhost:%d", port)
	config, logFile := caddyfile(t, dir, "caddy", "admin off", fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	smsgate {
		identity none
		user carol +14155552671
		lockout_after 3
		lockout 1h
		store badger %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}
`, port, filepath.Join(dir, "store")))
	s := startCaddy(t, sock, config, logFile, base)
	b := newBrowser(t, base)
	_, _, page := b.do("GET", "/.smsgate/login", nil)
	csrf := csrfField.FindStringSubmatch(page)[1]
	if st, _, _ := b.do("POST", "/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {csrf}}); st != 303 {
		t.Fatalf("login: %d", st)
	}
	code := s.lastCode()
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	var st int
	for range 3 {
		st, _, _ = b.do("POST", "/.smsgate/verify", url.Values{"code": {wrong}, "csrf": {csrf}})
	}
	if st != http.StatusTooManyRequests {
		t.Fatalf("third wrong code: %d, want 429", st)
	}
	s.stop()

	startCaddy(t, sock, config, logFile, base)
	st, _, body := b.do("POST", "/.smsgate/verify", url.Values{"code": {code}, "csrf": {csrf}})
	if st != http.StatusTooManyRequests || !strings.Contains(body, "locked") {
		t.Fatalf("the right code after a restart during a lockout: %d\n%s", st, body)
	}
}

// TestAdminReset: a user who lost their phone is reset by the admin with
// `caddy smsgate reset`; their live session ends and they enroll again.
func TestAdminReset(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := listen(t)
	port := sock.Port
	base := fmt.Sprintf("http://localhost:%d", port)
	storeDir := filepath.Join(dir, "store")
	config, logFile := caddyfile(t, dir, "caddy", "admin off", fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	basic_auth {
		demo %s
	}
	smsgate {
		store badger %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}
`, port, demoHash, storeDir))
	s := startCaddy(t, sock, config, logFile, base)
	b := newBrowser(t, base)
	b.do("GET", "/.smsgate/login", nil)
	_, _, page := b.do("GET", "/.smsgate/enroll", nil)
	csrf := csrfField.FindStringSubmatch(page)[1]
	b.do("POST", "/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {csrf}})
	b.do("POST", "/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {csrf}})
	if st, _, _ := b.do("GET", "/", nil); st != 200 {
		t.Fatalf("signed in: %d", st)
	}

	// With Caddy running, the store is locked: a clear refusal.
	out, err := runInProcess(t, "smsgate", "reset", "--realm", "localhost", "--user", "demo", "--store", storeDir)
	if err == nil || !strings.Contains(out, "is Caddy running") {
		t.Fatalf("reset while Caddy runs: %v\n%s", err, out)
	}
	s.stop()
	out, err = runInProcess(t, "smsgate", "reset", "--realm", "localhost", "--user", "demo", "--store", storeDir)
	if err != nil || !strings.Contains(out, `"reset": "demo"`) {
		t.Fatalf("reset: %v\n%s", err, out)
	}

	startCaddy(t, sock, config, logFile, base)
	if st, loc, _ := b.do("GET", "/", nil); st != http.StatusFound || loc != "/.smsgate/login?rd=%2F" {
		t.Fatalf("the session after a reset: %d %s", st, loc)
	}
	if st, loc, _ := b.do("GET", "/.smsgate/login", nil); st != http.StatusSeeOther || loc != "/.smsgate/enroll" {
		t.Fatalf("after a reset the user enrolls again: %d %s", st, loc)
	}
}
