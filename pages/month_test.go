package pages_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// monthHash is bcrypt("demo") at the least cost, 4: basic_auth checks it
// on every request of the month.
const monthHash = "$2a$04$j.2SxMA9CR5EI5RF5EuUIueFFDYAH0vWo0fm52m4BiYpU54KwlKrm"

// A month of sign-ins, to count what texts cost: 40 users who sign in with
// texts (1–3 browsers each), and a few with an authenticator app or a
// passkey (half as many in the suite: monthSize), play 30 days against a real Caddy with the log provider, on the
// gates' test clock (no sleeping). Each sign-in that needs a code follows
// the mix: 78% type it right, 8% make one typo, 5% ask again after
// the cooldown, 3% ask again early, 4% ask for a call instead a few
// seconds after the text, 2% give up. Users tick "Trust this browser"
// when it is offered. Every message the log provider writes is counted.
//
// The main browser is used every weekday at 9:00 and a bit; each other
// browser (a phone, a home computer) on any day with a chance of 1 in 20.
//
//	SMSGATE_FULL=1 go test -run TestMonthOfTexts -v ./pages/
//
// prints the figures docs/BENCHMARKS.md records.

// monthMix is the mix of what a user does once a code is sent.
var monthMix = []struct {
	what    string
	percent int
}{{"right", 78}, {"typo", 8}, {"resend", 5}, {"early", 3}, {"call", 4}, {"give up", 2}}

// monthUser is one simulated user.
type monthUser struct {
	name     string
	kind     string // "phone", "app" or "passkey": how they sign in
	browsers []*sitetest.Client
	secret   string               // the app's
	key      *fakes.Authenticator // the passkey
}

// monthTally is what a month cost one cohort.
type monthTally struct {
	users                          int
	messages                       int // texts and calls
	byCode, trusted, other, gaveUp int // sign-ins: with a texted code, by a trusted browser, app or passkey; abandoned
}

func (m *monthTally) signIns() int { return m.byCode + m.trusted + m.other }

// logTail reads a growing JSON log from where it last stopped.
type logTail struct {
	path string
	off  int64
	read int // messages read so far
}

// messages are the log provider's messages written since the last call.
func (l *logTail) messages(t *testing.T) []map[string]any {
	t.Helper()
	f, err := os.Open(l.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(l.off, 0); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			break // an unfinished line is read next time
		}
		l.off += int64(len(line))
		var e map[string]any
		if json.Unmarshal(line, &e) == nil && (e["msg"] == "verification code" || e["msg"] == "notice") {
			out = append(out, e)
		}
	}
	l.read += len(out)
	return out
}

// lastCode is the code in the last of msgs that carries one.
func lastCodeIn(msgs []map[string]any) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		body, _ := msgs[i]["body"].(string)
		if m := harness.CodeLine.FindStringSubmatch(body); m != nil {
			return m[1]
		}
		if m := spokenCode.FindStringSubmatch(body); m != nil && msgs[i]["channel"] == "voice" {
			return strings.NewReplacer(",", "", " ", "").Replace(m[1])
		}
	}
	return ""
}

// spokenCode is the code a call reads: "1, 2, 3, 4, 5, 6".
var spokenCode = regexp.MustCompile(`(\d(?:, \d)+)`)

var trustBox = regexp.MustCompile(`name="remember" value="1"`)

// TestMonthOfTexts plays the month with the default settings and checks
// the goals: at most 1.05 texts or calls per successful sign-in, at most 2
// per user and month, none to users who sign in with an app or a passkey.
// Then, with SMSGATE_FULL=1, once more with `remember off`, where every
// sign-in takes a code, to show what the mix itself costs per code.
func TestMonthOfTexts(t *testing.T) {
	sitetest.Parallel(t)
	tallies, figures := playMonth(t, "")
	t.Log(figures)
	phones := tallies["phone"]
	if r := ratio(phones.messages, phones.signIns()); r > 1.05 {
		t.Errorf("%.3f texts or calls per successful sign-in, want at most 1.05", r)
	}
	if r := ratio(phones.messages, phones.users); r > 2 {
		t.Errorf("%.2f texts or calls per user and month, want at most 2", r)
	}
	for _, kind := range []string{"app", "passkey"} {
		if m := tallies[kind]; m.messages != 0 || m.other == 0 {
			t.Errorf("users with an %s: %d messages, %d sign-ins with it; want 0 messages", kind, m.messages, m.other)
		}
	}
	if os.Getenv("SMSGATE_FULL") == "" {
		// Every sign-in takes a code then: five times the requests, too
		// long for every run of the suite.
		t.Log("SMSGATE_FULL=1 plays the month with remember off too")
		return
	}
	tallies, figures = playMonth(t, "remember off")
	t.Log(figures)
	// Of 100 sign-ins begun, 78+8+3+4 take one message each (a call asked
	// for within the cooldown sends nothing: the text arrives meanwhile),
	// the 5 who ask again after the cooldown two, and 2 give up after one:
	// 105 messages for 98 sign-ins, 1.071. A switch that skipped the
	// cooldown made it 109, 1.11.
	if phones := tallies["phone"]; ratio(phones.messages, phones.byCode) > 1.08 {
		t.Errorf("%.3f messages per sign-in with a code, want at most 1.08 (a switch within the cooldown sends nothing)", ratio(phones.messages, phones.byCode))
	}
}

