// Package session signs and verifies the gate's JWTs: the session cookie
// that proves a completed verification, and the short-lived flow cookie that
// carries a sign-in in progress. Each kind has its own key, derived from one
// secret, so a token of one kind is never accepted as the other.
package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/factor"
)

// Issuer is the `iss` of every token smsgate signs.
const Issuer = "smsgate"

// Leeway is the clock skew tolerated on `exp`, `nbf` and `iat`.
const Leeway = 30 * time.Second

// Claims of a session token.
type Claims struct {
	jwt.RegisteredClaims
	// AuthTime is when the user last proved possession of the phone (Unix seconds).
	AuthTime int64 `json:"auth_time"`
	// AMR lists the methods used, e.g. ["sms"].
	AMR []factor.AMR `json:"amr,omitempty"`
	// SID identifies the session, for revocation.
	SID string `json:"sid"`
	// Trusted says a trusted browser got the session without a code (its
	// AuthTime and AMR are the code's that earned the trust).
	Trusted bool `json:"trusted,omitempty"`
	// Trust, in a session, is the ID of the trusted browser it came from
	// or that its sign-in made ("" for none), so that signing out ends
	// that trust without reading the user's list of sessions; nil in a
	// session of a release before it (Where.Trust, in that list, says).
	// Short: every request hashes the token.
	Trust *string `json:"tb,omitempty"`
	// Browser, in a known-browser cookie, names the browser (random, kept
	// from one sign-in to the next): the trusts it earned carry it
	// (TrustedBrowser.Known), so that signing out ends them all, at
	// whichever gate of the realm each was earned.
	Browser string `json:"br,omitempty"`
	// Prefixed marks a session or known-browser token this release or a
	// later one issued: one whose cookie is written under its prefixed
	// name wherever it is Secure. Under the old name, a marked token was
	// planted (Manager.IssuedBeforeRename). Short: every request hashes the token.
	Prefixed bool `json:"pn,omitempty"`
	// LoginForm marks a session a login form's gate (identity none)
	// issued: no first factor stood in front of it, so a gate of the
	// realm that has one takes it nowhere (Manager.earnedHere). Short:
	// every request hashes the token.
	LoginForm bool `json:"lf,omitempty"`
	// Device, in a session, is the ID of the device whose code or answer
	// earned it, or the trust it came from ("" for none: a recovery code),
	// or a phone of the config's mark (NumberMark: "" in a session of a
	// release before it); nil in a session of a release before the claim.
	// The device's removal ends it (EndDevice); a config no longer giving
	// the number refuses it (CheckNumbers). Short: every request hashes
	// the token.
	Device *string `json:"dv,omitempty"`
	// Gen, in a trust token, is the generation of its trust it was issued
	// for (TrustedBrowser.Gen: 0 for the first, and in a token of a
	// release before it); a re-trust counts it up, and Trusted refuses a
	// token of another generation.
	Gen int `json:"gen,omitempty"`

	facts *Facts // made by Manager.Check, for the placeholders
	// signedUntil is the token's own expiry where withinLifetime capped
	// ExpiresAt to this gate's lifetime (zero: not capped): a gate of the
	// realm with a longer one honours the session until then
	// (MintedFrom's Expires).
	signedUntil time.Time
}

// DeviceID is the ID of the device that earned the session (Device), ""
// for none or for a session of a release before the claim.
func (c *Claims) DeviceID() string {
	if c.Device == nil {
		return ""
	}
	return *c.Device
}

// recovered reports whether a recovery code earned the session.
func (c *Claims) recovered() bool { return slices.Contains(c.AMR, factor.AMRRecovery) }

// EndsWith reports whether the removal of device ends the session c asking
// for it (EndDevice): the device earned it, other than by a code of a
// set its session made (a recovery code's session stays).
func (c *Claims) EndsWith(device string) bool { return c.DeviceID() == device && !c.recovered() }

// Keys signs and verifies tokens of one kind: HS256 with one secret, or
// EdDSA with a current key and, by `kid`, the keys before it.
type Keys struct {
	method jwt.SigningMethod
	// sign returns the key to sign with and its kid.
	sign func() (any, string, error)
	// verify returns the key for a token's kid.
	verify func(kid string) (any, error)
	now    func() time.Time
	// typ is the JWT header's `typ`, checked on every token: tokens of
	// different kinds signed with the same key (a session and an identity
	// assertion) are never taken for each other.
	typ string
	// hs is the HS256 key (nil with EdDSA), shared with every copy that
	// WithType makes, so that Rekey changes them all.
	hs *atomic.Pointer[[]byte]
}

