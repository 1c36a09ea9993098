package pages_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestATryAgainAfterAStoreFailureIsNotMadeToWait: through a real Caddy,
// the store goes away as carol's code is asked for, as the send claims
// her cooldown (its write made, its answer lost), so that neither the
// rest of the send nor its take-back reaches it: she is told to try again
// (503) and no code goes out. Once the store is back, her retry sends the
// code at once: every record the claim wrote was given back (her name's
// doubling and base wait, her number's waits — which alone would have
// held the retry as a decoy: no code). Before, the cooldown the failed
// take-back left refused it (429: "wait 30 s") for a code she never got
// (TestRedisBlipKeepsSignedInUsers saw it when a loaded machine spent the
// request's store time on the write).
func TestATryAgainAfterAStoreFailureIsNotMadeToWait(t *testing.T) {
	sitetest.Parallel(t)
	dir := t.TempDir()
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		store smsgate_test_hold `+dir+` badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}"
}`)
	carol := sitetest.NewClient(t, "")
	if err := os.WriteFile(filepath.Join(dir, "break"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	res := typeCarol(carol)
	if _, err := os.Stat(filepath.Join(dir, "down")); err != nil {
		t.Fatalf("the store did not go away after the cooldown's write (%d): %v", res.StatusCode, err)
	}
	sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
	sitetest.ExpectBody(t, res, "try again")
	if s.Sent() != 0 {
		t.Fatalf("%d codes sent by a send the store failed", s.Sent())
	}
	if err := os.Remove(filepath.Join(dir, "down")); err != nil { // the store is back
		t.Fatal(err)
	}
	sitetest.Expect(t, typeCarol(carol), http.StatusSeeOther, "/.smsgate/verify")
	if s.Sent() != 1 {
		t.Fatalf("%d codes sent after the retry; want 1", s.Sent())
	}
}
