package sitetest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/proccpu"
)

// A parallel test's Caddy is a process: this test binary run again, which
// Main turns into Caddy when childEnv names its admin port. Its clock is
// moved through its stdin (a line "advance NANOSECONDS", answered by
// "sitetest: ok" on its stdout), as are its knobs ("set NAME VALUE", and
// "reset" between tests; see knob.go), and it stops when its stdin closes: when
// the test binary ends, however it ends. Its stderr (Caddy's own log
// before a config takes it over, and the race detector's reports) is a
// file beside its data directory.
const childEnv = "SMSGATE_SITETEST_CADDY"

// reply is the child's answer on its stdout to a command done, refused
// the answer to one it could not do, followed by why.
const (
	reply   = "sitetest: ok"
	refused = "sitetest: refused: "
)

// profileEnv names a folder where each child writes its CPU profile (the
// parent's -test.cpuprofile sees only the tests' side).
const profileEnv = "SMSGATE_SITETEST_CPUPROFILE"

// serve is Main in a child: Caddy with only its admin endpoint, the gates'
// clock movable, until stdin closes.
func serve(adminPort string) int {
	if dir := os.Getenv(profileEnv); dir != "" {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("caddy-%d.prof", os.Getpid())))
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	clock.SetDefault(gates.Now)
	if err := caddy.Load(idleConfig(adminPort), true); err != nil {
		fmt.Fprintln(os.Stderr, "sitetest: starting caddy:", err)
		return 2
	}
	fmt.Println(reply)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		line := in.Text()
		if ns, ok := strings.CutPrefix(line, "advance "); ok {
			d, err := strconv.ParseInt(ns, 10, 64)
			if err != nil {
				fmt.Fprintln(os.Stderr, "sitetest: bad line:", line)
				return 2
			}
			gates.Advance(time.Duration(d))
		} else if knob, ok := strings.CutPrefix(line, "set "); ok {
			if why := setKnob(knob); why != "" {
				fmt.Println(refused + why)
				continue
			}
		} else if line == "reset" {
			resetKnobs()
		}
		fmt.Println(reply)
	}
	_ = caddy.Stop()
	return 0
}

// idleConfig is a child's config between tests: its admin endpoint, no
// sites (loading it stops the last test's, and closes their stores).
func idleConfig(adminPort string) []byte {
	return []byte(`{"admin": {"listen": "localhost:` + adminPort + `", "config": {"persist": false}}}`)
}

// process is a child Caddy.
type process struct {
	ports
	dir     string // its data directory and stderr are in it
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stdout  *bufio.Scanner
	exited  chan struct{}
	mu      sync.Mutex   // one command at a time
	skew    atomic.Int64 // how far Advance moved its clock
	stopped atomic.Int64 // the real time its clock stopped at (StopClock), 0 if it runs
	knobs   bool         // its test turned a knob (under mu)
	mark    int64        // its stderr's size when its current test took it
	cpuMS   int64        // its CPU then (ms), for cpuLogEnv
}

// processes are the children this binary started, and those no test holds.
var processes struct {
	sync.Mutex
	all, idle []*process
}

// takeProcess gives t a child Caddy of its own: one an earlier test
// finished with, or a new one.
func takeProcess(t *testing.T) *process {
	t.Helper()
	processes.Lock()
	var p *process
	if n := len(processes.idle); n > 0 {
		p, processes.idle = processes.idle[n-1], processes.idle[:n-1]
	}
	processes.Unlock()
	if p == nil {
		var err error
		if p, err = startProcess(); err != nil {
			t.Fatal(err)
		}
		processes.Lock()
		processes.all = append(processes.all, p)
		processes.Unlock()
	}
	if fi, err := os.Stat(p.stderr()); err == nil {
		p.mark = fi.Size()
	}
	if os.Getenv(cpuLogEnv) != "" {
		p.cpuMS, _ = proccpu.Millis(p.cmd.Process.Pid)
	}
	return p
}

