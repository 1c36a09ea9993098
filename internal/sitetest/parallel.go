package sitetest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// Parallel runs t beside the package's other parallel tests (t.Parallel)
// with a Caddy of its own: a process, this test binary run again as Caddy,
// with its own ports, data directory and clock (see process.go). Call it
// first in the test. Its sites' methods (Base, WithPorts, Advance,
// StartOfHour, Now, Admin, Set) then stand for the package-level ones, which
// belong to the in-process Caddy that the other tests share one after
// another; its clients (NewClient(t, …)), Admin(t, …) and
// AssertLoadError(t, …) find its Caddy by t, as do those of its subtests
// that are not parallel themselves.
//
// With SMSGATE_SITETEST_SERIAL set, it does nothing: every test uses the
// in-process Caddy, one after another (to compare, or to debug).
func Parallel(t *testing.T) {
	t.Helper()
	if os.Getenv(serialEnv) != "" {
		return
	}
	t.Parallel()
	stopLocal()
	b := &binding{owner: t}
	bindings.Lock()
	bindings.m[t.Name()] = b
	bindings.Unlock()
	t.Cleanup(func() {
		bindings.Lock()
		delete(bindings.m, t.Name())
		bindings.Unlock()
		if b.p != nil {
			b.p.release(t)
		}
	})
}

// localLive is set while the in-process Caddy serves a site.
var localLive atomic.Bool

// stopLocal stops the in-process Caddy's sites when the parallel tests
// start (the others have ended): a parallel test that reached for them
// (sitetest.Base instead of its site's Base) fails at once instead of
// testing the last config of another test.
func stopLocal() {
	if localLive.CompareAndSwap(true, false) {
		localLoads.Lock()
		defer localLoads.Unlock()
		if err := caddy.Load(idleConfig(strconv.Itoa(AdminPort)), true); err != nil {
			panic(err)
		}
	}
}

// serialEnv turns Parallel off.
const serialEnv = "SMSGATE_SITETEST_SERIAL"

// A binding is a parallel test's Caddy, started by its first site.
type binding struct {
	mu    sync.Mutex
	p     *process
	owner *testing.T // the test that called Parallel
}

// bindings are the parallel tests running, by name.
var bindings = struct {
	sync.Mutex
	m map[string]*binding
}{m: map[string]*binding{}}

// bindingOf is the binding of t or of its closest parent that has one
// (nil: t uses the in-process Caddy).
func bindingOf(t testing.TB) *binding {
	bindings.Lock()
	defer bindings.Unlock()
	for name := t.Name(); ; {
		if b, ok := bindings.m[name]; ok {
			return b
		}
		i := strings.LastIndex(name, "/")
		if i < 0 {
			return nil
		}
		name = name[:i]
	}
}

// process is the binding's Caddy, started for t if it is not yet.
func (b *binding) process(t *testing.T) *process {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.p == nil {
		b.p = takeProcess(t)
	}
	return b.p
}

// stopsFirst stops p's sites as soon as the parallel test t belongs to
// ends, before the servers that test started for them earlier: a
// redis-server killed first left the gates' last flushes waiting on a dead
// store, seconds a test. Stopping them again when p is given back is a
// no-op (Caddy loads an unchanged config so). The folders dirs (a site's
// store and log) are removed once its sites have stopped, their stores
// closed: left to Main, the package's folders took 2.0-2.4 s to remove
// after its last test (caddymodule's, at load 6-14), when nothing else ran.
func stopsFirst(t testing.TB, p *process, dirs ...string) {
	bindingOf(t).owner.Cleanup(func() {
		if p.unload() != nil {
			return // Main removes them, once the process is stopped
		}
		for _, dir := range dirs {
			_ = os.RemoveAll(dir)
		}
	})
}

// processOf is t's Caddy process, nil for the in-process Caddy. A
// parallel test that uses its Caddy before starting a site fails.
func processOf(t testing.TB) *process {
	b := bindingOf(t)
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.p == nil {
		t.Fatal("sitetest: a parallel test reached its Caddy before starting a site")
	}
	return b.p
}

// inParallel panics when a parallel test calls what, a package-level
// function of the in-process Caddy: its own Caddy is another.
func inParallel(what string) {
	bindings.Lock()
	n := len(bindings.m)
	bindings.Unlock()
	if n > 0 {
		panic(fmt.Sprintf("sitetest.%s in a parallel test: use its Site's %s", what, what))
	}
}

// ports are where a Caddy listens.
type ports struct{ http, https, admin int }

// local are the in-process Caddy's ports.
func local() ports { return ports{HTTPPort, HTTPSPort, AdminPort} }

// portsOf are the ports of t's Caddy.
func portsOf(t testing.TB) ports {
	if p := processOf(t); p != nil {
		return p.ports
	}
	return local()
}

func (p ports) base() string { return "http://localhost:" + strconv.Itoa(p.http) }

// withPorts puts p into s, written with the placeholders {HTTP_PORT},
// {HTTPS_PORT} and {ADMIN_PORT}.
func (p ports) withPorts(s string) string {
	return strings.NewReplacer(
		"{HTTP_PORT}", strconv.Itoa(p.http),
		"{HTTPS_PORT}", strconv.Itoa(p.https),
		"{ADMIN_PORT}", strconv.Itoa(p.admin),
	).Replace(s)
}

// NowOf is the clock of t's Caddy (its gates' time with Advance's skew),
// for a helper that has t but not the site.
func NowOf(t testing.TB) time.Time {
	if p := processOf(t); p != nil {
		return p.now()
	}
	return gates.Now()
}
