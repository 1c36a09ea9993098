package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/bench/codebook"
)

// stats are one interval's counts and latencies (and, during a blip,
// what it did to users).
type stats struct {
	mu       sync.Mutex
	requests int
	browse   []time.Duration
	signins  []time.Duration
	errors   map[string]int // kind and status
	// cooldowns counts sign-ins told to wait (429) for the code sent
	// moments before by an attempt that failed.
	cooldowns int
	blipping  atomic.Bool
	blip      blipStats
}

// blipStats is what the users met while Redis was paused.
type blipStats struct {
	Browsed   int             `json:"browsed_while_signed_in"`
	Bounced   int             `json:"sent_to_sign_in"`
	Users     int             `json:"users_sent_to_sign_in"`
	bounced   map[string]bool // who
	Refused   int             `json:"sign_in_steps_refused"`
	OtherErrs int             `json:"other_errors"`
}

func newStats() *stats { return &stats{errors: map[string]int{}} }

func (s *stats) request(string, time.Duration) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
}

func (s *stats) fail(kind string, status int, err error) {
	key := fmt.Sprintf("%s %d", kind, status)
	if err != nil {
		key = kind + " " + strings.SplitN(err.Error(), ":", 2)[0]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == http.StatusTooManyRequests {
		// A code was sent moments ago and not typed (an earlier attempt
		// failed): the cooldown is the gate working, the user waits.
		s.cooldowns++
		return
	}
	if s.blipping.Load() {
		if status == http.StatusServiceUnavailable {
			s.blip.Refused++
		} else {
			s.blip.OtherErrs++
		}
		return
	}
	s.errors[key]++
}

func (s *stats) signedIn(d time.Duration) {
	s.mu.Lock()
	s.signins = append(s.signins, d)
	s.mu.Unlock()
}

// browsed counts a page of the app: 200 is right for a signed-in user,
// 302 (to sign in) for one who is not.
func (s *stats) browsed(who string, d time.Duration, status int, err error, in bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.browse = append(s.browse, d)
	if s.blipping.Load() && in {
		s.blip.Browsed++
		if status == http.StatusFound {
			s.blip.Bounced++
			if s.blip.bounced == nil {
				s.blip.bounced = map[string]bool{}
			}
			s.blip.bounced[who] = true
			s.blip.Users = len(s.blip.bounced)
		}
	}
	switch {
	case s.blipping.Load():
	case err != nil:
		s.errors["browse error"]++
	case in && status != http.StatusOK:
		s.errors[fmt.Sprintf("browse %d (signed in)", status)]++
	case !in && status != http.StatusFound:
		s.errors[fmt.Sprintf("browse %d (signed out)", status)]++
	}
}

// take empties the interval's figures.
func (s *stats) take() (requests int, browse, signins []time.Duration, errors map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	requests, browse, signins, errors = s.requests, s.browse, s.signins, s.errors
	s.requests, s.browse, s.signins, s.errors = 0, nil, nil, map[string]int{}
	return
}

// row is one interval's figures.
type row struct {
	At         string         `json:"at"`
	ReqPerS    float64        `json:"req_per_s"`
	Errors     map[string]int `json:"errors"`
	BrowseP50  float64        `json:"browse_p50_ms"`
	BrowseP99  float64        `json:"browse_p99_ms"`
	SignIns    int            `json:"sign_ins"`
	SignInP50  float64        `json:"sign_in_p50_ms"`
	SignInP99  float64        `json:"sign_in_p99_ms"`
	RSS        [2]float64     `json:"rss_mib"`
	Goroutines [2]int         `json:"goroutines"`
	RedisKeys  int64          `json:"redis_keys"`
	RedisMiB   float64        `json:"redis_used_mib"`
}

type result struct {
	Rows      []row      `json:"rows"`
	Cooldowns int        `json:"cooldowns"`
	Blip      *blipStats `json:"blip,omitempty"`
	Total     int        `json:"errors_outside_outage"`
}

// load runs the users for c.duration, printing a row every c.every.
func load(c config, t *topology) (*result, error) {
	stop := make(chan struct{})
	defer close(stop)
	codes, err := codebook.Follow([]string{t.instances[0].log, t.instances[1].log}, "soak", stop)
	if err != nil {
		return nil, err
	}
	st := newStats()
	tokens := make(chan struct{}, c.rate)
	go func() {
		tick := time.NewTicker(time.Second / time.Duration(c.rate))
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				select {
				case tokens <- struct{}{}:
				default:
				}
			}
		}
	}()
	deadline := time.Now().Add(c.duration)
	var wg sync.WaitGroup
	for i := range c.users {
		u := newUser(i, t.front, codes, st)
		wg.Go(func() { u.live(deadline, tokens) })
	}
	rdb := redis.NewClient(&redis.Options{Addr: t.redisAddr})
	defer rdb.Close()
	res := &result{}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "at\treq/s\terrors\tbrowse p50\tp99\tsign-ins\tsign-in p50\tp99\tA RSS\tB RSS\tA gor.\tB gor.\tRedis keys\tRedis mem\t")
	tw.Flush()
	start := time.Now()
	tick := time.NewTicker(c.every)
	defer tick.Stop()
	var blipDone <-chan time.Time
	if c.blip > 0 {
		blipDone = time.After(c.blipAt)
	}
	for time.Now().Before(deadline) {
		select {
		case <-blipDone:
			blipDone = nil
			at := time.Since(start).Round(time.Second)
			st.blipping.Store(true)
			if err := blip(c, t); err != nil {
				return nil, err
			}
			time.Sleep(2 * time.Second) // requests already waiting on Redis finish
			st.blipping.Store(false)
			fmt.Fprintf(c.out, "Redis %s for %s at %s\n", map[bool]string{true: "paused", false: "stopped"}[c.pause], c.blip, at)
			continue
		case <-tick.C:
		}
		r := sample(t, rdb, st, time.Since(start), c.every)
		res.Rows = append(res.Rows, r)
		fmt.Fprintf(tw, "%s\t%.0f\t%d\t%.1fms\t%.1fms\t%d\t%.0fms\t%.0fms\t%.1fMiB\t%.1fMiB\t%d\t%d\t%d\t%.1fMiB\t\n",
			r.At, r.ReqPerS, sum(r.Errors), r.BrowseP50, r.BrowseP99, r.SignIns, r.SignInP50, r.SignInP99,
			r.RSS[0], r.RSS[1], r.Goroutines[0], r.Goroutines[1], r.RedisKeys, r.RedisMiB)
		tw.Flush()
		for k, v := range r.Errors {
			fmt.Fprintf(c.out, "    errors: %s × %d\n", k, v)
		}
	}
	wg.Wait()
	for _, r := range res.Rows {
		res.Total += sum(r.Errors)
	}
	if c.blip > 0 {
		b := st.blip
		res.Blip = &b
		fmt.Fprintf(c.out, "while Redis was away (%s and 2 s after): %d sign-in steps refused with 503, %d other errors; "+
			"%d of %d pages asked for by signed-in users sent them to sign in (%d users)\n", c.blip, b.Refused, b.OtherErrs, b.Bounced, b.Browsed, b.Users)
	}
	res.Cooldowns = st.cooldowns
	fmt.Fprintf(c.out, "errors outside the outage: %d; sign-ins told to wait for the cooldown of a code not typed: %d\n", res.Total, res.Cooldowns)
	return res, nil
}

