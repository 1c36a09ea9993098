package caddymodule_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

func init() {
	caddy.RegisterModule(failsToStart{})
	httpcaddyfile.RegisterGlobalOption("smsgate_test_fails_to_start", func(d *caddyfile.Dispenser, _ any) (any, error) {
		d.Next()
		return httpcaddyfile.App{Name: "smsgate_test_fails_to_start", Value: []byte("{}")}, nil
	})
}

// failsToStart is a Caddy app whose Start fails: a config holding it is
// provisioned whole, its apps started in no set order, and refused at
// its start (Caddy stops the apps started before it and keeps the config
// it had).
type failsToStart struct{}

func (failsToStart) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "smsgate_test_fails_to_start", New: func() caddy.Module { return new(failsToStart) }}
}

func (failsToStart) Start() error { return errors.New("this app never starts") }
func (failsToStart) Stop() error  { return nil }

// TestALoadThatFailsToStartSettlesNothing: the admin loads a config that
// gives alice a new number, and another app of it fails to start: Caddy
// keeps the config it had, whose number is still alice's, so her session
// (the thief's, as far as anyone knows: nothing was taken away) lives on.
// Caddy starts the apps in no set order, so the load is tried ten times:
// smsgate's started before the failing one in some (each half the time).
// (Before, smsgate's Start settled the numbers: a load whose later app
// failed revoked her sessions and kept the number of a config that never
// ran, so the next load compared the new number with itself.)
func TestALoadThatFailsToStartSettlesNothing(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice"}, "\t\tuser alice +14155552671\n")
	alice := sitetest.NewClient(t, "alice")
	tok := codeSent(t, alice)
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")

	failing := fmt.Sprintf(`{
	skip_install_trust
	admin localhost:{ADMIN_PORT}
	http_port {HTTP_PORT}
	https_port {HTTPS_PORT}
	grace_period 1ns
	log {
		output file %s
		format json
	}
	smsgate_test_fails_to_start
}
http://localhost:{HTTP_PORT} {
	header %s failed
	basic_auth argon2id {
		alice %s
	}
	smsgate {
		realm localhost
		enrollment closed
		store badger %s
		provider log
		user alice +447400123456
	}
	respond "Hello, {http.auth.user.id}!"
}`, s.LogFile, failedLoad, sitetest.DemoHash, s.Store)
	for range 10 {
		sitetest.AssertLoadError(t, s.WithPorts(failing), "this app never starts")
		if res := fromTheRunningConfig(t, alice); res.StatusCode != http.StatusOK {
			t.Fatalf("a load that failed to start ended the session of the config still running: %d %s", res.StatusCode, res.Text)
		}
	}
	if n := len(s.LogEntries("provisioned_number_changed")); n != 0 {
		t.Errorf("%d numbers changed by loads that never ran", n)
	}
}

// failedLoad is the header the failed config's site adds to its answers.
const failedLoad = "X-Smsgate-Test-Failed-Load"

// fromTheRunningConfig is c's GET / on a new connection, answered by the
// running config. The failed config's server may take it: Caddy stops a
// failed config's servers without waiting for their listeners to close
// (caddyhttp's App.stop), and the kernel hands a new connection to either
// socket of the port (SO_REUSEPORT). Its gate, cleaned up, hands it to
// the running config's server (failedload.ToRunning; flake37 saw a 503 to
// retry there, TestARequestAtTheGateOfAFailedLoadIsServedByTheRunningConfig
// forces it), so no answer carries the failed config's header.
func fromTheRunningConfig(t *testing.T, c *sitetest.Client) *sitetest.Response {
	t.Helper()
	c.HTTP.CloseIdleConnections()
	res := c.Get("/")
	if res.Header.Get(failedLoad) != "" {
		t.Fatalf("the failed config answered: %d %s", res.StatusCode, res.Text)
	}
	return res
}