// startProcess starts a child Caddy on free ports, and returns once its
// admin endpoint answers.
func startProcess() (*process, error) {
	dir, err := os.MkdirTemp(root, "caddy-")
	if err != nil {
		return nil, err
	}
	p := &process{ports: ports{http: harness.FreePort(), https: harness.FreePort(), admin: harness.FreePort()}, dir: dir, exited: make(chan struct{})}
	p.cmd = exec.Command(self)
	// A config that names no admin endpoint (one a test expects to be
	// refused) keeps the child's: CADDY_ADMIN is Caddy's default.
	p.cmd.Env = harness.ChildEnv(childEnv+"="+strconv.Itoa(p.admin), "CADDY_ADMIN="+fmt.Sprintf("localhost:%d", p.admin),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	stderr, err := os.Create(p.stderr())
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	p.cmd.Stderr = stderr
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.stdout = bufio.NewScanner(out)
	// Its stdin closes when this binary ends, however it ends, and it
	// stops; one stuck is killed with it (Pdeathsig on Linux).
	if err := harness.Start(p.cmd, syscall.SIGKILL); err != nil {
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	if err := p.await(); err != nil {
		p.stop()
		return nil, fmt.Errorf("caddy did not start: %v\n%s", err, p.output(0))
	}
	return p, nil
}

func (p *process) stderr() string { return filepath.Join(p.dir, "stderr") }

// output is what the child wrote to its stderr from byte from on.
func (p *process) output(from int64) string {
	b, _ := os.ReadFile(p.stderr())
	if from > int64(len(b)) {
		from = 0
	}
	return string(b[from:])
}

// await reads the child's stdout up to its next reply.
func (p *process) await() error {
	for p.stdout.Scan() {
		if p.stdout.Text() == reply {
			return nil
		}
		if why, ok := strings.CutPrefix(p.stdout.Text(), refused); ok {
			return errors.New(why)
		}
	}
	if err := p.stdout.Err(); err != nil {
		return err
	}
	return fmt.Errorf("caddy ended: %v", p.cmd.ProcessState)
}

// advance moves the child's clock by d.
func (p *process) advance(t *testing.T, d time.Duration) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.skew.Add(int64(d))
	if err := p.command(fmt.Sprintf("advance %d", int64(d))); err != nil {
		t.Fatalf("moving caddy's clock: %v\n%s", err, p.output(p.mark))
	}
}

// command sends the child a line and waits for its answer (under mu).
func (p *process) command(line string) error {
	if _, err := fmt.Fprintln(p.stdin, line); err != nil {
		return err
	}
	return p.await()
}

// now is the child's clock.
func (p *process) now() time.Time {
	now := time.Now()
	if at := p.stopped.Load(); at != 0 {
		now = time.Unix(0, at)
	}
	return now.Add(time.Duration(p.skew.Load()))
}

// adminClient talks to the admin API of the tests' Caddy, a new
// connection for every request. Caddy replaces its admin server at every
// config load and shuts the old one down, closing its idle connections: a
// request sent on a kept-alive one as it closes gets EOF, and a POST is
// not retried (CI failed so: `Post ".../load": EOF`). Loading stops the
// config before (its gates' last flushes, bounded at 2 s) and opens the
// next one's stores: on a busy 2-core machine, under -race, that can take
// many seconds.
var adminClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}

// swapped reports whether a request's connection was dropped as Caddy
// swapped its servers: right after a load, the replaced server (its HTTP
// server, or its admin server) may still accept a connection, then close
// it (the tests' grace_period is 1ns).
func swapped(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF)
}

// post loads cfg into the Caddy whose admin endpoint is at port admin,
// and returns Caddy's error.
func post(admin int, contentType, cfg string) error {
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/load", admin), strings.NewReader(cfg))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	res, err := adminClient.Do(req)
	if swapped(err) {
		// The admin server the last load replaced took the connection and
		// closed it (CI failed so: `read: connection reset by peer`).
		// Loading a config again is a no-op, so it is sent again, once.
		req.Body = io.NopCloser(strings.NewReader(cfg))
		res, err = adminClient.Do(req)
	}
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%d %s", res.StatusCode, body)
	}
	return nil
}

// release ends t's use of the child: its sites stopped, its clock back to
// the real time, its knobs as they were, and a race it reported meanwhile
// failed t. A child that
// answers is used again.
func (p *process) release(t *testing.T) {
	err := p.unload()
	if err == nil {
		if d := p.skew.Load(); d != 0 {
			p.advance(t, -time.Duration(d))
		}
		err = p.reset() // runs its clock again if its test stopped it
		p.stopped.Store(0)
	}
	out := p.output(p.mark)
	p.mark += int64(len(out))
	if harness.RaceIn([]byte(out)) {
		t.Errorf("caddy reported a data race:\n%s", out)
	}
	if err != nil {
		t.Errorf("giving the test's caddy back (its sites stopped, its clock and knobs reset): %v\n%s", err, out)
		p.stop()
		return
	}
	logCPU(t, p, p.cpuMS)
	processes.Lock()
	processes.idle = append(processes.idle, p)
	processes.Unlock()
}

// unload stops the child's sites (Caddy loads an unchanged config as a no-op).
func (p *process) unload() error {
	return post(p.admin, "application/json", string(idleConfig(strconv.Itoa(p.admin))))
}

// stop ends the child: its stdin closed, then, if it lingers, killed.
func (p *process) stop() {
	_ = p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// stopProcesses stops every child, and reports a race any reported after
// its last test (a non-zero exit for the test binary). The children are all
// told at once, then waited for: one after another took 0.59 s for four.
func stopProcesses() (raced bool) {
	processes.Lock()
	defer processes.Unlock()
	for _, p := range processes.all {
		_ = p.stdin.Close()
	}
	for _, p := range processes.all {
		p.stop()
		if out := p.output(p.mark); harness.RaceIn([]byte(out)) {
			fmt.Fprintf(os.Stderr, "sitetest: a caddy process reported a data race:\n%s", out)
			raced = true
		}
	}
	processes.all, processes.idle = nil, nil
	return raced
}

// PID is the process id of the site's Caddy (this process for the
// in-process Caddy), for a test that looks at its open files.
func (s *Site) PID() int {
	if s.p == nil {
		return os.Getpid()
	}
	return s.p.cmd.Process.Pid
}