// blip takes Redis away for c.blip: paused (hung), or stopped and started
// again (it reloads its append-only file).
func blip(c config, t *topology) error {
	if c.pause {
		if err := t.pauseRedis(); err != nil {
			return err
		}
		time.Sleep(c.blip)
		return t.resumeRedis()
	}
	if err := t.stopRedis(); err != nil {
		return err
	}
	time.Sleep(c.blip)
	return t.startRedis()
}

// live is one user's life: sign in, browse, now and then change phones,
// sign out, again, until the deadline.
func (u *user) live(deadline time.Time, tokens chan struct{}) {
	for time.Now().Before(deadline) {
		if !u.in && !u.signIn() {
			time.Sleep(5 * time.Second) // then try again, as people do
			continue
		}
		for n := 20 + rand.IntN(40); n > 0 && u.in && time.Now().Before(deadline); n-- {
			select {
			case <-tokens:
			case <-time.After(time.Until(deadline)):
				return
			}
			u.browse()
		}
		if !u.in {
			continue
		}
		if rand.IntN(4) == 0 {
			u.changePhone()
		}
		u.logOut()
	}
}

func sample(t *topology, rdb *redis.Client, st *stats, at, every time.Duration) row {
	requests, browse, signins, errs := st.take()
	r := row{At: at.Round(time.Second).String(), ReqPerS: float64(requests) / every.Seconds(), Errors: errs, SignIns: len(signins)}
	r.BrowseP50, r.BrowseP99 = quantiles(browse)
	r.SignInP50, r.SignInP99 = quantiles(signins)
	for i, in := range t.instances {
		r.RSS[i] = float64(rss(in.cmd.Process.Pid)) / (1 << 20)
		r.Goroutines[i] = goroutines(in.admin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r.RedisKeys, _ = rdb.DBSize(ctx).Result()
	if info, err := rdb.Info(ctx, "memory").Result(); err == nil {
		var used float64
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
				fmt.Sscan(v, &used)
			}
		}
		r.RedisMiB = used / (1 << 20)
	}
	return r
}

func quantiles(v []time.Duration) (p50, p99 float64) {
	if len(v) == 0 {
		return 0, 0
	}
	slices.Sort(v)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return ms(v[len(v)*50/100]), ms(v[min(len(v)*99/100, len(v)-1)])
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// rss is a process's resident memory, in bytes.
func rss(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(v), &kb)
			return kb << 10
		}
	}
	return 0
}

// goroutines is go_goroutines from an instance's Prometheus metrics.
func goroutines(admin string) int {
	res, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			var n int
			fmt.Sscan(v, &n)
			return n
		}
	}
	return 0
}
