package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/bench/codebook"
)

// user is one person: their first factor's name, their browser, their
// phone, and what happened to them.
type user struct {
	name   string
	n      int // phones used so far
	client *http.Client
	front  string
	codes  *codebook.Book
	stats  *stats
	in     bool // signed in, as far as they know
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newUser(i int, front string, codes *codebook.Book, st *stats) *user {
	jar, _ := cookiejar.New(nil)
	return &user{name: fmt.Sprint("u", i), front: front, codes: codes, stats: st, client: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 4},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// phone is the user's current number (a new one after each change).
func (u *user) phone() string {
	var id int
	fmt.Sscan(u.name[1:], &id)
	return fmt.Sprintf("+1415%07d", 2000000+id*1000+u.n)
}

// do sends one request through the front, as the user (the first factor's
// header, as an SSO in front would set it), and returns status, Location
// and body.
func (u *user) do(method, path string, form url.Values, accept string) (int, string, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u.front+path, body)
	req.Header.Set("X-Soak-User", u.name)
	req.Header.Set("Accept", accept)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := u.client.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(raw), nil
}

// step is one request of a flow, timed and judged: want is the status
// that means it went well.
func (u *user) step(kind, method, path string, form url.Values, want int) (string, string, bool) {
	start := time.Now()
	st, loc, body, err := u.do(method, path, form, "text/html")
	u.stats.request(kind, time.Since(start))
	if err != nil || st != want {
		u.stats.fail(kind, st, err)
		return loc, body, false
	}
	return loc, body, true
}

// signIn: the gate's pages from the app's redirect to the session — a
// first phone enrolled, or a code to the phone on file.
func (u *user) signIn() bool {
	start := time.Now()
	loc, _, ok := u.step("signin", "GET", "/.smsgate/login?rd=%2F", nil, http.StatusSeeOther)
	if !ok {
		return false
	}
	_, page, ok := u.step("signin", "GET", loc, nil, http.StatusOK)
	m := csrfField.FindStringSubmatch(page)
	if !ok || m == nil {
		return false
	}
	csrf := m[1]
	code := u.codes.Await(u.name)
	defer u.codes.Forget(u.name)
	if strings.HasSuffix(loc, "/enroll") {
		_, _, ok = u.step("signin", "POST", "/.smsgate/enroll", url.Values{"csrf": {csrf}, "phone": {u.phone()}}, http.StatusSeeOther)
	} else {
		_, _, ok = u.step("signin", "POST", "/.smsgate/verify", url.Values{"csrf": {csrf}, "action": {"send"}}, http.StatusSeeOther)
	}
	if !ok || !u.typeCode(code, csrf, "signin") {
		return false
	}
	u.stats.signedIn(time.Since(start))
	u.in = true
	return true
}

// typeCode waits for the code in the logs and types it.
func (u *user) typeCode(code chan string, csrf, kind string) bool {
	var typed string
	select {
	case typed = <-code:
	case <-time.After(15 * time.Second):
		u.stats.fail(kind, 0, fmt.Errorf("no code in the logs"))
		return false
	}
	start := time.Now()
	st, _, body, err := u.do("POST", "/.smsgate/verify", url.Values{"csrf": {csrf}, "code": {typed}}, "text/html")
	u.stats.request(kind, time.Since(start))
	if err != nil || (st != http.StatusSeeOther && !(st == http.StatusOK && strings.Contains(body, "recovery"))) {
		u.stats.fail(kind, st, err)
		return false
	}
	return true
}

// browse is one page of the app behind the gate.
func (u *user) browse() {
	start := time.Now()
	st, _, _, err := u.do("GET", fmt.Sprintf("/app/%d", rand.IntN(1000)), nil, "text/html")
	u.stats.browsed(u.name, time.Since(start), st, err, u.in)
	if st == http.StatusFound {
		u.in = false // sent to sign in
	}
}

// changePhone adds a new phone (a code to it) and removes the old one, on
// the devices page.
func (u *user) changePhone() bool {
	_, page, ok := u.step("phone", "GET", "/.smsgate/devices", nil, http.StatusOK)
	m := csrfField.FindStringSubmatch(page)
	if !ok || m == nil {
		return false
	}
	csrf := m[1]
	st, _, raw, err := u.do("GET", "/.smsgate/devices", nil, "application/json")
	var listed struct {
		Devices []struct{ ID string } `json:"devices"`
	}
	if err != nil || st != http.StatusOK || json.Unmarshal([]byte(raw), &listed) != nil || len(listed.Devices) == 0 {
		u.stats.fail("phone", st, err)
		return false
	}
	old := listed.Devices[0].ID
	u.n++
	code := u.codes.Await(u.name)
	defer u.codes.Forget(u.name)
	if _, _, ok := u.step("phone", "POST", "/.smsgate/devices", url.Values{"csrf": {csrf}, "action": {"add"}, "phone": {u.phone()}, "name": {"new"}}, http.StatusSeeOther); !ok {
		return false
	}
	if !u.typeCode(code, csrf, "phone") {
		return false
	}
	// Back on the devices page (a new form: the code ended the flow).
	_, page, ok = u.step("phone", "GET", "/.smsgate/devices", nil, http.StatusOK)
	if m = csrfField.FindStringSubmatch(page); !ok || m == nil {
		return false
	}
	_, _, ok = u.step("phone", "POST", "/.smsgate/devices", url.Values{"csrf": {m[1]}, "action": {"remove"}, "device": {old}, "confirm": {"1"}}, http.StatusOK)
	return ok
}

// logOut signs out (the confirmation page, then its form).
func (u *user) logOut() bool {
	_, page, ok := u.step("logout", "GET", "/.smsgate/logout", nil, http.StatusOK)
	m := csrfField.FindStringSubmatch(page)
	if !ok || m == nil {
		return false
	}
	_, _, ok = u.step("logout", "POST", "/.smsgate/logout", url.Values{"csrf": {m[1]}}, http.StatusOK)
	u.in = false
	return ok
}
