// Command storm drives the sign-in storm benchmark (bench/storm.sh): real
// sign-ins — a page, a POST that sends a code, the code read from the log
// provider's lines in Caddy's JSON logs, a POST that checks it — at a
// fixed rate across two Caddy instances (the code is asked for on one and
// typed on the other), each from its own client IP (X-Forwarded-For from
// a trusted proxy). It prints one JSON line of results per run.
//
//	storm port                      a free loopback port
//	storm mint -secret S -realm R   a session cookie value, as the gate signs one
//	storm signins -a URL -b URL -logs A,B -rate N -for D -from I [-ip IP]
//	storm sessions -a URL -b URL -secret S -realm R -n N
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smsgate/caddy-smsgate/session"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("storm: port | mint | signins | sessions")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	a := fs.String("a", "", "instance A's base URL")
	b := fs.String("b", "", "instance B's base URL")
	logs := fs.String("logs", "", "the two instances' JSON logs, comma-separated")
	rate := fs.Int("rate", 10, "sign-ins started per second")
	dur := fs.Duration("for", 10*time.Second, "how long to start sign-ins")
	from := fs.Int("from", 0, "the first user's number (users are userName(from), userName(from+1), …)")
	ip := fs.String("ip", "", "one client IP for every sign-in (default: one each)")
	burst := fs.Int("burst", 0, "start this many sign-ins at once instead of a rate")
	secret := fs.String("secret", "", "the gate's signing_key")
	realm := fs.String("realm", "storm.localhost", "the gate's realm")
	n := fs.Int("n", 100000, "sessions to hold")
	_ = fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "port":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
		l.Close()
	case "mint":
		fmt.Println(mint(*secret, *realm, userName(0)))
	case "signins":
		codes := follow(strings.Split(*logs, ","))
		r := run(codes, *a, *b, *rate, *dur, *from, *ip, *burst)
		out, _ := json.Marshal(r)
		fmt.Println(string(out))
	case "sessions":
		out, _ := json.Marshal(hold(*a, *b, *secret, *realm, *n))
		fmt.Println(string(out))
	default:
		log.Fatalf("storm: unknown command %q", os.Args[1])
	}
}

// mint signs a session for user as the gate would after a right code.
func mint(secret, realm, user string) string {
	keys := session.NewKeys(session.Derive([]byte(secret), "session"), time.Now)
	cl := session.Claims{RegisteredClaims: keys.NewClaims(realm, user, 12*time.Hour), AMR: []string{"sms"}, SID: "storm-" + user}
	cl.AuthTime = cl.IssuedAt.Unix()
	tok, err := keys.Sign(cl)
	if err != nil {
		log.Fatal(err)
	}
	return tok
}

var client = &http.Client{
	Timeout:       30 * time.Second,
	Transport:     &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512},
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
}

// run starts sign-ins at rate for dur (or burst at once) and waits for all.
func run(codes *codeBook, a, b string, rate int, dur time.Duration, from int, ip string, burst int) result {
	total := int(float64(rate) * dur.Seconds())
	if burst > 0 {
		total = burst
	}
	res := result{Rate: rate, Attempts: total, Refused: map[string]int{}, Failed: map[string]int{}}
	var mu sync.Mutex
	var send, check, whole []float64
	var wg sync.WaitGroup
	start := time.Now()
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
	res.Achieved = float64(res.SignedIn) / res.Seconds
	res.SendP50, res.SendP99 = quantiles(send)
	res.CheckP50, res.CheckP99 = quantiles(check)
	res.WholeP50, res.WholeP99 = quantiles(whole)
	res.CodesSeen = codes.seen.Load()
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

// attempt is one sign-in's story.
type attempt struct {
	send, check, whole time.Duration
	sent               bool
	refused, failed    string
}

// signIn asks for a code on first and types it on second.
func signIn(codes *codeBook, first, second, user, ip string) (at attempt) {
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
	code := codes.await(user)
	t := time.Now()
	res, page, err = do("POST", first, "/.smsgate/login", url.Values{"username": {user}, "csrf": {csrf}})
	at.send = time.Since(t)
	switch {
	case err == nil && res.StatusCode == http.StatusSeeOther:
		at.sent = true
	case err == nil && res.StatusCode == http.StatusTooManyRequests:
		at.refused = refusal(page)
		codes.forget(user)
		return at
	default:
		at.failed = fmt.Sprint("send: ", status(res, err))
		codes.forget(user)
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
	if err != nil || res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" || jar["smsgate_session"] == "" {
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

// userName is the i-th user's name: u and i in letters (ua, ub, … uba),
// as storm.sh writes them, since a message says a name's letters only
// (a name must not put a number into a text).
func userName(i int) string {
	name := []byte{}
	for {
		name = append([]byte{byte('a' + i%26)}, name...)
		if i /= 26; i == 0 {
			return "u" + string(name)
		}
	}
}

// codeBook follows the logs for the log provider's lines ("storm <user>
// <code>", the benchmark's message_template) and hands each code to the
// sign-in waiting for it.
type codeBook struct {
	mu      sync.Mutex
	waiting map[string]chan string
	seen    atomic.Int64
}

var codeLine = regexp.MustCompile(`^storm (\S+) (\d+)$`)

func follow(files []string) *codeBook {
	cb := &codeBook{waiting: map[string]chan string{}}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			log.Fatal(err)
		}
		_, _ = f.Seek(0, io.SeekEnd) // codes of earlier runs are not ours
		go cb.tail(f)
	}
	return cb
}

func (cb *codeBook) tail(f *os.File) {
	r := bufio.NewReader(f)
	var partial string
	for {
		line, err := r.ReadString('\n')
		partial += line
		if err != nil {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		var entry struct {
			Msg  string `json:"msg"`
			Body string `json:"body"`
		}
		if json.Unmarshal([]byte(partial), &entry) == nil && entry.Msg == "verification code" {
			if m := codeLine.FindStringSubmatch(entry.Body); m != nil {
				cb.seen.Add(1)
				cb.mu.Lock()
				ch := cb.waiting[m[1]]
				delete(cb.waiting, m[1])
				cb.mu.Unlock()
				if ch != nil {
					ch <- m[2]
				}
			}
		}
		partial = ""
	}
}

// await is where user's next code will arrive.
func (cb *codeBook) await(user string) chan string {
	ch := make(chan string, 1)
	cb.mu.Lock()
	cb.waiting[user] = ch
	cb.mu.Unlock()
	return ch
}

func (cb *codeBook) forget(user string) {
	cb.mu.Lock()
	delete(cb.waiting, user)
	cb.mu.Unlock()
}

// hold makes n sessions and has each one admitted once on each instance,
// so that both have seen (and may cache) every one.
func hold(a, b, secret, realm string, n int) map[string]any {
	tokens := make(chan string, 256)
	go func() {
		for i := range n {
			tokens <- mint(secret, realm, userName(i))
		}
		close(tokens)
	}()
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			for tok := range tokens {
				for _, base := range []string{a, b} {
					req, _ := http.NewRequest("GET", base+"/", nil)
					req.AddCookie(&http.Cookie{Name: "smsgate_session", Value: tok})
					res, err := client.Do(req)
					if err == nil {
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
					}
					if err == nil && res.StatusCode == http.StatusOK {
						admitted.Add(1)
					} else {
						refused.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	return map[string]any{"sessions": n, "admitted": admitted.Load(), "refused": refused.Load(), "seconds": time.Since(start).Seconds()}
}