// playMonth plays a month at a site with the given smsgate options and
// returns each cohort's tally and the figures as text.
func playMonth(t *testing.T, options string) (map[string]*monthTally, string) {
	var users strings.Builder
	var people []*monthUser
	rng := rand.New(rand.NewPCG(24, 2026))
	add := func(kind string, n int) {
		for i := range n {
			u := &monthUser{name: fmt.Sprintf("%s%02d", kind, i), kind: kind}
			for range 1 + len(people)%3 {
				u.browsers = append(u.browsers, sitetest.NewClient(t, u.name).From(fmt.Sprintf("10.24.%d.%d", len(people), len(u.browsers)+1)))
			}
			people = append(people, u)
			fmt.Fprintf(&users, "\t\t%s %s\n", u.name, monthHash)
		}
	}
	size := monthSize()
	add("phone", size.phone)
	add("app", size.app)
	add("passkey", size.passkey)
	s := sitetest.StartWith(t, "servers {\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}", `http://localhost:{HTTP_PORT} {
	basic_auth {
`+users.String()+`	}
	smsgate {
		store badger {DIR}
		provider log
		channels sms voice
		`+options+`
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	tail := &logTail{path: s.LogFile}
	origin := s.Base
	// Setup, not counted: each user's phone (the admin's), and the app or
	// passkey added after a first sign-in on a browser of its own.
	for i, u := range people {
		if st, out := sitetest.Admin(t, "POST", "/smsgate/users", fmt.Sprintf(`{"realm":"localhost","user":%q,"phone":"+1415555%04d"}`, u.name, 2000+i)); st != http.StatusOK {
			t.Fatalf("adding %s's phone: %d %s", u.name, st, out)
		}
		if u.kind == "phone" {
			continue
		}
		c := sitetest.NewClient(t, u.name).From(fmt.Sprintf("10.25.%d.1", i))
		tok := c.CSRF("/.smsgate/verify")
		c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}})
		if res := c.Post("/.smsgate/verify", url.Values{"code": {lastCodeIn(tail.messages(t))}, "csrf": {tok}}); res.StatusCode >= 400 {
			t.Fatalf("setup sign-in of %s: %d %s", u.name, res.StatusCode, res.Text)
		}
		tok = c.CSRF("/.smsgate/devices")
		if u.kind == "app" {
			m := appSecret.FindStringSubmatch(c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}).Text)
			u.secret = m[1]
			if res := c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, u.secret)}, "csrf": {tok}}); res.StatusCode != http.StatusOK {
				t.Fatalf("adding %s's app: %d %s", u.name, res.StatusCode, res.Text)
			}
			s.Advance(30 * time.Second) // the setup's app code is spent
			continue
		}
		u.key = fakes.NewAuthenticator("localhost", origin)
		begin := passkeyCall(c, "register/begin", origin, nil)
		answer, err := u.key.Create([]byte(begin.Text))
		if err != nil {
			t.Fatal(err)
		}
		if res := passkeyCall(c, "register/finish", origin, answer); res.StatusCode != http.StatusOK {
			t.Fatalf("adding %s's passkey: %d %s", u.name, res.StatusCode, res.Text)
		}
	}
	tail.messages(t) // the setup's
	setup := tail.read

	// The month's visits, in time order, from the next midnight on (day 0
	// is a Monday).
	type visit struct {
		at      time.Duration
		user    *monthUser
		browser int
	}
	var visits []visit
	for day := range 30 {
		for _, u := range people {
			if day%7 < 5 {
				visits = append(visits, visit{time.Duration(day)*24*time.Hour + 9*time.Hour + time.Duration(rng.IntN(120))*time.Minute, u, 0})
			}
			for b := 1; b < len(u.browsers); b++ {
				if rng.IntN(20) == 0 {
					visits = append(visits, visit{time.Duration(day)*24*time.Hour + 12*time.Hour + time.Duration(rng.IntN(600))*time.Minute, u, b})
				}
			}
		}
	}
	sort.SliceStable(visits, func(i, j int) bool { return visits[i].at < visits[j].at })
	start := s.Now().Truncate(24 * time.Hour).Add(24 * time.Hour)
	tallies := map[string]*monthTally{"phone": {users: size.phone}, "app": {users: size.app}, "passkey": {users: size.passkey}}
	for _, v := range visits {
		if d := start.Add(v.at).Sub(s.Now()); d > 0 {
			s.Advance(d)
		}
		tally, before := tallies[v.user.kind], tail.read
		visitOnce(t, s, tail, v.user, v.user.browsers[v.browser], origin, rng, tally)
		tail.messages(t)
		tally.messages += tail.read - before
	}
	var out strings.Builder
	fmt.Fprintf(&out, "a month (30 days, %d visits; %d messages before it, setting up) with %q:\n", len(visits), setup, options)
	for _, kind := range []string{"phone", "app", "passkey"} {
		m := tallies[kind]
		fmt.Fprintf(&out, "  %-7s users %2d: %4d messages; sign-ins %4d (code %4d, trusted browser %4d, app or passkey %3d), %2d given up; "+
			"%.3f messages per successful sign-in, %.3f per sign-in with a code, %.1f per user-month\n",
			kind, m.users, m.messages, m.signIns(), m.byCode, m.trusted, m.other, m.gaveUp,
			ratio(m.messages, m.signIns()), ratio(m.messages, m.byCode), ratio(m.messages, m.users))
	}
	return tallies, out.String()
}

// monthSize is how many users of each kind play the month: the docs'
// figures' 40, 4 and 2 with SMSGATE_FULL=1; half as many in the suite,
// where the month was pages' longest test (about 6 s of CPU under -race,
// a tenth of the package's). Each user plays the same month either way:
// the checks are ratios over the users (texts per sign-in, per user and
// month, none to an app's or a passkey's), and the half still has every
// kind of user, browsers 1 to 3, and every way a sign-in goes.
func monthSize() (size struct{ phone, app, passkey int }) {
	if os.Getenv("SMSGATE_FULL") != "" {
		size.phone, size.app, size.passkey = 40, 4, 2
	} else {
		size.phone, size.app, size.passkey = 20, 2, 1
	}
	return size
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// visitOnce is one visit of u on browser c to s: in with a session, else a
// sign-in as u does it.
func visitOnce(t *testing.T, s *sitetest.Site, tail *logTail, u *monthUser, c *sitetest.Client, origin string, rng *rand.Rand, m *monthTally) {
	t.Helper()
	if res := c.Get("/"); res.StatusCode == http.StatusOK {
		return // still signed in
	}
	res := c.Get("/.smsgate/login?rd=%2F")
	if res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
		m.trusted++ // a trusted browser: no code
		return
	}
	page := c.Get("/.smsgate/verify")
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)
	if tok == nil {
		t.Fatalf("%s: no verify form: %d %s", u.name, page.StatusCode, page.Text)
	}
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {tok[1]}}
		if trustBox.MatchString(page.Text) {
			v.Set("remember", "1")
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	in := func(res *sitetest.Response) bool {
		return res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/"
	}
	switch u.kind {
	case "app":
		if !in(c.Post("/.smsgate/verify", form("action", "app", "code", sitetest.AppCode(t, u.secret)))) {
			t.Fatalf("%s: the app's code did not sign in", u.name)
		}
		s.Advance(30 * time.Second) // a code from the app is used once
		m.other++
		return
	case "passkey":
		begin := passkeyCall(c, "login/begin", origin, nil)
		answer, err := u.key.Get([]byte(begin.Text))
		if err != nil {
			t.Fatal(err)
		}
		if res := passkeyCall(c, "login/finish", origin, answer); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: passkey sign-in: %d %s", u.name, res.StatusCode, res.Text)
		}
		m.other++
		return
	}
	send := func(action string) string {
		c.Post("/.smsgate/verify", form("action", action))
		page = c.Get("/.smsgate/verify") // where the browser is sent
		return lastCodeIn(tail.messages(t))
	}
	code := send("send")
	n := rng.IntN(100)
	what := ""
	for _, x := range monthMix {
		if n -= x.percent; n < 0 {
			what = x.what
			break
		}
	}
	switch what {
	case "typo":
		c.Post("/.smsgate/verify", form("code", sitetest.WrongCode(code)))
	case "resend":
		s.Advance(31 * time.Second)
		code = send("resend")
	case "early":
		s.Advance(5 * time.Second)
		if again := send("resend"); again != "" {
			code = again
		}
	case "call":
		// A few seconds after the text, a call; if the page refuses it
		// for now, the text has arrived meanwhile.
		s.Advance(3 * time.Second)
		if call := send("call"); call != "" {
			code = call
		}
	case "give up":
		m.gaveUp++
		return
	}
	if code == "" {
		t.Fatalf("%s: no code to type", u.name)
	}
	if !in(c.Post("/.smsgate/verify", form("code", code))) {
		t.Fatalf("%s (%s): the code did not sign in", u.name, what)
	}
	m.byCode++
}
