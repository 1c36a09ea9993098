package pages_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

func init() { caddy.RegisterModule(streakHold{}) }

// streakHold is a store for tests: a real one (Inner) that holds a login
// post right after it reads the record of a login form's doubling (a
// client's streak: cooldown/…/ip/…), driven by files in Dir (Caddy runs
// in another process). A read of such a key while the file "arm" exists
// removes "arm", writes "parked" and waits (10 s at most) for a file
// "go", which it removes.
type streakHold struct {
	Dir   string          `json:"dir"`
	Inner json.RawMessage `json:"inner" caddy:"namespace=smsgate.stores inline_key=module"`
	store.Store
}

func (streakHold) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "smsgate.stores.smsgate_test_streakhold", New: func() caddy.Module { return new(streakHold) }}
}

func (h *streakHold) Provision(ctx caddy.Context) error {
	mod, err := ctx.LoadModule(h, "Inner")
	if err != nil {
		return err
	}
	h.Store = mod.(store.Store)
	return nil
}

// UnmarshalCaddyfile: `store smsgate_test_streakhold <dir> <store> <args...>`.
func (h *streakHold) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if !d.NextArg() {
		return d.ArgErr()
	}
	h.Dir = d.Val()
	var err error
	h.Inner, err = cfutil.Module(d, "smsgate.stores.", "module")
	return err
}

func (h *streakHold) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := h.Store.Get(ctx, key)
	if strings.HasPrefix(key, "cooldown/") && strings.Contains(key, "/ip/") && os.Remove(filepath.Join(h.Dir, "arm")) == nil {
		_ = os.WriteFile(filepath.Join(h.Dir, "parked"), nil, 0o600)
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
			if os.Remove(filepath.Join(h.Dir, "go")) == nil {
				break
			}
		}
	}
	return v, err
}

// TestTwoLoginPostsAtOnceSendOneCode: through a real Caddy, two posts of
// carol's name at the login form at once from one IP (two tabs), after a
// first code whose wait is over, send one code, not two, and the wait
// after it is the doubled one (60 s): one post is held right after it
// read the client's streak until the other has been answered, on Badger
// and on Redis. Before, the held post passed the wait it had read and
// texted carol too (two codes, both 303), and the doubling of one of
// them was lost.
func TestTwoLoginPostsAtOnceSendOneCode(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			inner := "badger {DIR}"
			if kind == "redis" {
				inner = "redis " + redistest.Server(t)
			}
			dir := t.TempDir()
			s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		store smsgate_test_streakhold `+dir+` `+inner+`
		provider log
	}
	respond "Hello, {http.auth.user.id}"
}`)
			first := sitetest.NewClient(t, "")
			sitetest.Expect(t, typeCarol(first), http.StatusSeeOther, "/.smsgate/verify")
			s.Advance(31 * time.Second) // past the first code's wait: the next one's is 60 s
			// Two tabs of one browser: each its own form.
			held, other := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
			post := func(c *sitetest.Client) *http.Request {
				req, _ := http.NewRequest(http.MethodPost, s.WithPorts(s.Base+"/.smsgate/login"),
					strings.NewReader(url.Values{"username": {"carol"}, "csrf": {c.CSRF("/.smsgate/login")}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Accept", "text/html")
				return req
			}
			heldReq, otherReq := post(held), post(other)
			if err := os.WriteFile(filepath.Join(dir, "arm"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			answered := make(chan int, 1)
			go func() {
				res, err := held.HTTP.Do(heldReq)
				if err != nil {
					answered <- 0
					return
				}
				res.Body.Close()
				answered <- res.StatusCode
			}()
			for end := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
				if _, err := os.Stat(filepath.Join(dir, "parked")); err == nil {
					break
				}
				if time.Now().After(end) {
					t.Fatal("the held post never read the client's streak")
				}
			}
			res, err := other.HTTP.Do(otherReq)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			heldStatus := <-answered
			if res.StatusCode != http.StatusSeeOther || heldStatus != http.StatusTooManyRequests || s.Sent() != 2 {
				t.Fatalf("two posts at once: %d and, held, %d; %d codes sent in all; want 303 and 429, 2 codes (the first login's and one)",
					res.StatusCode, heldStatus, s.Sent())
			}
			s.Advance(31 * time.Second)
			if res := typeCarol(first); res.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("31 s after the code: %d; want 429 (its wait is 60 s)", res.StatusCode)
			}
			s.Advance(30 * time.Second)
			if sitetest.Expect(t, typeCarol(first), http.StatusSeeOther, "/.smsgate/verify"); s.Sent() != 3 {
				t.Fatalf("%d codes sent after the doubled wait; want 3", s.Sent())
			}
		})
	}
}
