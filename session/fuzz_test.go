package session

import (
	"testing"
	"time"
)

// FuzzVerify: no string that was not signed with the key verifies, and
// none panics the parser.
func FuzzVerify(f *testing.F) {
	k, _, _ := setup()
	good, _ := k.Sign(Claims{RegisteredClaims: k.NewClaims("a.example", "alice", time.Hour), SID: "s"})
	for _, s := range []string{good, good + "x", good[:len(good)-1], "e30.e30.", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.", "...", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		var cl Claims
		if err := k.Verify(tok, "a.example", &cl); err == nil && tok != good {
			t.Fatalf("%q verified", tok)
		}
	})
}
