package caddymodule_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// ldapPrep is a name as a directory's caseIgnoreMatch compares it (RFC
// 4518 §2.2, "Map": the soft hyphen, U+034F, U+180B-180D, U+FE00-FE0F…
// are mapped to nothing before the case-blind comparison).
func ldapPrep(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 0x00AD || r == 0x034F || r >= 0x180B && r <= 0x180D || r >= 0xFE00 && r <= 0xFE0F {
			return -1
		}
		return r
	}, s)
}

// TestAnInvisibleTwinSignsNobodyIn (attack33's F1): behind an SSO over
// LDAP that passes the name as typed, whoever holds alice's password logs
// in as "alic\u034fe" (a combining grapheme joiner) or "alice\ufe0f" (a
// variation selector): invisible, default-ignorable, and alice for the
// directory. Such an identity signs nobody in (401, as one with a
// direction mark: textsafe.Hidden), nothing is sent and no device
// written, and the log shows the character escaped. Before: both are
// marks (Mn), not control or format characters, so they passed, twinKey
// kept them, and the thief's first enrollment was not refused as ALICE's
// is: 303 at the enroll step, his phone written, then 200 "Hello alic͏e",
// a name that reads "alice" in the app, the console and the log.
//
// Names written before (a store of the release before, an import) are
// compared without them (twinKey drops what is Hidden): with
// "alic\u034fe" holding a phone, alice's own first enrollment is refused
// as a twin's (before: 303 and a code).
func TestAnInvisibleTwinSignsNobodyIn(t *testing.T) {
	sitetest.Parallel(t)
	on, login := caseBlindSSO(t)
	on("identity", func(t *testing.T, s *sitetest.Site) {
		sitetest.Enroll(t, s, login(t, "alice"), "+14155550101")
		sent := s.Sent()
		for _, twin := range []string{"alic\u034fe", "alice\ufe0f", "\u00adalice"} {
			thief := login(t, twin)
			sitetest.Expect(t, thief.Get("/"), http.StatusUnauthorized, "")
			sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusUnauthorized, "")
			sitetest.Expect(t, thief.Get("/.smsgate/enroll"), http.StatusUnauthorized, "")
			if n, ok := usersOf(t, s)[twin]; ok {
				t.Errorf("%+q, alice's invisible twin, holds %d devices", twin, n)
			}
		}
		if s.Sent() != sent {
			t.Error("a code went out for an invisible twin")
		}
		shown := false
		for _, e := range s.LogEntries("identity refused: longer than the gate takes, or with control, direction or invisible characters") {
			shown = shown || e["user"] == `alic\u034Fe`
		}
		if !shown {
			t.Errorf("the log does not show the refused identity escaped: %v", s.LogEntries())
		}
	})
	// The admin's own adding and invites refuse such a new name, as one
	// with a direction mark (before: an invite for "alic\u034fe").
	on("admin", func(t *testing.T, s *sitetest.Site) {
		for _, op := range []string{"users", "invites"} {
			st, out := s.Admin("POST", "/smsgate/"+op, `{"realm":"localhost","user":"alic\u034fe","phone":"+14155550199"}`)
			if st != http.StatusBadRequest || !strings.Contains(out, "invisible characters") {
				t.Errorf("the admin's %s of alic\u034fe: %d %s, want 400", op, st, out)
			}
		}
		if _, ok := usersOf(t, s)["alic\u034fe"]; ok {
			t.Error("alic\u034fe is a user")
		}
	})
	on("stored", func(t *testing.T, s *sitetest.Site) {
		if st, out := s.Admin("POST", "/smsgate/import?realm=localhost", `[{"key":"device/localhost/alic\u034fe","value":[`+
			`{"id":"TWIN0001","name":"Phone","phone":"+14155550199","enrolled":"2026-12-01T00:00:00Z"}]}]`); st != http.StatusOK {
			t.Fatalf("importing alic\\u034fe's phone: %d %s", st, out)
		}
		alice := login(t, "alice")
		sitetest.Expect(t, alice.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
		sent := s.Sent()
		res, _ := sitetest.EnrollWith(t, alice, "+14155550101")
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, caseTwinPage) {
			t.Errorf("alice's first phone beside a stored alic\\u034fe: %d, want 403 and the case-twin page", res.StatusCode)
		}
		if s.Sent() != sent {
			t.Error("a code went out")
		}
	})
}

// TestAConfigsInvisibleNameIsRefused: a config's user or admin whose name
// holds an invisible character (U+034F), which no identity signs in now,
// is refused at load as one with a direction mark is.
func TestAConfigsInvisibleNameIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	for _, line := range []string{"user alic\u034fe +14155550101", "admins alic\u034fe"} {
		sitetest.AssertLoadError(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		`+line+`
		store badger {DIR}
		provider log
	}
	respond "hi"
}`, "alic", "u034Fe", "invisible characters")
	}
}
