package caddymodule_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheAdminAPIRightAfterAReloadFindsTheGates: at a reload Caddy starts
// the new config's admin endpoint before it loads the apps and stops the
// old one only after the new config runs, both accepting on one listener;
// an admin request right after the reload (a connection kept alive) may
// be the old endpoint's. Here it is, deterministically: the admin API's
// module as Caddy loads it for the first config's endpoint, asked after
// the second config runs. It must find the running config's gates. Through
// the in-process Caddy (caddy.ActiveContext is its own), so not parallel.
// (Before, it looked in the config it was loaded with: the old gates,
// cleaned up, none registered: 404 "no smsgate handler is configured", the
// flake of TestACodeForANumberTheConfigNoLongerAllowsEnrollsNothing.)
func TestTheAdminAPIRightAfterAReloadFindsTheGates(t *testing.T) {
	site := `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`
	sitetest.Start(t, site)
	mod, err := caddy.ActiveContext().LoadModuleByID("admin.api.smsgate", nil) // as the first config's endpoint has it
	if err != nil {
		t.Fatal(err)
	}
	sitetest.Start(t, site)
	rec := httptest.NewRecorder()
	err = mod.(caddy.AdminRouter).Routes()[0].Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/smsgate/users?realm=localhost", nil))
	if ae := (caddy.APIError{}); errors.As(err, &ae) {
		t.Fatalf("the admin API of the endpoint before the reload: %d %v", ae.HTTPStatus, ae.Err)
	}
	if err != nil || rec.Code != http.StatusOK {
		t.Fatalf("the admin API of the endpoint before the reload: %v %d %s", err, rec.Code, rec.Body)
	}
}
