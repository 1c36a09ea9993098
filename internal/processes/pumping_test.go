package processes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/phone"
)

// headerTransport sends who the client is as an SSO's proxy would:
// Remote-User and X-Forwarded-For, from the trusted 127.0.0.1.
type headerTransport struct {
	base     http.RoundTripper
	user, ip string
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Remote-User", h.user)
	r.Header.Set("X-Forwarded-For", h.ip)
	r.Header.Set("Accept", "application/json")
	return h.base.RoundTrip(r)
}

// ssoUser is a browser signed in at an SSO (Remote-User) from ip; its
// connections are shared with the others' (its cookies are its own).
func ssoUser(user, ip string) *http.Client {
	return harness.Browser(headerTransport{base: sharedTransport(), user: user, ip: ip})
}

var sharedTransport = sync.OnceValue(func() http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 8 // one per worker: kept, not dialled again
	return tr
})

// post sends values as JSON to the site at base with its Origin (as a
// script would: no form to load first) and returns the answer's status
// and body.
func post(c *http.Client, base, path string, values map[string]string) (int, string, error) {
	body, _ := json.Marshal(values)
	req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	res, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	return res.StatusCode, string(answer), err
}

// logCodes reads the codes the log provider texted, as the log grows:
// each line once.
type logCodes struct {
	file   string
	mu     sync.Mutex
	offset int64
	last   map[string]string // masked number → its last code
}

