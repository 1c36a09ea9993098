package codebook

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// TestAwait: a code logged after Follow reaches the user waiting for it,
// once; an earlier run's line, or another benchmark's, reaches no one.
func TestAwait(t *testing.T) {
	log := filepath.Join(t.TempDir(), "caddy.log")
	write := func(line string) {
		f, err := os.OpenFile(log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(line + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"msg": "verification code", "body": "soak alice 111111"}`) // an earlier run's
	stop := make(chan struct{})
	defer close(stop)
	b, err := Follow([]string{log}, "soak", stop)
	if err != nil {
		t.Fatal(err)
	}
	alice := b.Await("alice")
	write(`{"msg": "verification code", "body": "storm alice 222222"}`)
	write(`{"msg": "verification code", "body": "soak alice 333333"}`)
	if code := <-alice; code != "333333" {
		t.Errorf("alice got %s, want 333333", code)
	}
	if b.Seen() != 1 {
		t.Errorf("seen %d codes, want 1", b.Seen())
	}
}