// Token types (the JWT header's `typ`).
const (
	// TypeSession marks sessions and flows: golang-jwt's default "JWT",
	// so tokens issued before types were checked still verify.
	TypeSession = "JWT"
	// TypeAssertion marks the identity assertions handed to upstreams.
	TypeAssertion = "smsgate-assertion+jwt"
)

// AssertionAudience is the `aud` of an identity assertion for realm: never
// the realm itself, so that no session check accepts one.
func AssertionAudience(realm string) string { return "assertion:" + realm }

// AssertionAudienceFor is what an identity assertion made for the app at
// host names in its `aud` beside AssertionAudience(realm): the app checks
// it (an assertion another app of the realm was handed names that app).
func AssertionAudienceFor(realm, host string) string { return AssertionAudience(realm) + "/" + host }

// WithType returns keys that sign and accept only tokens of type typ.
func (k *Keys) WithType(typ string) *Keys {
	c := *k
	c.typ = typ
	return &c
}

// Derive turns the server secret into the key for one purpose, so that
// the keys of sessions, flows and code hashes are never the same.
func Derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("smsgate " + purpose + " key v1"))
	return m.Sum(nil)
}

// NewKeys returns HS256 keys for tokens of one kind; now is the clock.
func NewKeys(key []byte, now func() time.Time) *Keys {
	hs := new(atomic.Pointer[[]byte])
	hs.Store(&key)
	return &Keys{
		method: jwt.SigningMethodHS256,
		sign:   func() (any, string, error) { return *hs.Load(), "", nil },
		verify: func(string) (any, error) { return *hs.Load(), nil },
		now:    now,
		typ:    TypeSession,
		hs:     hs,
	}
}

// Rekey makes HS256 keys (and every copy WithType made) sign and verify
// with key from now on: the gate adopted the store's new secret.
func (k *Keys) Rekey(key []byte) {
	if k.hs != nil {
		k.hs.Store(&key)
	}
}

// NewEdDSAKeys returns EdDSA keys: sign gives the current private key
// (ed25519.PrivateKey) and its kid, verify the public key of a kid.
func NewEdDSAKeys(sign func() (any, string, error), verify func(kid string) (any, error), now func() time.Time) *Keys {
	return &Keys{method: jwt.SigningMethodEdDSA, sign: sign, verify: verify, now: now, typ: TypeSession}
}

// Sign returns the compact JWT of claims.
func (k *Keys) Sign(claims jwt.Claims) (string, error) {
	key, kid, err := k.sign()
	if err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(k.method, claims)
	t.Header["typ"] = k.typ
	if kid != "" {
		t.Header["kid"] = kid
	}
	return t.SignedString(key)
}

// ErrInvalid wraps every reason a token is refused.
var ErrInvalid = errors.New("invalid token")

// Verify parses token into claims and checks its signature (this kind's
// one algorithm only: `alg: none` and HS/asymmetric confusion are refused),
// issuer, audience and times.
func (k *Keys) Verify(token, audience string, claims jwt.Claims) error {
	_, err := jwt.ParseWithClaims(token, claims, k.keyOf,
		jwt.WithValidMethods([]string{k.method.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(k.now),
		// One spelling per token: a lax decoder takes a signature whose last
		// character's padding bits are set (4 spellings of an HS256 token, 16
		// of an EdDSA one), each a cache entry of its own.
		jwt.WithStrictDecoding(),
	)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// Signed reports whether token, of this kind, is signed by one of the keys
// as they are now, whatever its claims and times: a token Verify took at a
// request's start, asked again at its end, is then still the keys'.
func (k *Keys) Signed(token string) bool {
	_, err := jwt.Parse(token, k.keyOf, jwt.WithValidMethods([]string{k.method.Alg()}), jwt.WithoutClaimsValidation(), jwt.WithStrictDecoding())
	return err == nil
}

// keyOf is the key t is verified with: one of this kind's (its typ), by its kid.
func (k *Keys) keyOf(t *jwt.Token) (any, error) {
	if typ, _ := t.Header["typ"].(string); typ != k.typ {
		return nil, fmt.Errorf("a token of type %q, not %q", typ, k.typ)
	}
	kid, _ := t.Header["kid"].(string)
	return k.verify(kid)
}

// NewClaims fills the registered claims of a token valid for lifetime.
func (k *Keys) NewClaims(audience, subject string, lifetime time.Duration) jwt.RegisteredClaims {
	return k.NewClaimsAt(audience, subject, lifetime, k.now())
}

// NewClaimsAt is NewClaims for a token issued at now.
func (k *Keys) NewClaimsAt(audience, subject string, lifetime time.Duration, now time.Time) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Issuer:    Issuer,
		Subject:   subject,
		Audience:  jwt.ClaimStrings{audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(lifetime)),
	}
}
