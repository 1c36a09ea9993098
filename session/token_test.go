package session

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/factor"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func setup() (*Keys, *Keys, *time.Time) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return t0 }
	return NewKeys(Derive(secret, "session"), now), NewKeys(Derive(secret, "flow"), now), &t0
}

func sessionToken(t *testing.T, k *Keys, aud string, lifetime time.Duration) string {
	t.Helper()
	tok, err := k.Sign(Claims{RegisteredClaims: k.NewClaims(aud, "alice", lifetime), AMR: []factor.AMR{factor.AMRSMS}, SID: "sid1"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerifyAcceptsItsOwnToken(t *testing.T) {
	t.Parallel()
	k, _, _ := setup()
	var cl Claims
	if err := k.Verify(sessionToken(t, k, "a.example", time.Hour), "a.example", &cl); err != nil {
		t.Fatal(err)
	}
	if cl.Subject != "alice" || cl.SID != "sid1" || cl.AMR[0] != "sms" {
		t.Fatalf("claims %+v", cl)
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	k, flows, now := setup()
	good := sessionToken(t, k, "a.example", time.Hour)
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString

	noneTok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, Claims{RegisteredClaims: k.NewClaims("a.example", "alice", time.Hour)}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, Claims{RegisteredClaims: k.NewClaims("a.example", "alice", time.Hour)}).SignedString(Derive(secret, "session"))
	otherKey, _ := NewKeys([]byte("another site's secret, 32 bytes!"), func() time.Time { return *now }).Sign(Claims{RegisteredClaims: k.NewClaims("a.example", "alice", time.Hour)})
	flowTok, _ := flows.Sign(Claims{RegisteredClaims: flows.NewClaims("a.example", "alice", time.Hour)})
	noExp := Claims{RegisteredClaims: k.NewClaims("a.example", "alice", time.Hour)}
	noExp.ExpiresAt = nil
	noExpTok, _ := k.Sign(noExp)
	wrongIss := Claims{RegisteredClaims: k.NewClaims("a.example", "alice", time.Hour)}
	wrongIss.Issuer = "someone-else"
	wrongIssTok, _ := k.Sign(wrongIss)

	future := Claims{RegisteredClaims: k.NewClaims("a.example", "alice", time.Hour)}
	future.NotBefore = jwt.NewNumericDate(now.Add(time.Hour))
	futureTok, _ := k.Sign(future)
	_, edKey, _ := ed25519.GenerateKey(nil)
	edTok, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, Claims{RegisteredClaims: k.NewClaims("a.example", "alice", time.Hour)}).SignedString(edKey)
	// Algorithm confusion: an "RS256" header over an HMAC made with the key.
	confused := func(alg string) string {
		head := b64([]byte(`{"alg":"` + alg + `","typ":"JWT"}`))
		body := parts[1]
		m := hmac.New(sha256.New, Derive(secret, "session"))
		m.Write([]byte(head + "." + body))
		return head + "." + body + "." + b64(m.Sum(nil))
	}

	if err := k.Verify(confused("HS256"), "a.example", new(Claims)); err != nil {
		t.Fatalf("the confusion tokens are not built right: the HS256 one fails: %v", err)
	}
	for name, tok := range map[string]string{
		"nbf in the future":  futureTok,
		"EdDSA":              edTok,
		"RS256 confusion":    confused("RS256"),
		"ES256 confusion":    confused("ES256"),
		"alg none":           noneTok,
		"unsigned":           parts[0] + "." + parts[1] + ".",
		"tampered payload":   parts[0] + "." + b64([]byte(`{"iss":"smsgate","sub":"admin","aud":["a.example"],"exp":9999999999}`)) + "." + parts[2],
		"tampered signature": parts[0] + "." + parts[1] + "." + b64([]byte("not the signature at all........")),
		"other algorithm":    hs512,
		"other key":          otherKey,
		"other site":         sessionToken(t, k, "b.example", time.Hour),
		"flow token":         flowTok,
		"no expiry":          noExpTok,
		"other issuer":       wrongIssTok,
		"garbage":            "not-a-jwt",
		"empty":              "",
	} {
		if err := k.Verify(tok, "a.example", new(Claims)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestExpiryWithLeeway(t *testing.T) {
	t.Parallel()
	k, _, now := setup()
	tok := sessionToken(t, k, "a.example", time.Hour)
	*now = now.Add(time.Hour + Leeway - time.Second)
	if err := k.Verify(tok, "a.example", new(Claims)); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	*now = now.Add(2 * time.Second)
	if err := k.Verify(tok, "a.example", new(Claims)); err == nil {
		t.Fatal("expired token accepted")
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	c := newCache(2)
	t0 := time.Now()
	cl := &Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(t0.Add(time.Minute))}}
	tok := func(s string) string { return "header.claims." + strings.Repeat("s", 43-len(s)) + s }
	c.Add(tok("1"), cl)
	if got, ok := c.Get(tok("1"), t0); !ok || got != cl {
		t.Fatal("miss right after Add")
	}
	if _, ok := c.Get(tok("other"), t0); ok {
		t.Fatal("a token never added was served")
	}
	if _, ok := c.Get(tok("1"), t0.Add(time.Minute)); ok {
		t.Fatal("an expired token was served from the cache")
	}
	c.Add(tok("2"), cl)
	c.Add(tok("3"), cl)
	if c.Len() != 2 {
		t.Fatalf("cache holds %d entries, bound is 2", c.Len())
	}
	c.Remove(tok("3"))
	if _, ok := c.Get(tok("3"), t0); ok {
		t.Fatal("removed token still served")
	}
	if c.Add("short", cl); c.Len() != 1 {
		t.Fatal("a token shorter than a key was cached")
	}
}

// TestCacheServesOnlyTheSameToken: the cache finds an entry by the end of
// a token's signature, and serves it only to the whole token it was made
// for. Tokens that end alike but differ anywhere else are misses, and
// neither they nor their removal disturb the entry.
func TestCacheServesOnlyTheSameToken(t *testing.T) {
	t.Parallel()
	k, _, _ := setup()
	good := sessionToken(t, k, "a.example", time.Hour)
	parts := strings.Split(good, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] ^= 1
		return string(b)
	}
	c := newCache(10)
	cl := &Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute))}}
	c.Add(good, cl)
	b64 := base64.RawURLEncoding.EncodeToString
	for name, forged := range map[string]string{
		"other claims":               parts[0] + "." + b64([]byte(`{"sub":"admin","aud":["a.example"],"exp":9999999999}`)) + "." + parts[2],
		"a claim's byte":             parts[0] + "." + flip(parts[1], len(parts[1])/2) + "." + parts[2],
		"the header's byte":          flip(parts[0], 3) + "." + parts[1] + "." + parts[2],
		"the signature's first byte": parts[0] + "." + parts[1] + "." + flip(parts[2], 0),
		"a byte before":              "x" + good,
		"the end alone":              good[len(good)-16:],
		"one byte shorter":           good[1:],
		// The same signature spelled otherwise: its last character's low
		// bit is padding, which a lax decoder ignores.
		"the signature's padding bit": good[:len(good)-1] + string(b64alphabet[strings.IndexByte(b64alphabet, good[len(good)-1])^1]),
	} {
		if _, ok := c.Get(forged, time.Now()); ok {
			t.Errorf("%s: served from the cache", name)
		}
		if err := k.Verify(forged, "a.example", new(Claims)); err == nil {
			t.Errorf("%s: verifies", name)
		}
		c.Remove(forged)
		if got, ok := c.Get(good, time.Now()); !ok || got != cl {
			t.Fatalf("%s: the genuine token's entry is gone", name)
		}
	}
}

const b64alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
