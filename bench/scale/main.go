// Command scale measures smsgate with many enrolled devices: it fills a
// Badger store with N devices (as the gate writes them), starts a Caddy
// with smsgate on it, and reports start-up time, Caddy's memory (RSS), and
// the latency of signing in (login, then verify) for users picked at random.
//
//	go build -o /tmp/caddy ./cmd/caddy
//	go run ./bench/scale -caddy /tmp/caddy -n 1000000 -dir /tmp/smsgate-scale
//	go run ./bench/scale -caddy /tmp/caddy -n 1000 -logins 5   # a smoke run
//
// Without -dir, it works in a new temporary folder, removed at the end, so
// that two runs at once never share one; a folder named with -dir is kept,
// and its store filled once, for the next run on it.
//
// Targets 127.0.0.1 only; stops by itself.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/store"
)

const realm = "scale.localhost"

func main() {
	caddyBin := flag.String("caddy", "", "a Caddy binary with smsgate (go build ./cmd/caddy)")
	n := flag.Int("n", 1_000_000, "devices to enroll")
	dir := flag.String("dir", "", "where the store and logs go, kept (default: a new temporary folder, removed at the end)")
	logins := flag.Int("logins", 200, "sign-ins to time")
	port := flag.Int("port", 0, "Caddy's port (default: a free one)")
	flag.Parse()
	if *caddyBin == "" {
		log.Fatal("scale: -caddy is required")
	}
	work, done, err := workDir(*dir)
	if err != nil {
		log.Fatal(err)
	}
	err = run(*caddyBin, work, *n, *logins, *port)
	done()
	if err != nil {
		log.Fatal(err)
	}
}

// workDir is dir, kept; or, dir unnamed, a new temporary folder, which
// done removes. A fixed default (/tmp/smsgate-scale) was one folder for
// every run: two at once shared a store and a log
// (TestAScaleRunWorksInAFolderOfItsOwn).
func workDir(dir string) (work string, done func(), err error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o700)
	}
	if work, err = os.MkdirTemp("", "smsgate-scale-"); err != nil {
		return "", nil, err
	}
	return work, func() { _ = os.RemoveAll(work) }, nil
}

