package pages_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestARestoredPasskeySignsIn (attack41b H1): a Redis wiped (restarted
// without persistence) and restored from an export with the keys, as
// README's restore says: carol's passkey signs her in at the login form
// (a discoverable sign-in, which reads which user its handle names) and
// the export carries that record and her credential's. Before, it carried
// neither: the passkey was listed after the restore, and every sign-in
// with it at the login form answered "not accepted".
func TestARestoredPasskeySignsIn(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.Start(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		store redis `+r.Addr+`
		provider log
	}
	respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
}`)
	origin := s.WithPorts(s.Base)
	auth := fakes.NewAuthenticator("localhost", origin)
	registerPasskey(t, s, sitetest.NewClient(t, ""), auth)
	login := func() (*sitetest.Client, *sitetest.Response) {
		c := sitetest.NewClient(t, "")
		c.Get("/.smsgate/login")
		begin := passkeyCall(c, "login/begin", origin, nil)
		answer, err := auth.Get([]byte(begin.Text))
		if err != nil {
			t.Fatal(err)
		}
		return c, passkeyCall(c, "login/finish", origin, answer)
	}
	if c, res := login(); res.StatusCode != http.StatusOK || c.Cookie("smsgate_session") == "" {
		t.Fatalf("before the wipe: %d %s", res.StatusCode, res.Text)
	}
	st, backup := sitetest.Admin(t, "POST", "/smsgate/export?with_keys=1", "")
	if st != http.StatusOK || !strings.Contains(backup, "passkey-user/") || !strings.Contains(backup, "passkey-credential/") {
		t.Fatalf("export: %d, with its passkey's records: %v, %v", st, strings.Contains(backup, "passkey-user/"), strings.Contains(backup, "passkey-credential/"))
	}
	r.Restart() // no persistence: the store forgets all it held
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		st, body := sitetest.Admin(t, "POST", "/smsgate/import", backup)
		if st == http.StatusOK {
			break
		}
		if time.Since(start) > 30*time.Second { // a hang guard: the client reconnects in about a second
			t.Fatalf("import after the wipe: %d %s", st, body)
		}
	}
	s.Advance(time.Minute)
	if c, res := login(); res.StatusCode != http.StatusOK || c.Cookie("smsgate_session") == "" {
		t.Fatalf("carol's passkey after the restore: %d %s", res.StatusCode, res.Text)
	}
}
