package pages_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestTheAdminsEndOutlivesTheSession: a thief signs in as alice once; the
// admin ends that session (the console's "End this session"), so that the
// thief's browser, whose known-browser cookie names it, is a stranger's
// again (TestAnEndedSessionEndsItsBrowsersKnownness). The cookie lasts 400
// days; the session, 12 hours. The store's mark of the end must last as
// long as the cookie could be shown, not as long as the session: once the
// mark expires, the thief's browser is alice's own again, with her window
// of guesses and her send budgets. (Before, the mark expired with the
// session, 12 hours and 30 seconds after the sign-in: the thief's browser
// was known as alice's again from then on.) On Redis, whose expiry this
// reads, through a real Caddy.
func TestTheAdminsEndOutlivesTheSession(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.Start(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		store redis %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, r.Addr))
	if st, out := s.Admin("POST", "/smsgate/users", `{"realm":"localhost","user":"alice","phone":"+14155552671"}`); st != http.StatusOK {
		t.Fatalf("adding alice: %d %s", st, out)
	}
	thief := sitetest.NewClient(t, "")
	tok := thief.CSRF("/.smsgate/login")
	sitetest.Expect(t, thief.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	if thief.Cookie("smsgate_known") == "" {
		t.Fatal("no known-browser cookie after the sign-in")
	}
	sid := alicesSessionsOf(t, s, 1)[0]
	if st, out := s.Admin("POST", "/smsgate/sessions/end", `{"realm":"localhost","user":"alice","id":"`+sid+`"}`); st != http.StatusOK {
		t.Fatalf("ending the thief's session: %d %s", st, out)
	}

	rc := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer rc.Close()
	ctx := context.Background()
	keys, err := rc.Keys(ctx, "smsgate:ended-by-admin/*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("the admin's end of the session, in the store: %v %v", keys, err)
	}
	ttl, err := rc.PTTL(ctx, keys[0]).Result()
	if want := 399 * 24 * time.Hour; err != nil || ttl < want {
		t.Fatalf("the admin's end of the session lasts %v (%v): its browser is the owner's again then, while its cookie lasts 400 days; want at least %v", ttl, err, want)
	}
}
