package caddymodule_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// rfc4518Prep is a name as a directory's caseIgnoreMatch compares it,
// after RFC 4518 §2.2 ("Map") and §2.6.1 (insignificant space handling):
// what ldapPrep maps to nothing, and U+FFFC, U+1806 and every control and
// format character too, every White_Space to a space, runs of spaces as
// one, none at either end.
func rfc4518Prep(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.White_Space, r):
			return ' '
		case r == 0xFFFC || r == 0x1806 || unicode.In(r, unicode.Cc, unicode.Cf):
			return -1
		}
		return r
	}, ldapPrep(s))
	return strings.Join(strings.Fields(s), " ")
}

// TestAnRFC4518TwinEnrollsNoSecondAlice (attack34's F1): behind an SSO
// over a directory that passes the name as typed, whoever holds alice's
// password logs in as "alice\ufffc" or "alic\u1806e" (RFC 4518 maps
// U+FFFC and U+1806 to nothing), and holding "mary smith"'s as
// "mary\u1680smith" (U+1680 OGHAM SPACE MARK, a space to the directory,
// which NFKC keeps), "mary  smith" or "MARY\u3000SMITH" (runs of spaces
// compare as one, and look as one on an HTML page). The first two show
// nothing a person can see: such an identity signs nobody in (401); the
// others meet the case-twin page at the enroll step (403, nothing sent)
// and hold no device. Before: each enrolled the thief's own phone (303 at
// the enroll POST, a code to his number, then 200 "Hello alice￼").
func TestAnRFC4518TwinEnrollsNoSecondAlice(t *testing.T) {
	sitetest.Parallel(t) // the parts too
	sso := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if login := r.Header.Get("X-Login"); strings.EqualFold(rfc4518Prep(login), "alice") || strings.EqualFold(rfc4518Prep(login), "mary smith") {
			w.Header().Set("Remote-User", login)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(sso.Close)
	login := func(t *testing.T, name string) *sitetest.Client {
		c := sitetest.NewClient(t, "")
		c.Header = http.Header{"X-Login": {name}}
		return c
	}
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	route {
		forward_auth `+strings.TrimPrefix(sso.URL, "http://")+` {
			uri /check
			copy_headers Remote-User
		}
		smsgate {
			identity {http.request.header.Remote-User}
			`+storeLine+`
			provider log
		}
		respond "Hello {http.request.header.Remote-User}"
	}
}`)
		sitetest.Enroll(t, s, login(t, "alice"), "+14155550101")
		sitetest.Enroll(t, s, login(t, "mary smith"), "+14155550103")
		sent := s.Sent()
		for _, twin := range []string{"alice\ufffc", "alic\u1806e", "\ufffcmary smith"} {
			thief := login(t, twin)
			sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusUnauthorized, "")
			sitetest.Expect(t, thief.Get("/.smsgate/enroll"), http.StatusUnauthorized, "")
		}
		for _, twin := range []string{"mary\u1680smith", "mary  smith", "MARY\u3000SMITH", "mary \u2003 smith"} {
			thief := login(t, twin)
			sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
			if res := thief.Get("/.smsgate/enroll"); res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, caseTwinPage) {
				t.Errorf("%+q, mary smith's twin, at the enroll step: %d, want 403 and the case-twin page", twin, res.StatusCode)
			}
			if res, _ := sitetest.EnrollWith(t, thief, "+14155550199"); res.StatusCode != http.StatusForbidden {
				t.Errorf("%+q enrolls a phone: %d %s", twin, res.StatusCode, res.Header.Get("Location"))
			}
		}
		if s.Sent() != sent {
			t.Errorf("%d codes went out for an RFC 4518 twin", s.Sent()-sent)
		}
		if users := usersOf(t, s); len(users) != 2 {
			t.Errorf("users: %v, want alice and mary smith only", users)
		}
	})
}
