package caddymodule_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

func init() {
	caddy.RegisterModule(holdToFail{})
	caddy.RegisterModule(failsOnceHeld{})
	httpcaddyfile.RegisterHandlerDirective("smsgate_test_hold", func(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
		h.Next()
		return &holdToFail{Hold: h.NextArg()}, nil
	})
	httpcaddyfile.RegisterGlobalOption("smsgate_test_fails_once_held", func(d *caddyfile.Dispenser, _ any) (any, error) {
		d.Next()
		d.NextArg()
		raw, err := json.Marshal(failsOnceHeld{Listen: d.Val()})
		return httpcaddyfile.App{Name: "smsgate_test_fails_once_held", Value: raw}, err
	})
}

// aHold is one failing load's: a request its holdToFail took, and the
// test's word to let it go on (each closed once).
type aHold struct {
	held, release         chan struct{}
	heldOnce, releaseOnce sync.Once
}

var (
	holdsMu sync.Mutex
	theHold = newHold() // the newest failsOnceHeld's (the Caddy process's)
)

func newHold() *aHold { return &aHold{held: make(chan struct{}), release: make(chan struct{})} }

func currentHold() *aHold {
	holdsMu.Lock()
	defer holdsMu.Unlock()
	return theHold
}

// holdToFail is a handler before the gate: at /release it lets the held
// request go on; where Hold (the failing config's), it holds a request
// to /held (marking it X-Held) until then, so that it reaches the gate
// only after its config failed to start and was cleaned up.
type holdToFail struct {
	Hold bool `json:"hold,omitempty"`
}

func (holdToFail) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.smsgate_test_hold", New: func() caddy.Module { return new(holdToFail) }}
}

func (h *holdToFail) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	switch hold := currentHold(); {
	case r.URL.Path == "/release":
		hold.releaseOnce.Do(func() { close(hold.release) })
		_, err := w.Write([]byte("released"))
		return err
	case h.Hold && r.URL.Path == "/held":
		r.Header.Set("X-Held", "held by the failed config")
		hold.heldOnce.Do(func() { close(hold.held) })
		<-hold.release
	}
	return next.ServeHTTP(w, r)
}

// failsOnceHeld is an app that fails to start: at once where the HTTP
// app has not started its servers yet (its config's listener on Listen
// not open beside the running config's), else once holdToFail holds a
// request that reached the failing config's server.
type failsOnceHeld struct {
	Listen string `json:"listen"`
}

func (failsOnceHeld) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "smsgate_test_fails_once_held", New: func() caddy.Module { return new(failsOnceHeld) }}
}

func (f *failsOnceHeld) Provision(caddy.Context) error {
	holdsMu.Lock()
	defer holdsMu.Unlock()
	theHold = newHold()
	return nil
}

func (f *failsOnceHeld) Start() error {
	if caddy.ListenerUsage("tcp", f.Listen) < 2 {
		return errors.New("this app never starts (its config's servers not started)")
	}
	select {
	case <-currentHold().held:
	case <-time.After(time.Minute): // a bound, not a synchronisation: the test asks until a request is held
	}
	return errors.New("this app never starts (a request held)")
}

func (f *failsOnceHeld) Stop() error { return nil }

// TestARequestAtTheGateOfAFailedLoadIsServedByTheRunningConfig: a load
// fails to start after its HTTP server started beside the running
// config's (SO_REUSEPORT: the kernel hands a new connection to either
// socket until Caddy closes the failed one), and a request that the
// failed config's server took reaches its gate once the gate was cleaned
// up (holdToFail keeps it before the gate until the load was refused).
// The running config answers it, as it answers the port's every other
// connection: alice's page, not the failed config's. (Before: a 503 with
// Retry-After, the failed config's header on it, flake37.)
func TestARequestAtTheGateOfAFailedLoadIsServedByTheRunningConfig(t *testing.T) {
	sitetest.Parallel(t)
	const site = `http://localhost:{HTTP_PORT} {
	%s
	basic_auth argon2id {
		alice %s
	}
	smsgate {
		realm localhost
		enrollment closed
		store badger %s
		provider log
		user alice %s
	}
	respond "Hello, {http.auth.user.id}! {http.request.header.X-Held}"
}`
	s := sitetest.StartWith(t, "order smsgate_test_hold first", fmt.Sprintf(site, "smsgate_test_hold", sitetest.DemoHash, "{DIR}", "+14155552671"))
	alice := sitetest.NewClient(t, "alice")
	tok := codeSent(t, alice)
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")

	failing := s.WithPorts(fmt.Sprintf(`{
	skip_install_trust
	admin localhost:{ADMIN_PORT}
	http_port {HTTP_PORT}
	https_port {HTTPS_PORT}
	log {
		output file %s
		format json
	}
	order smsgate_test_hold first
	smsgate_test_fails_once_held :{HTTP_PORT}
}
`, s.LogFile) + fmt.Sprintf(site, "smsgate_test_hold hold\n\theader "+failedLoad+" failed", sitetest.DemoHash, s.Store, "+447400123456"))
	for range 30 { // Caddy starts the apps in no set order: the HTTP app first half the time
		loaded := make(chan struct{})
		go func() {
			defer close(loaded)
			sitetest.AssertLoadError(t, failing, "this app never starts")
			for range 100 { // the failed listener may take it, and close unanswered
				if st, _, err := newConnection(alice, s.Base+"/release"); err == nil && st == http.StatusOK {
					return
				}
			}
			t.Error("no /release answered")
		}()
		for held, tries := false, 0; !held; tries++ {
			if tries == 1000 {
				<-loaded
				t.Fatal("1,000 connections and none held")
			}
			st, text, err := newConnection(alice, s.Base+"/held")
			if err != nil { // a connection the failed listener took, and closed unanswered
				continue
			}
			if held = strings.Contains(text, "held"); held {
				<-loaded
				if st != http.StatusOK || text != "Hello, alice! held by the failed config" {
					t.Fatalf("a request the failed config's server took, at its gate cleaned up: %d %q; want the running config's 200 Hello, alice", st, text)
				}
				if len(s.LogEntries(handedToRunning)) == 0 {
					t.Error("no handed_to_running in the log")
				}
				return
			}
			select {
			case <-loaded:
				held = true // refused before its server started: try again
			default:
			}
		}
		<-loaded
	}
	t.Fatal("no request reached the failed config's server in 30 loads")
}

// handedToRunning is the failed config's gate's word for the request it
// handed to the running config.
const handedToRunning = "a request reached the gate of a config that failed to start: served by the running config"

// newConnection is c's GET of u on a new connection: its status, and its
// body with the failed config's header (failedLoad) named in it.
func newConnection(c *sitetest.Client, u string) (int, string, error) {
	c.HTTP.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	req.SetBasicAuth(c.User, "demo")
	res, err := c.HTTP.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if f := res.Header.Get(failedLoad); f != "" {
		b = append(b, " (held: the failed config's "+failedLoad+")"...)
	}
	return res.StatusCode, string(b), err
}
