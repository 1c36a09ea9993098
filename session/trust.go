package session

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
)

// Trusted browsers: a browser the user chose to trust skips the code when
// its session has expired, until the trust ends (its lifetime, a revoke
// on the devices page, a sign-out everywhere, an admin reset). The cookie
// is a token of its own kind, bound to the realm and the user; the store
// keeps a record of each trust, so that it can be listed and revoked.

// TypeTrust is the JWT "typ" of a trusted-browser token.
const TypeTrust = "smsgate-trust+jwt"

// MaxTrusted bounds the trusted browsers of one user; a new one past it
// ends the oldest.
const MaxTrusted = 20

// TrustedBrowser is one trust, as the devices page lists it.
type TrustedBrowser struct {
	ID string `json:"id"`
	// Browser and System name the browser's kind and system, as a
	// session's Where does ("Firefox", "Linux"; "" for unknown): a page
	// words them in its reader's language. A trust of a release before
	// this one holds in Browser its whole name as the page that trusted
	// it worded it ("Firefox unter Linux", "Ein Browser"), and no System
	// (pages' trustedName reads it back). The key is the previous
	// release's, so that it lists a trust this one made by its kind
	// (the system lost: a rolling upgrade, a step back).
	Browser string    `json:"browser"`
	System  string    `json:"system,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// AuthTime is when the code that earned the trust was entered, and AMR
	// how: a session made from the trust is no fresher, and no stronger.
	AuthTime int64        `json:"auth_time"`
	AMR      []factor.AMR `json:"amr,omitempty"`
	// Known names the browser that earned it (its known-browser cookie's
	// Claims.Browser; "" before this was kept): signing out in that
	// browser ends it, at whichever gate of the realm it was earned and
	// its cookie is kept (UntrustBrowser).
	Known string `json:"known,omitempty"`
	// Prefixed marks a trust earned under this release or a later one,
	// whose known-browser cookies are prefixed (Manager.EarnedBeforeRename).
	Prefixed bool `json:"prefixed,omitempty"`
	// Issued is its token's iat (the sign-in's beginning, whole seconds):
	// a revocation of the user's sessions until then or later ends it
	// (Trusted), and EndUnlisted takes its record too. Zero in a trust
	// made before this was kept (Created is then read instead).
	Issued time.Time `json:"issued,omitzero"`
	// Device is the ID of the device whose code or answer earned it ("" for
	// none): its removal ends the trust (EndDevice). nil in a trust of a
	// release before it.
	Device *string `json:"device,omitempty"`
	// Gen counts the re-trusts of its ID (TrustHeld; 0 for none, and in a
	// trust of a release before it): its token carries it (Claims.Gen),
	// and Trusted takes only the token of the trust's generation, so the
	// browser's earlier cookie (a copy of it too) is refused, whatever
	// second it was issued in (review38 F2: compared by its issue time,
	// a whole second, one issued in the re-trust's second still signed
	// in).
	Gen int `json:"gen,omitempty"`
}

// issued is when tb's token was issued (Issued; Created in a trust made
// before that was kept).
func (tb *TrustedBrowser) issued() time.Time {
	if tb.Issued.IsZero() {
		return tb.Created
	}
	return tb.Issued
}

// dropped says whether the token cl, of generation 0, was issued before
// its trust tb of generation 0: a trust renewed since, whose generation a
// gate of the previous release dropped when it rewrote the record (it
// knows no gen), so that the browser's first cookie, given up at the
// re-trust, would match it again. That cookie's iat is before the
// record's issued (the re-trust's, which that release keeps) but where
// both came in one second (trust39).
func (tb *TrustedBrowser) dropped(cl Claims) bool {
	return tb.Gen == 0 && cl.IssuedAt != nil && cl.IssuedAt.Before(tb.Issued)
}

// ErrNotTrusted refuses a trust token that is not (or no longer) good.
var ErrNotTrusted = errors.New("session: browser not trusted")

// ErrNumberNotGiven is the ErrNotTrusted of a trust a config's phone
// earned whose number this gate is not given for its user (CheckNumbers):
// not trusted here now, but its record stays — a gate given the realm's
// numbers only at the config's start (before it, its own `user` lines
// alone) takes it then, and a number taken away ends the record at the
// start (signin.SettleProvisioned) — so its browser keeps the cookie.
var ErrNumberNotGiven = fmt.Errorf("%w: its number is not given here", ErrNotTrusted)

func trustedKey(realm, user string) string { return store.Key("trusted", realm, user) }

func (m *Manager) trustKeys() *Keys {
	return NewKeys(Derive(m.Secret(), "trusted browser"), m.now).WithType(TypeTrust)
}

// trust makes user's trust in place of what h picks (TrustHeld,
// held.pick), and returns its cookie's token and the trust: where it
// takes a trust as it is, that trust with no token (""); where it makes
// none, ErrNotTrusted.
func (m *Manager) trust(ctx context.Context, b Began, user string, h held, known string, where Where, device string, amr []factor.AMR, authTime int64, lifetime time.Duration) (string, *TrustedBrowser, error) {
	now := m.now().UTC()
	if b.at.IsZero() {
		b.at = now
	}
	iat := jwt.NewNumericDate(b.at).UTC() // as the token says it
	where = where.bounded()
	fresh := rand.Text()[:16]
	tb := TrustedBrowser{Browser: where.Browser, System: where.System, Created: now, Expires: now.Add(lifetime), AuthTime: authTime, AMR: amr, Known: known, Prefixed: true, Issued: iat, Device: &device}
	var taken *TrustedBrowser
	err := m.editTrusted(store.Lasting(ctx), user, func(list []TrustedBrowser) []TrustedBrowser {
		tb.ID, tb.Gen, taken = fresh, 0, nil // again at each try
		switch i, how := h.pick(list, known); how {
		case takeAsIs:
			kept := list[i]
			taken = &kept
			return list // as it is: no write
		case makeNone:
			taken = &TrustedBrowser{}
			return list
		case renew:
			tb.ID, tb.Gen = list[i].ID, max(list[i].Gen, h.gen)+1
			list = slices.Delete(list, i, i+1)
		}
		list = append(list, tb)
		return list[max(0, len(list)-MaxTrusted):]
	})
	switch {
	case err != nil:
		return "", nil, err
	case taken != nil && taken.ID == "":
		return "", nil, ErrNotTrusted // the browser's trust ended meanwhile: none made
	case taken != nil:
		return "", taken, nil
	}
	token, err := m.trustKeys().Sign(Claims{RegisteredClaims: m.trustKeys().NewClaimsAt(m.realm, user, lifetime, b.at), SID: tb.ID, AuthTime: authTime, Gen: tb.Gen})
	return token, &tb, err
}

// Trusted checks a trust token: its signature, realm and expiry, that its
// record is still there and was not re-trusted since the token was issued
// (TrustHeld: the browser's token before, or a copy of it, is of an earlier
// generation), that no sign-out
// everywhere or reset came after it, and that the config still gives its
// user the number that earned it, if a config's phone did (CheckNumbers).
// It returns the trust.
func (m *Manager) Trusted(ctx context.Context, token string) (string, *TrustedBrowser, error) {
	cl, ok := m.trustClaims(token)
	if !ok {
		return "", nil, ErrNotTrusted
	}
	before, err := RevokedBefore(ctx, m.store, m.realm, cl.Subject)
	if err != nil {
		return "", nil, err
	}
	if !before.IsZero() && !cl.IssuedAt.After(before) {
		return "", nil, ErrNotTrusted
	}
	list, err := m.TrustedBrowsers(ctx, cl.Subject)
	if err != nil {
		return "", nil, err
	}
	for i := range list {
		if list[i].ID != cl.SID {
			continue
		}
		if cl.Gen != list[i].Gen || list[i].dropped(cl) {
			return "", nil, ErrNotTrusted // its browser re-trusted since (TrustHeld): this token was given up
		}
		if !m.NumberGiven(cl.Subject, list[i].Device) {
			return "", nil, ErrNumberNotGiven
		}
		return cl.Subject, &list[i], nil
	}
	return "", nil, ErrNotTrusted
}

// stillTrusted reads user's trust id again once the session sid it signed
// in (token) is listed, and withdraws that session where the trust ended
// meanwhile (ErrNotTrusted; or the store's error): an admin's end of the
// trust's session (End) ends the trust first, then reads the list, so a
// sign-in that found the trust before the end is either listed by then
// (and ended by it) or finds the trust gone here. Before, its session
// lived on, unlisted (TestAnEndRacingATrustedSignInEndsItsSession). The
// token was never handed out: it leaves the cache and the list. It
// compares the trust's ID, not its generation: a re-trust meanwhile ends
// no session and keeps the ID, so a session of the token before it is one
// every end of the trust reaches (TestASignInByTheEarlierCookieRacing-
// ItsReTrust).
func (m *Manager) stillTrusted(ctx context.Context, token, user, sid, id string) error {
	list, err := m.TrustedBrowsers(ctx, user)
	if err == nil && slices.ContainsFunc(list, func(tb TrustedBrowser) bool { return tb.ID == id }) {
		return nil
	}
	m.Withdraw(ctx, token, user, sid)
	if err != nil {
		return err
	}
	return ErrNotTrusted
}

// Withdraw takes back a session issued and not handed out: out of the
// cache and the list (a sign-in whose device was removed meanwhile).
func (m *Manager) Withdraw(ctx context.Context, token, user, sid string) {
	m.cache.Remove(token)
	dropSessions(context.WithoutCancel(ctx), m.store, m.realm, user, m.now(), func(s Info) bool { return s.SID == sid })
}

// trustClaims reads a trust token's claims, if its signature, realm and
// expiry hold.
func (m *Manager) trustClaims(token string) (cl Claims, ok bool) {
	if token == "" || m.trustKeys().Verify(token, m.realm, &cl) != nil {
		return Claims{}, false
	}
	return cl, true
}

// TrustedBrowsers lists user's live trusts, the oldest first.
func (m *Manager) TrustedBrowsers(ctx context.Context, user string) ([]TrustedBrowser, error) {
	raw, err := m.store.Get(ctx, trustedKey(m.realm, user))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return liveTrusts(raw, m.now())
}

// liveTrusts reads a trust record, leaving out those expired at now.
func liveTrusts(raw []byte, now time.Time) ([]TrustedBrowser, error) {
	var list []TrustedBrowser
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list, func(tb TrustedBrowser) bool { return !now.Before(tb.Expires) }), nil
}

// Untrust ends one of user's trusts.
func (m *Manager) Untrust(ctx context.Context, user, id string) error {
	return m.editTrusted(store.Lasting(ctx), user, func(list []TrustedBrowser) []TrustedBrowser {
		return slices.DeleteFunc(list, func(tb TrustedBrowser) bool { return tb.ID == id })
	})
}

// UntrustBrowser ends, in one atomic step, user's trusts named by ids and
// every one earned by a browser of known (TrustedBrowser.Known) — a
// sign-out in that browser, wherever each trust's cookie is kept. The
// user's other browsers keep theirs. It answers the IDs of those that
// ended (EndCopies ends the sessions copies of their cookies signed in).
func (m *Manager) UntrustBrowser(ctx context.Context, user string, known []string, ids ...string) ([]string, error) {
	var ended []string
	err := m.editTrusted(store.Lasting(ctx), user, func(list []TrustedBrowser) []TrustedBrowser {
		ended = nil // again at each try
		return slices.DeleteFunc(list, func(tb TrustedBrowser) bool {
			if (tb.Known != "" && slices.Contains(known, tb.Known)) || slices.Contains(ids, tb.ID) {
				ended = append(ended, tb.ID)
				return true
			}
			return false
		})
	})
	return ended, err
}

// EndCopies ends user's listed sessions that came from or made one of
// trusts (a sign-out's, UntrustBrowser), but those of keep (the browser's
// own, which the sign-out revokes itself and whose browser stays known):
// a copy of a trust's cookie signed in elsewhere is signed out with the
// browser whose trust it copied, as a copy of its session cookie is. A
// session the list pushed off (MaxListed) is not found. The trusts are
// not marked ended (endTrusts): the owner's browser, whose known-browser
// cookie names its trust, stays known after a sign-out.
func (m *Manager) EndCopies(ctx context.Context, user string, trusts, keep []string) error {
	if len(trusts) == 0 {
		return nil
	}
	now := m.now()
	list, err := unended(ctx, m.store, m.realm, user, now)
	if err != nil {
		return err
	}
	return endListed(ctx, m.store, m.realm, user, list, now, func(s Info) bool {
		return endsTrust(trusts, s) && !slices.Contains(keep, s.SID)
	})
}

// UntrustAll ends every trust of user in realm (a reset; also with Caddy
// stopped, on the store alone).
func UntrustAll(ctx context.Context, st store.Store, realm, user string) error {
	return st.Delete(store.Lasting(ctx), trustedKey(realm, user))
}

// editTrusted changes user's trusts in one atomic step (Store.Update): a
// trust made while another ends, or while the user signs out everywhere,
// neither brings an ended trust back nor is lost. The record lives as
// long as its longest trust; an edit that ends and makes none writes
// nothing.
func (m *Manager) editTrusted(ctx context.Context, user string, edit func([]TrustedBrowser) []TrustedBrowser) error {
	return editTrusted(ctx, m.store, m.realm, user, m.now(), edit)
}

// editTrusted is Manager.editTrusted at now, on the store alone.
func editTrusted(ctx context.Context, st store.Store, realm, user string, now time.Time, edit func([]TrustedBrowser) []TrustedBrowser) error {
	return st.Update(ctx, trustedKey(realm, user), func(raw []byte, found bool) ([]byte, time.Duration, error) {
		var list []TrustedBrowser
		if found {
			var err error
			if list, err = liveTrusts(raw, now); err != nil {
				return nil, 0, err
			}
		}
		was := slices.Clone(list) // a re-trust keeps its ID (TrustHeld): the trusts are compared whole
		list = edit(list)
		if slices.EqualFunc(was, list, func(a, b TrustedBrowser) bool { return reflect.DeepEqual(a, b) }) {
			return nil, 0, store.ErrUnchanged // nothing ended or made (a sign-out's): no write to wait for
		}
		if len(list) == 0 {
			return nil, 0, nil
		}
		raw, err := json.Marshal(list)
		last := list[0].Expires
		for _, tb := range list {
			if tb.Expires.After(last) {
				last = tb.Expires
			}
		}
		return raw, last.Sub(now) + time.Minute, err
	})
}
