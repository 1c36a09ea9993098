package caddymodule_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

type jwks struct {
	Keys []struct{ Kty, Crv, X, Kid, Alg string } `json:"keys"`
}

func fetchJWKS(t *testing.T, c *sitetest.Client) map[string]ed25519.PublicKey {
	t.Helper()
	res := c.Get("/.smsgate/jwks.json")
	var set jwks
	if err := json.Unmarshal([]byte(res.Text), &set); err != nil {
		t.Fatalf("jwks: %v: %s", err, res.Text)
	}
	keys := map[string]ed25519.PublicKey{}
	for _, k := range set.Keys {
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || len(x) != ed25519.PublicKeySize {
			t.Fatalf("jwk %+v", k)
		}
		keys[k.Kid] = x
	}
	return keys
}

// verifyWith checks a session token as an upstream would, with the JWKS alone.
func verifyWith(keys map[string]ed25519.PublicKey, tok string) (jwt.MapClaims, error) {
	return verifyAs(keys, tok, "localhost")
}

// verifyAs checks tok for audience aud.
func verifyAs(keys map[string]ed25519.PublicKey, tok, aud string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, func(t *jwt.Token) (any, error) {
		k, ok := keys[fmt.Sprint(t.Header["kid"])]
		if !ok {
			return nil, fmt.Errorf("no key %v", t.Header["kid"])
		}
		return k, nil
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithAudience(aud))
	return claims, err
}

func TestEdDSASessionsJWKSAndRotation(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		signing_alg EdDSA
		key_rotation 1h
		session_lifetime 2h
		assertion_header X-Smsgate-Assertion
		store badger {DIR}
		provider log
	}
	respond "assertion={http.request.header.X-Smsgate-Assertion}"
}`)
	first := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, first)
	keys := fetchJWKS(t, first)
	if len(keys) != 1 {
		t.Fatalf("%d keys in the JWKS, want 1", len(keys))
	}
	// An upstream can verify the session cookie and the assertion itself.
	if cl, err := verifyWith(keys, first.Cookie("smsgate_session")); err != nil || cl["sub"] != "carol" {
		t.Fatalf("the session token does not verify with the JWKS: %v %v", cl, err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.Base+"/", nil)
	req.Header.Set("X-Smsgate-Assertion", "forged")
	res := first.Do(req)
	assertion := strings.TrimPrefix(res.Text, "assertion=")
	cl, err := verifyAs(keys, assertion, "assertion:localhost")
	if err != nil || cl["sub"] != "carol" {
		t.Fatalf("assertion %q: %v %v", assertion, cl, err)
	}
	exp, _ := cl.GetExpirationTime()
	iat, _ := cl.GetIssuedAt()
	if exp == nil || iat == nil || exp.Sub(iat.Time) > 2*time.Minute {
		t.Fatalf("the assertion lives too long: %v to %v", iat, exp)
	}

	// An hour on, a new sign-in gets the next key; the first still works.
	s.Advance(61 * time.Minute)
	second := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, second)
	keys = fetchJWKS(t, second)
	if len(keys) != 2 {
		t.Fatalf("%d keys after a rotation, want 2", len(keys))
	}
	for _, c := range []*sitetest.Client{first, second} {
		sitetest.Expect(t, c.Get("/"), http.StatusOK, "")
	}
	kid := func(tok string) string {
		h, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		var head struct{ Kid string }
		_ = json.Unmarshal(h, &head)
		return head.Kid
	}
	if k1, k2 := kid(first.Cookie("smsgate_session")), kid(second.Cookie("smsgate_session")); k1 == k2 || !strings.HasPrefix(k1, "ed1-") || !strings.HasPrefix(k2, "ed2-") {
		t.Fatalf("kids %q and %q", k1, k2)
	}

	// Algorithm confusion: HS256 over the public key is refused.
	var pub ed25519.PublicKey
	for _, k := range keys {
		pub = k
	}
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "smsgate", "sub": "carol", "aud": []string{"localhost"},
		"exp": time.Now().Add(24 * time.Hour).Unix(), "iat": time.Now().Unix()}).SignedString([]byte(pub))
	thief := sitetest.NewClient(t, "")
	thief.SetCookie("smsgate_session", forged)
	sitetest.Expect(t, thief.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")

	// Once every session the first key signed has expired, it is retired.
	s.Advance(2*time.Hour + time.Minute)
	if keys = fetchJWKS(t, second); len(keys) != 1 {
		t.Fatalf("%d keys after the first one's sessions expired, want 1", len(keys))
	}
}
