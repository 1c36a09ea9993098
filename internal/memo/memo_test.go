package memo

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// A key is asked once while kept; when Max keys are kept, the next new
// one starts the map again, so the first is asked again.
func TestAKeyIsAskedOnceWhileKept(t *testing.T) {
	c := Map[string, int]{Max: 2}
	asked := map[string]int{}
	get := func(k string) int {
		return c.Get(k, func() int { asked[k]++; return len(k) })
	}
	for range 3 {
		if get("a") != 1 || get("bb") != 2 {
			t.Fatal("a wrong answer")
		}
	}
	if asked["a"] != 1 || asked["bb"] != 1 {
		t.Fatalf("asked %v, want each once", asked)
	}
	get("ccc") // full: starts again with ccc alone
	get("a")
	if asked["a"] != 2 || asked["ccc"] != 1 {
		t.Fatalf("asked %v after the map was full, want a twice and ccc once", asked)
	}
	if n := c.Len(); n != 2 {
		t.Fatalf("%d kept, want 2 (ccc and a)", n)
	}
	c.Forget()
	get("bb")
	if asked["bb"] != 2 {
		t.Fatalf("asked %v after Forget, want bb twice", asked)
	}
}
