package session

import (
	"testing"
	"time"
)

// TestSignedAsksTheKeysNotTheTimes: Keys.Signed (saveFlow's re-check of
// a flow it read) takes a token of its keys whatever its times, and
// refuses one of other keys or of another type.
func TestSignedAsksTheKeysNotTheTimes(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	keys := NewKeys(Derive([]byte("0123456789abcdef0123456789abcdef"), "flow"), clock)
	expired := Claims{RegisteredClaims: keys.NewClaimsAt("example.com", "carol", time.Minute, now.Add(-time.Hour))}
	tok, err := keys.Sign(expired)
	if err != nil {
		t.Fatal(err)
	}
	if keys.Verify(tok, "example.com", new(Claims)) == nil {
		t.Fatal("premise: the token has expired")
	}
	if !keys.Signed(tok) {
		t.Error("a token of these keys, expired since, is not taken as theirs")
	}
	other := NewKeys(Derive([]byte("fedcba9876543210fedcba9876543210"), "flow"), clock)
	if other.Signed(tok) {
		t.Error("another key's token is taken as signed")
	}
	if keys.WithType(TypeAssertion).Signed(tok) {
		t.Error("a token of another type is taken as signed")
	}
	keys.Rekey(Derive([]byte("fedcba9876543210fedcba9876543210"), "flow"))
	if keys.Signed(tok) {
		t.Error("a token of the replaced key is taken as signed")
	}
}
