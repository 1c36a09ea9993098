package localhost

import "testing"

func TestIs(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST.": true, "app.localhost": true, "127.0.0.1": true, "127.9.9.9": true, "::1": true, "[::1]": true, "::ffff:127.0.0.1": true,
		"example.com": false, "localhost.example": false, "10.0.0.1": false, "": false, "0.0.0.0": false, "127.example.com": false, "127.0.0.01": false,
	} {
		if got := Is(host); got != want {
			t.Errorf("Is(%q) = %v", host, got)
		}
	}
}

// TestIsAllocatesNothing: the gate asks it of requests to the app.
func TestIsAllocatesNothing(t *testing.T) {
	for _, host := range []string{"localhost", "127.0.0.1", "[::1]", "app.example.com"} {
		if n := testing.AllocsPerRun(100, func() { Is(host) }); n != 0 {
			t.Errorf("Is(%q): %v allocations", host, n)
		}
	}
}
