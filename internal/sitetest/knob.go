package sitetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/clock"
)

// A knob is a setting inside Caddy that a test turns for a while: a
// package's test-only export (a timeout shortened, say), named so that a
// parallel test's Caddy process, which is this binary run again, can turn
// it too. set turns it to value and returns what undoes that.
type knob func(value string) (restore func(), err error)

// knobs are the knobs of this binary, by name.
var knobs = map[string]knob{}

// Knob names set, a setting inside Caddy that a test may turn (with its
// Site's Set). Call it from an init of the test package: every process of
// the test binary, parent and Caddy children, must know it.
func Knob(name string, set func(value string) (restore func(), err error)) {
	if strings.ContainsAny(name, " \n") {
		panic("sitetest: a knob's name has no spaces: " + name)
	}
	if _, dup := knobs[name]; dup {
		panic("sitetest: two knobs named " + name)
	}
	knobs[name] = set
}

// Set turns the knob name to value in the site's Caddy until the test
// ends.
func (s *Site) Set(name, value string) {
	s.t.Helper()
	set, ok := knobs[name]
	if !ok {
		s.t.Fatalf("sitetest: no knob %q (sitetest.Knob names them)", name)
	}
	if strings.Contains(value, "\n") {
		s.t.Fatalf("sitetest: knob %s: a value of one line, not %q", name, value)
	}
	if s.p != nil {
		s.p.set(s.t, name, value)
		return
	}
	restore, err := set(value)
	if err != nil {
		s.t.Fatalf("sitetest: knob %s: %v", name, err)
	}
	s.t.Cleanup(restore)
}

// SetKnob is Site's Set for a parallel test that starts no Site (one
// that posts with LoadCaddyfile): the knob turns in t's Caddy process.
func SetKnob(t *testing.T, name, value string) {
	t.Helper()
	b := bindingOf(t)
	if b == nil {
		t.Fatal("sitetest: SetKnob is for parallel tests (sitetest.Parallel)")
	}
	if _, ok := knobs[name]; !ok || strings.Contains(value, "\n") {
		t.Fatalf("sitetest: no knob %q, or a value of more than one line", name)
	}
	b.process(t).set(t, name, value)
}

// The knob "wait" shortens one of the product's waits (clock.Shorten):
// "NAME DURATION".
func init() {
	Knob("wait", func(value string) (func(), error) {
		name, length, _ := strings.Cut(value, " ")
		d, err := time.ParseDuration(length)
		if err != nil {
			return nil, err
		}
		return clock.Shorten(name, d)
	})
}

// Shorten makes the product's wait name (clock.NewWait: "request-budget",
// "store-watch", "settle-retry", "replica-wait", "twin-grace", "store-start") d long in
// t's Caddy until t ends, so that t sits through less of it: before Start
// for a wait read as a gate starts (the store watch's). Keep the real length in
// a test of something that must happen only once the wait is over.
func Shorten(t *testing.T, name string, d time.Duration) {
	t.Helper()
	value := name + " " + d.String()
	if bindingOf(t) != nil {
		SetKnob(t, "wait", value)
		return
	}
	restore, err := knobs["wait"](value)
	if err != nil {
		t.Fatalf("sitetest: knob wait: %v", err)
	}
	t.Cleanup(restore)
}

// Shorten is the package's Shorten in the site's Caddy.
func (s *Site) Shorten(name string, d time.Duration) {
	s.t.Helper()
	s.Set("wait", name+" "+d.String())
}

// turned are the restores of the knobs a child's test turned, last first.
var turned struct {
	sync.Mutex
	undo []func()
}

// setKnob is a child's answer to "set NAME VALUE" ("" when it is done).
func setKnob(line string) string {
	name, value, _ := strings.Cut(line, " ")
	set, ok := knobs[name]
	if !ok {
		return fmt.Sprintf("no knob %q", name)
	}
	restore, err := set(value)
	if err != nil {
		return fmt.Sprintf("knob %s: %v", name, err)
	}
	turned.Lock()
	turned.undo = append(turned.undo, restore)
	turned.Unlock()
	return ""
}

// resetKnobs undoes, in a child, what its last test turned.
func resetKnobs() {
	turned.Lock()
	defer turned.Unlock()
	for i := len(turned.undo) - 1; i >= 0; i-- {
		turned.undo[i]()
	}
	turned.undo = nil
}

// set turns a knob in the child, until release.
func (p *process) set(t *testing.T, name, value string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.knobs = true
	if err := p.command("set " + name + " " + value); err != nil {
		t.Fatalf("turning caddy's knob %s: %v\n%s", name, err, p.output(p.mark))
	}
}

// reset undoes the knobs its test turned in the child.
func (p *process) reset() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.knobs {
		return nil
	}
	p.knobs = false
	return p.command("reset")
}
