package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/smsgate/caddy-smsgate/bench/codebook"
)

// client reaches the sites on 127.0.0.1, whatever their names.
var client = &http.Client{
	Timeout: 30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		}},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// result is one run's figures.
type result struct {
	Rate      int            `json:"offered_per_s"`
	Attempts  int            `json:"attempts"`
	Sent      int            `json:"codes_sent"`
	SignedIn  int            `json:"signed_in"`
	Refused   map[string]int `json:"refused"`
	Failed    map[string]int `json:"failed"`
	Seconds   float64        `json:"seconds"`
	Achieved  float64        `json:"signed_in_per_s"`
	SendP50   float64        `json:"send_p50_ms"`
	SendP99   float64        `json:"send_p99_ms"`
	CheckP50  float64        `json:"check_p50_ms"`
	CheckP99  float64        `json:"check_p99_ms"`
	WholeP50  float64        `json:"signin_p50_ms"`
	WholeP99  float64        `json:"signin_p99_ms"`
	CodesSeen int64          `json:"codes_in_logs"`
	// PerSecond is, for each second of the run, the attempts answered
	// (signed in or refused by a limit) and Caddy's CPU time (with -pid).
	PerSecond []second `json:"per_second,omitempty"`
}

// run starts sign-ins at rate for dur (or burst at once) and waits for all.
func run(codes *codebook.Book, a, b string, rate int, dur time.Duration, from int, ip string, burst, pid int) result {
	total := int(float64(rate) * dur.Seconds())
	if burst > 0 {
		total = burst
	}
	res := result{Rate: rate, Attempts: total, Refused: map[string]int{}, Failed: map[string]int{}}
	var mu sync.Mutex
	var send, check, whole []float64
	var wg sync.WaitGroup
	start := time.Now()
	var cpu *cpuClock
	if pid > 0 {
		cpu = clockCPU(pid, start)
	}
	var answered []time.Duration // when each answered attempt ended
	for i := range total {
		if burst == 0 {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		}
		wg.Go(func() {
			user := userName(from + i)
			addr := ip
			if addr == "" {
				addr = fmt.Sprintf("10.%d.%d.%d", (from+i)>>16&255, (from+i)>>8&255, (from+i)&255)
			}
			first, second := a, b
			if i%2 == 1 {
				first, second = b, a
			}
			s := signIn(codes, first, second, user, addr)
			mu.Lock()
			defer mu.Unlock()
			if s.failed == "" {
				answered = append(answered, time.Since(start))
			}
			switch {
			case s.refused != "":
				res.Refused[s.refused]++
			case s.failed != "":
				res.Failed[s.failed]++
			}
			if s.send > 0 {
				send = append(send, ms(s.send))
			}
			if s.sent {
				res.Sent++
			}
			if s.check > 0 {
				check = append(check, ms(s.check))
			}
			if s.failed == "" && s.refused == "" {
				res.SignedIn++
				whole = append(whole, ms(s.whole))
			}
		})
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	if cpu != nil {
		res.PerSecond = cpu.stop(answered)
	}
	res.Achieved = float64(res.SignedIn) / res.Seconds
	res.SendP50, res.SendP99 = quantiles(send)
	res.CheckP50, res.CheckP99 = quantiles(check)
	res.WholeP50, res.WholeP99 = quantiles(whole)
	res.CodesSeen = codes.Seen()
	return res
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func quantiles(v []float64) (p50, p99 float64) {
	if len(v) == 0 {
		return 0, 0
	}
	sort.Float64s(v)
	return v[len(v)*50/100], v[min(len(v)*99/100, len(v)-1)]
}

// userName is the i-th user's name: u and i in letters (ua, ub, … uba),
// as storm.sh and burst.sh write them, since a message says a name's
// letters only (a name must not put a number into a text).
func userName(i int) string {
	name := []byte{}
	for {
		name = append([]byte{byte('a' + i%26)}, name...)
		if i /= 26; i == 0 {
			return "u" + string(name)
		}
	}
}

// attempt is one sign-in's story.
type attempt struct {
	send, check, whole time.Duration
	sent               bool
	refused, failed    string
}

// signIn asks for a code on first and types it on second.
func signIn(codes *codebook.Book, first, second, user, ip string) (at attempt) {
	began := time.Now()
	jar := map[string]string{}
	do := func(method, base, path string, form url.Values) (*http.Response, string, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, base+path, body)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("X-Forwarded-For", ip)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", base)
		}
		for k, v := range jar {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		res, err := client.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer res.Body.Close()
		text, _ := io.ReadAll(res.Body)
		for _, c := range res.Cookies() {
			jar[c.Name] = c.Value
		}
		return res, string(text), nil
	}
	res, page, err := do("GET", first, "/.smsgate/login", nil)
	if err != nil || res.StatusCode != http.StatusOK {
		at.failed = fmt.Sprint("login page: ", status(res, err))
		return at
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		at.failed = "login page: no form"
		return at
	}
	csrf := m[1]
	code := codes.Await(user)
	t := time.Now()
	res, page, err = do("POST", first, "/.smsgate/login", url.Values{"username": {user}, "csrf": {csrf}})
	at.send = time.Since(t)
	switch {
	case err == nil && res.StatusCode == http.StatusSeeOther:
		at.sent = true
	case err == nil && res.StatusCode == http.StatusTooManyRequests:
		at.refused = refusal(page)
		codes.Forget(user)
		return at
	default:
		at.failed = fmt.Sprint("send: ", status(res, err))
		codes.Forget(user)
		return at
	}
	var typed string
	select {
	case typed = <-code:
	case <-time.After(15 * time.Second):
		at.failed = "no code in the logs"
		return at
	}
	t = time.Now()
	res, _, err = do("POST", second, "/.smsgate/verify", url.Values{"code": {typed}, "csrf": {csrf}})
	at.check = time.Since(t)
	if err != nil || res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" || !hasSession(jar) {
		at.failed = fmt.Sprint("check: ", status(res, err))
		return at
	}
	at.whole = time.Since(began)
	return at
}

func status(res *http.Response, err error) string {
	if err != nil {
		return "error"
	}
	return fmt.Sprint(res.StatusCode)
}

// refusal names the limit a 429 page speaks of.
func refusal(page string) string {
	for text, name := range map[string]string{
		"from your network": "ip", "This site has sent too many codes": "global", "You have requested too many": "user",
		"sent to this number": "number", "sent to this country": "country", "locked": "locked",
	} {
		if strings.Contains(page, text) {
			return name
		}
	}
	return "other"
}

// hasSession reports whether jar holds a session cookie: the shared name's,
// or a realm's own (the gate's realm is not its site's host: storm.localhost
// or burst.localhost at localhost).
func hasSession(jar map[string]string) bool {
	for name, v := range jar {
		if strings.HasPrefix(name, "smsgate_session") && v != "" {
			return true
		}
	}
	return false
}
