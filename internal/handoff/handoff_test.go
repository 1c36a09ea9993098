package handoff

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

type gate struct{ name string }

func key(t *testing.T, v any) Key {
	t.Helper()
	k, err := KeyOf(v)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyOf(t *testing.T) {
	type config struct {
		Realm      string            `json:"realm,omitempty"`
		SigningKey string            `json:"signing_key,omitempty"`
		Limits     map[string]int    `json:"limits,omitempty"`
		Store      json.RawMessage   `json:"store,omitempty"`
		private    map[string]string // not configuration: not in the key
	}
	a := config{Realm: "example.com", SigningKey: "one", Limits: map[string]int{"user": 10, "ip": 20}, Store: json.RawMessage(`{"module": "badger"}`)}
	b := config{Realm: "example.com", SigningKey: "one", Limits: map[string]int{"ip": 20, "user": 10}, Store: json.RawMessage(`{"module":"badger"}`),
		private: map[string]string{"at": "run time"}}
	if key(t, a) != key(t, b) {
		t.Fatal("one configuration, two keys")
	}
	b.SigningKey = "two"
	if key(t, a) == key(t, b) {
		t.Fatal("another secret, the same key")
	}
	if _, err := KeyOf(config{Store: json.RawMessage(`{`)}); err == nil {
		t.Fatal("a configuration that is not JSON has a key")
	}
}

func TestNewest(t *testing.T) {
	var r Registry[*gate]
	k, other := Key{1}, Key{2}
	g1, g2, g3 := &gate{"1"}, &gate{"2"}, &gate{"3"}
	expect := func(self *gate, want *gate) {
		t.Helper()
		got, ok := r.Newest(k, self)
		if want == nil && ok || want != nil && got != want {
			t.Fatalf("the newest but %v: %v (%v), want %v", self, got, ok, want)
		}
	}
	expect(nil, nil)
	r.Add(k, g1)
	r.Add(other, &gate{"x"})
	expect(g1, nil) // alone: no successor
	// A reload: the new config's gate is live before the old one is cleaned up.
	r.Add(k, g2)
	expect(g1, g2)
	r.Remove(k, g1)
	expect(g1, g2)
	// A chain of reloads: the first gate's late requests go to the newest.
	r.Add(k, g3)
	r.Remove(k, g2)
	expect(g1, g3)
	expect(g2, g3)
	// A load that fails after its gate was added leaves the running one.
	failed := &gate{"failed"}
	r.Add(k, failed)
	r.Remove(k, failed)
	expect(g2, g3)
	// Removing what is not live changes nothing.
	r.Remove(k, g1)
	r.Remove(other, g3)
	expect(g2, g3)
	// A reload that drops the site: no successor.
	r.Remove(k, g3)
	expect(g3, nil)
	if _, ok := r.live[k]; ok || len(r.live) != 1 {
		t.Fatalf("left behind: %v", r.live)
	}
}

// Two sites importing one snippet: two live gates of one configuration.
// Each finds the other, or the newer config's.
func TestTwoGatesOfOneConfiguration(t *testing.T) {
	var r Registry[*gate]
	k := Key{1}
	a1, b1, a2 := &gate{"a1"}, &gate{"b1"}, &gate{"a2"}
	r.Add(k, a1)
	r.Add(k, b1)
	if got, _ := r.Newest(k, b1); got != a1 {
		t.Fatalf("b1's successor: %v", got)
	}
	r.Add(k, a2) // a reload that keeps only site a
	r.Remove(k, a1)
	r.Remove(k, b1)
	for _, self := range []*gate{a1, b1} {
		if got, _ := r.Newest(k, self); got != a2 {
			t.Fatalf("%v's successor: %v", self, got)
		}
	}
}

// A removed value is not kept alive: a registry across many reloads
// holds nothing of the configs it saw go.
func TestKeepsNothingRemoved(t *testing.T) {
	var r Registry[*gate]
	k := Key{1}
	const n = 20
	collected := make(chan string, n)
	func() {
		var last *gate
		for i := range n {
			g := &gate{fmt.Sprint(i)}
			runtime.AddCleanup(g, func(name string) { collected <- name }, g.name)
			r.Add(k, g)
			if last != nil {
				r.Remove(k, last)
			}
			last = g
		}
		r.Remove(k, last)
	}()
	deadline := time.After(time.Minute) // a hang guard: a loaded machine's GC is slow, a value kept is never collected
	for got := 0; got < n; {
		runtime.GC()
		select {
		case <-collected:
			got++
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%d of %d removed gates still reachable", n-got, n)
		}
	}
	if len(r.live) != 0 {
		t.Fatalf("left behind: %v", r.live)
	}
}

// Reloads racing late requests (-race): every value a goroutine removed
// is never found again by it, and the registry ends empty.
func TestConcurrentReloads(t *testing.T) {
	var r Registry[*gate]
	keys := []Key{{1}, {2}}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			k := keys[w%len(keys)]
			var last *gate
			for i := range 200 {
				g := &gate{fmt.Sprint(w, "-", i)}
				r.Add(k, g)
				if last != nil {
					r.Remove(k, last)
					for range 3 {
						if got, ok := r.Newest(k, nil); ok && got == last {
							t.Errorf("%v found after it was removed", last)
							return
						}
					}
				}
				if got, ok := r.Newest(k, g); ok && got == g {
					t.Errorf("%v is its own successor", g)
					return
				}
				last = g
			}
			r.Remove(k, last)
		})
	}
	wg.Wait()
	if len(r.live) != 0 {
		t.Fatalf("left behind: %v", r.live)
	}
}