// run fills the store in dir (unless it is there), starts Caddy on it and
// times the sign-ins; Caddy is stopped when it returns.
func run(caddyBin, dir string, n, logins, port int) error {
	storeDir := filepath.Join(dir, "store")
	if _, err := os.Stat(storeDir); err != nil {
		start := time.Now()
		if err := fill(storeDir, n); err != nil {
			return err
		}
		fmt.Printf("filled %d devices in %s\n", n, time.Since(start).Round(time.Millisecond))
	}
	size := dirSize(storeDir)
	fmt.Printf("store on disk: %.1f MiB\n", float64(size)/(1<<20))

	if port == 0 {
		port = harness.FreePort()
	}
	logFile := filepath.Join(dir, "caddy.log")
	_ = os.Remove(logFile)
	config := filepath.Join(dir, "Caddyfile")
	err := os.WriteFile(config, fmt.Appendf(nil, `{
	admin off
	log {
		output file %s
		format json
	}
}
http://localhost:%d {
	respond /health 200
	smsgate {
		identity none
		realm %s
		limit ip off
		limit user off
		limit number off
		limit country off
		limit global_enrolled off
		limit stranger_ip off
		limit stranger_net off
		limit strangers off
		store badger %s
		provider log
	}
	respond "hi {http.auth.user.id}"
}
`, logFile, port, realm, storeDir), 0o600)
	if err != nil {
		return err
	}
	base := fmt.Sprintf("http://localhost:%d", port)
	cmd := exec.Command(caddyBin, "run", "--config", config)
	// Caddy's data directory (a gate's memory of its stores) is the run's,
	// never the user's.
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(dir, "data"))
	start := time.Now()
	// Caddy dies with this program, however it ends (a SIGKILL runs no
	// deferred stop): before, it outlived it.
	if err := harness.Start(cmd, syscall.SIGTERM); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	for {
		if res, err := http.Get(base + "/health"); err == nil {
			res.Body.Close()
			break
		}
		if time.Since(start) > time.Minute {
			return fmt.Errorf("caddy did not start in a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("start-up (process start to first answer): %s\n", time.Since(start).Round(time.Millisecond))
	fmt.Printf("RSS after start: %.1f MiB\n", rss(cmd.Process.Pid))

	var loginT, verifyT []time.Duration
	for i := range logins {
		user := fmt.Sprintf("user%07d", rand.IntN(n))
		l, v, err := signIn(base, logFile, user)
		if err != nil {
			return fmt.Errorf("sign-in %d (%s): %v", i, user, err)
		}
		loginT, verifyT = append(loginT, l), append(verifyT, v)
	}
	fmt.Printf("login (lookup + challenge + send) over %d users: p50 %s, p99 %s\n", logins, pct(loginT, 50), pct(loginT, 99))
	fmt.Printf("verify (check + session) over %d users: p50 %s, p99 %s\n", logins, pct(verifyT, 50), pct(verifyT, 99))
	fmt.Printf("RSS after %d sign-ins: %.1f MiB\n", logins, rss(cmd.Process.Pid))
	return nil
}

// fill writes n devices the way the gate stores them.
func fill(dir string, n int) error {
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		return err
	}
	defer db.Close()
	wb := db.NewWriteBatch()
	enrolled := time.Now().UTC()
	for i := range n {
		raw, _ := json.Marshal(enrollment.Device{Phone: fmt.Sprintf("+1415555%04d", i%10000), Enrolled: enrolled})
		if err := wb.Set([]byte(store.Key("device", realm, fmt.Sprintf("user%07d", i))), raw); err != nil {
			return err
		}
	}
	return wb.Flush()
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn logs user in by name and verifies the code from the log,
// returning how long the login POST and the verify POST took.
func signIn(base, logFile, user string) (time.Duration, time.Duration, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/.smsgate/login")
	if err != nil {
		return 0, 0, err
	}
	var page bytes.Buffer
	_, _ = page.ReadFrom(res.Body)
	res.Body.Close()
	m := csrfField.FindStringSubmatch(page.String())
	if m == nil {
		return 0, 0, fmt.Errorf("no login form")
	}
	post := func(path string, form map[string]string) (time.Duration, int, error) {
		vals := make([]string, 0, len(form))
		for k, v := range form {
			vals = append(vals, k+"="+v)
		}
		t := time.Now()
		res, err := c.Post(base+path, "application/x-www-form-urlencoded", strings.NewReader(strings.Join(vals, "&")))
		if err != nil {
			return 0, 0, err
		}
		res.Body.Close()
		return time.Since(t), res.StatusCode, nil
	}
	l, st, err := post("/.smsgate/login", map[string]string{"username": user, "csrf": m[1]})
	if err != nil || st != http.StatusSeeOther {
		return 0, 0, fmt.Errorf("login: %d %v", st, err)
	}
	code, err := lastCode(logFile)
	if err != nil {
		return 0, 0, err
	}
	v, st, err := post("/.smsgate/verify", map[string]string{"code": code, "csrf": m[1]})
	if err != nil || st != http.StatusSeeOther {
		return 0, 0, fmt.Errorf("verify: %d %v", st, err)
	}
	return l, v, nil
}

var codeLine = regexp.MustCompile(`#(\d{6})$`)

func lastCode(logFile string) (string, error) {
	f, err := os.Open(logFile)
	if err != nil {
		return "", err
	}
	defer f.Close()
	code := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct{ Msg, Body string }
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Msg == "verification code" {
			if m := codeLine.FindStringSubmatch(e.Body); m != nil {
				code = m[1]
			}
		}
	}
	if code == "" {
		return "", fmt.Errorf("no code in the log")
	}
	return code, nil
}

func rss(pid int) float64 {
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(time.Microsecond)
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}
