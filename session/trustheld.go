package session

import (
	"context"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
)

// Two sign-ins of one browser that each ask to trust it, answered in
// either order (two tabs; trust39). Each reads the browser's cookies as
// they were when it was sent, and the browser keeps the trust cookie of
// whichever answer comes last, which the store cannot know. So the
// second to reach the record takes the first's trust as it is, and sets
// no cookie: the browser keeps the first's, whatever the order of the
// answers, and no trust is listed that it does not hold. Before, the
// second renewed the trust again (the first's cookie, if it came last,
// was refused: a code asked) or, once the first had written, found its
// cookie refused and made a second trust, listed, whose cookie it gave up
// if the first's answer came last (and which still signed in).

// held is what a sign-in's browser holds of its user's trusts: the ID its
// trust cookie names ("" for none) and that cookie's generation, and seen,
// when the sign-in whose answer the browser took last began (its
// known-browser cookie's iat; zero for none).
type held struct {
	id   string
	gen  int
	seen time.Time
}

// What a sign-in's re-trust does with the trust it picks (held.pick).
const (
	makeNew  = iota // a trust of a new ID
	renew           // the trust picked, its generation counted up
	takeAsIs        // the trust picked, as another sign-in of the browser left it: no token
	makeNone        // none: the browser's trust ended while the sign-in ran
)

// pick finds in list the trust a sign-in with h and the known-browser
// name known takes (i; -1 for none), and what it does (how):
//   - h's trust, renewed since h's cookie was issued (by another sign-in
//     of the browser: its generation is later), it takes as it is;
//   - h's trust otherwise it renews, even of a generation the cookie is
//     ahead of (a previous release dropped it: see Trusted);
//   - h naming a trust no longer listed (stopped, signed out, ended while
//     the sign-in ran), it makes none: "Stop trusting" the row the page
//     showed ends what the browser holds, whichever comes first;
//   - with no trust cookie, the newest trust of the same browser (known)
//     made by a sign-in that began after the last whose answer this
//     browser took (h.seen; whole seconds) it takes as it is: the sign-in
//     that made it sets the browser's known-browser cookie, so a browser
//     that took its answer (one trusted at another gate of the realm,
//     whose trust cookie this gate does not see) has seen it, and makes a
//     trust of its own here.
func (h held) pick(list []TrustedBrowser, known string) (i, how int) {
	if i = slices.IndexFunc(list, func(tb TrustedBrowser) bool { return h.id != "" && tb.ID == h.id }); i >= 0 {
		if list[i].Gen > h.gen {
			return i, takeAsIs
		}
		return i, renew
	}
	switch {
	case h.id != "":
		return -1, makeNone
	case known == "" || h.seen.IsZero():
		return -1, makeNew
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Known == known && list[i].Issued.After(h.seen) {
			return i, takeAsIs
		}
	}
	return -1, makeNew
}

// TrustHeld makes a trust for user's browser (its kind and system, by
// name, as where says them: Where.Browser and Where.System, "Firefox" and
// "Linux"; known is its known-browser cookie's ID) lasting lifetime,
// earned by the code of device ("" for none: EndDevice) entered at
// authTime in a sign-in that began at b (zero: now; its token is issued
// then, see Began), and returns the cookie's token and the trust. The
// browser holds the trust cookie token ("" for none) and a known-browser
// cookie issued at seen (zero for none).
//
// It renews the trust the cookie names, if it is user's and no revocation
// came after it, whatever its generation: the cookie gives way to the new
// one's, so the new trust takes its place in the same atomic step (no
// trust left that no browser holds, listed on the devices page and taking
// a place among MaxTrusted); if the new trust cannot be written, the old
// one stays. A re-trust keeps the trust's ID (attack38 F1): the sessions
// that trust signed in or made, the console invites minted in them and
// the devices page's row all name it, so "Stop trusting" (of the row she
// saw before, too), the console's end of a session and end-unlisted reach
// everything the browser's trusts ever named. The previous token of the
// trust, and a copy of it, are refused from then on (Trusted: a re-trust
// counts its Gen up, and the new token carries the new one).
//
// Where another sign-in of this browser renewed or made its trust since
// (see above), it answers that trust with no token: the browser keeps the
// one that sign-in's answer gives it. Where the trust the cookie names is
// no longer listed (ended meanwhile: its end marks stay), it makes none
// (ErrNotTrusted): the browser's cookie is to be forgotten.
func (m *Manager) TrustHeld(ctx context.Context, b Began, user, token, known string, seen time.Time, where Where, device string, amr []factor.AMR, authTime int64, lifetime time.Duration) (string, *TrustedBrowser, error) {
	h := held{seen: seen}
	if cl, ok := m.trustClaims(token); ok && cl.Subject == user {
		before, err := RevokedBefore(ctx, m.store, m.realm, user)
		if err != nil {
			return "", nil, err
		}
		if before.IsZero() || cl.IssuedAt.After(before) {
			h.id, h.gen = cl.SID, cl.Gen
		}
	}
	return m.trust(ctx, b, user, h, known, where, device, amr, authTime, lifetime)
}