// of is the last code texted to num.
func (l *logCodes) of(num string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.Open(l.file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Seek(l.offset, io.SeekStart); err != nil {
		return "", err
	}
	raw, err := io.ReadAll(f)
	if err != nil {
		return "", err
	}
	end := bytes.LastIndexByte(raw, '\n') + 1 // whole lines only
	l.offset += int64(end)
	if l.last == nil {
		l.last = map[string]string{}
	}
	for _, line := range bytes.Split(raw[:end], []byte("\n")) {
		if !bytes.Contains(line, []byte(`"verification code"`)) {
			continue
		}
		var e struct{ To, Body string }
		if json.Unmarshal(line, &e) == nil {
			if m := harness.CodeLine.FindStringSubmatch(e.Body); m != nil {
				l.last[e.To] = m[1]
			}
		}
	}
	if code, ok := l.last[phone.Mask(num)]; ok {
		return code, nil
	}
	return "", fmt.Errorf("no code for %s in the log", phone.Mask(num))
}

// TestPumpingIsStoppedByConversion is the attack the pumping guard
// (pumping/) is for, through a real Caddy with the log provider:
// enrollments of numbers in one range (+44740…), each from a new account
// of an SSO that lets anyone sign up, ten per address, none ever
// verified, mixed with a sign-in of the site's users elsewhere (DE, US,
// FR) after every ten, eight at a time. Every limit is at its default. At most 50 texts may
// reach the range, every sign-in must succeed, and no global budget may be
// what stopped the attack: the guard is.
//
// With SMSGATE_FULL=1 it is the attack the docs quote: 2,000 enrollments
// and 200 sign-ins. By default 300 and 30, a seventh of the requests and
// still three times what global_new (100 an hour) lets through: with the
// guard off, 100 texts reach the range and global_new stops the rest.
func TestPumpingIsStoppedByConversion(t *testing.T) {
	t.Parallel()
	bots := 300
	if os.Getenv("SMSGATE_FULL") != "" {
		bots = 2000
	}
	signIns := bots / 10
	var provisioned strings.Builder
	for i := range signIns {
		name, num := legitUser(i)
		fmt.Fprintf(&provisioned, "\t\tuser %s %s\n", name, num)
	}
	dir := t.TempDir()
	sock, adminPort := listen(t), harness.Port(t)
	base := fmt.Sprintf("http://localhost:%d", sock.Port)
	admin := fmt.Sprintf("http://localhost:%d", adminPort)
	config, logFile := caddyfile(t, dir, "caddy", fmt.Sprintf("admin localhost:%d\n\tservers {\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}", adminPort),
		fmt.Sprintf(`%s {
	respond /health 200
	smsgate {
		identity {http.request.header.Remote-User}
		store badger %s
		provider log
%s	}
	respond "hi {http.auth.user.id}"
}`, base, filepath.Join(dir, "store"), provisioned.String()))
	startCaddy(t, sock, config, logFile, base)

	var attackSent, attackPaused, signedIn atomic.Int64
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	attack := func(i int) {
		c := ssoUser(fmt.Sprint("bot", i), fmt.Sprintf("203.0.%d.%d", 113+i/2550, 1+i/10%255))
		status, body, err := post(c, base, "/.smsgate/enroll", map[string]string{"phone": fmt.Sprintf("+4474001%05d", i)})
		switch {
		case err != nil:
			fail("bot %d: %v", i, err)
		case status == http.StatusOK:
			attackSent.Add(1)
		case status == http.StatusTooManyRequests && strings.Contains(body, "Codes to numbers like yours are paused"):
			attackPaused.Add(1)
		default:
			fail("bot %d: %d %s", i, status, body)
		}
	}
	codes := &logCodes{file: logFile}
	signIn := func(i int) {
		name, num := legitUser(i)
		c := ssoUser(name, fmt.Sprintf("198.51.100.%d", i+1))
		status, body, err := post(c, base, "/.smsgate/verify", map[string]string{"action": "send"})
		if err != nil || status != http.StatusOK {
			fail("%s: send: %d %s %v", name, status, body, err)
			return
		}
		code, err := codes.of(num)
		if err != nil {
			fail("%s: %v", name, err)
			return
		}
		status, body, err = post(c, base, "/.smsgate/verify", map[string]string{"code": code})
		if err != nil || status != http.StatusOK || !strings.Contains(body, `"verified"`) {
			fail("%s: code: %d %s %v", name, status, body, err)
			return
		}
		signedIn.Add(1)
	}
	// A sign-in after every ten bots, eight workers.
	jobs := make(chan func())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for job := range jobs {
				job()
			}
		})
	}
	began := time.Now()
	for i := range bots {
		jobs <- func() { attack(i) }
		if i%10 == 9 {
			jobs <- func() { signIn(i / 10) }
		}
	}
	close(jobs)
	wg.Wait()
	took := time.Since(began)
	if len(failures) > 0 {
		t.Fatalf("%d failures, first: %s", len(failures), failures[0])
	}

	texts := 0
	entries := func(msg string) []map[string]any {
		t.Helper()
		out, err := harness.Log(logFile).Entries(msg)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, m := range entries("verification code") {
		if to, _ := m["to"].(string); strings.HasPrefix(to, "+44") {
			texts++
		}
	}
	limits := map[string]int{}
	for _, e := range entries("limit_hit") {
		limits[e["limit"].(string)]++
	}
	pauses := entries("codes to +44740 are used too seldom: new sends there are paused (SMS pumping?)")
	t.Logf("in %s: %d texts reached the range (%d enrollments answered as sent), %d refused, %d of %d sign-ins; limits hit: %v; pauses: %d",
		took.Round(time.Millisecond), texts, attackSent.Load(), attackPaused.Load(), signedIn.Load(), signIns, limits, len(pauses))
	if texts > 50 || int64(texts) != attackSent.Load() {
		t.Errorf("%d texts reached the attacked range (%d answered as sent), want at most 50", texts, attackSent.Load())
	}
	if signedIn.Load() != int64(signIns) {
		t.Errorf("%d of %d sign-ins succeeded", signedIn.Load(), signIns)
	}
	if limits["global_new"]+limits["global_enrolled"] > 0 || int64(limits["pumping"]) != attackPaused.Load() || attackSent.Load()+attackPaused.Load() != int64(bots) {
		t.Errorf("what stopped the attack: %v (%d refused)", limits, attackPaused.Load())
	}
	if len(pauses) != 1 || pauses[0]["place"] != "+44740" || pauses[0]["kind"] != "prefix" {
		t.Errorf("the admin was told: %v", pauses)
	}

	// The admin API shows it: the pause, and the range's texts and refusals.
	res, err := http.Get(admin + "/smsgate/figures")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var figures struct {
		Countries []struct {
			Country       string
			Texts, Paused int64
			CodesUsed     int64 `json:"codes_used"`
		}
		Pumping struct {
			On     bool
			Pauses []struct{ Place, Kind string }
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&figures); err != nil {
		t.Fatal(err)
	}
	byCountry := map[string]int64{}
	for _, c := range figures.Countries {
		byCountry[c.Country+" texts"], byCountry[c.Country+" paused"], byCountry[c.Country+" used"] = c.Texts, c.Paused, c.CodesUsed
	}
	if !figures.Pumping.On || len(figures.Pumping.Pauses) != 1 || figures.Pumping.Pauses[0].Place != "+44740" ||
		byCountry["GB texts"] != int64(texts) || byCountry["GB paused"] != attackPaused.Load() || byCountry["GB used"] != 0 ||
		byCountry["DE used"]+byCountry["US used"]+byCountry["FR used"] != int64(signIns) {
		t.Errorf("figures: %+v, %v", figures.Pumping, byCountry)
	}
}

// legitUser is the site's i-th user and number, in DE, the US or FR.
func legitUser(i int) (string, string) {
	switch i % 3 {
	case 0:
		return fmt.Sprint("de", i), fmt.Sprintf("+4915123%06d", i)
	case 1:
		return fmt.Sprint("us", i), fmt.Sprintf("+1415555%04d", i)
	}
	return fmt.Sprint("fr", i), fmt.Sprintf("+3361234%04d", i)
}
