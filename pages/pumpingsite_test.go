package pages_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// pumpingSite starts a site on Badger, behind trusted proxies (each test
// client its own address: From), whose basic_auth signs users in (the
// demo password each) and whose gate has lines (its limits, its
// pumping_guard block, its admins), at the start of an hour (the
// windows of the limits and the guard whole).
func pumpingSite(t *testing.T, users []string, lines ...string) *sitetest.Site {
	t.Helper()
	var logins strings.Builder
	for _, u := range users {
		fmt.Fprintf(&logins, "\t\t%s %s\n", u, sitetest.DemoHash)
	}
	s := sitetest.StartWith(t, sitetest.TrustedProxies, `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
`+logins.String()+`	}
	smsgate {
		`+strings.Join(lines, "\n\t\t")+`
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
	s.StartOfHour()
	return s
}
