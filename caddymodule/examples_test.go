package caddymodule_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// demoExampleHash is a hash that TestExamplesRun found to be demo's: the
// examples' hash (sitetest.ExampleHash), while it is this one, is not
// checked again.
const demoExampleHash = "$2a$10$eAjqWKWtJzWGcoO86qpOTe3dpZRbaxiYEpCAQw/3wFkkdxgx/z4cK"

// TestExamplesRun loads every Caddyfile in caddyfile-examples/ into a real
// Caddy, its gateways played by fakes through the environment variables the
// example names (put in as Caddy would: each example has a Caddy process of
// its own), and signs in through it.
func TestExamplesRun(t *testing.T) {
	sitetest.Parallel(t) // the parts too: serial with SMSGATE_SITETEST_SERIAL
	// The examples' basic_auth users have password demo; the sites below
	// get a cheaper hash of it (sitetest.DemoBcrypt). Checked beside
	// them, once a hash: at the examples' cost, under the race detector,
	// it takes 0.7 s of CPU.
	t.Run("ExampleHash", func(t *testing.T) {
		t.Parallel()
		if sitetest.ExampleHash == demoExampleHash {
			return
		}
		if ok, err := (caddyauth.BcryptHash{}).Compare([]byte(sitetest.ExampleHash), []byte("demo")); !ok || err != nil {
			t.Fatalf("the examples' hash is not demo's: %v", err)
		}
	})
	files, _ := filepath.Glob(filepath.Join("..", "caddyfile-examples", "*.Caddyfile"))
	if len(files) < 5 {
		t.Fatalf("only %d examples", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sitetest.Parallel(t)
			tw, hook, sig := fakes.NewTwilio(t), fakes.NewHook(t), fakes.NewSignal(t)
			env := map[string]string{
				"TWILIO_ACCOUNT_SID": tw.AccountSID, "TWILIO_AUTH_TOKEN": tw.AuthToken, "TWILIO_FROM": "+15005550006",
				"TWILIO_BASE_URL": tw.URL, "TWILIO_VERIFY_BASE_URL": tw.URL, "TWILIO_VERIFY_SERVICE": "VA00000000000000000000000000000001",
				"SIGNAL_API_URL": sig.URL, "SIGNAL_FROM": "+15005550006", "SIGNAL_API_TOKEN": sig.Token,
				"SMS_GATEWAY_URL": hook.URL, "SMS_GATEWAY_TOKEN": "t", "NTFY_URL": hook.URL, "NTFY_TOKEN": "tk_x",
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cfg := globalBlock.ReplaceAllString(string(raw), "") // the tests bring their own globals
			cfg = strings.ReplaceAll(cfg, "{$SMSGATE_DATA:./smsgate-data}", "{DIR}")
			cfg = strings.ReplaceAll(cfg, "./smsgate-data", "{DIR}")
			cfg = strings.NewReplacer("localhost:8080", "localhost:{HTTP_PORT}", "127.0.0.1:8080", "127.0.0.1:{HTTP_PORT}", "[::1]:8080", "[::1]:{HTTP_PORT}").Replace(cfg)
			cfg = strings.ReplaceAll(cfg, sitetest.ExampleHash, sitetest.DemoBcrypt)
			switch filepath.Base(f) {
			case "redis.Caddyfile":
				env["REDIS_ADDR"] = redistest.Server(t)
			case "redis-sentinel.Caddyfile":
				env["REDIS_SENTINELS"] = strings.Join(redistest.StartSentinelToldOnly(t).Sentinels, " ")
				env["REDIS_MASTER"] = redistest.MasterName
			case "redis-cluster.Caddyfile":
				env["REDIS_CLUSTER"] = strings.Join(redistest.StartCluster(t), " ")
			}
			cfg = withEnv(cfg, env)
			if strings.HasPrefix(filepath.Base(f), "forward-auth") {
				cfg = strings.ReplaceAll(cfg, ":8080", ":{HTTP_PORT}")
				s := sitetest.StartWith(t, sitetest.TrustedProxies, cfg)
				signInThroughPortal(t, s, "grafana.sso.localhost", "/d/home")
				// A check that reaches the portal with a wrong Host is
				// refused by the catch-all site, never a default 200.
				for _, host := range []string{"127.0.0.1", "unknown.example"} {
					res := sitetest.NewClient(t, "").GetURL(absolute(s, host, "/.smsgate/auth?mode=status"))
					if res.StatusCode != http.StatusUnauthorized {
						t.Fatalf("forward-auth check with Host %s: %d, want 401", host, res.StatusCode)
					}
				}
				forwardAuthNeedsAUser(t, cfg)
				return
			}
			s := sitetest.Start(t, cfg)

			s.Advance(time.Minute)
			c := sitetest.NewClient(t, "demo")
			res, tok := sitetest.EnrollWith(t, c, "+14155552671")
			sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
			code := ""
			switch name := filepath.Base(f); {
			case strings.HasPrefix(name, "quickstart"), strings.HasPrefix(name, "redis"):
				code = s.LastCode()
			case strings.HasPrefix(name, "twilio-verify"):
				code = tw.VerifyCode("+14155552671")
			case strings.HasPrefix(name, "twilio"):
				code = fakes.CodeIn(tw.Last(t).Form["Body"])
			case strings.HasPrefix(name, "signal"):
				code = fakes.CodeIn(sig.Last(t).JSON["message"].(string))
			default:
				body := hook.Last(t).JSON
				text, _ := body["Body"].(string)
				if text == "" {
					text, _ = body["message"].(string)
				}
				code = fakes.CodeIn(text)
			}
			sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}), "/")
			res = c.Get("/")
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Text, "demo") {
				t.Fatalf("app: %d %s", res.StatusCode, res.Text)
			}
			if strings.HasPrefix(filepath.Base(f), "quickstart") {
				quickstartExtras(t, c, res)
			}
		})
	}
}

// withEnv puts env's values where a Caddyfile reads them from the
// environment: {$NAME}, {$NAME:default} (when the Caddyfile is read) and
// {env.NAME} (when the config is loaded).
func withEnv(cfg string, env map[string]string) string {
	for k, v := range env {
		cfg = regexp.MustCompile(`\{(\$`+k+`(:[^}]*)?|env\.`+k+`)\}`).ReplaceAllLiteralString(cfg, v)
	}
	return cfg
}

// globalBlock is a Caddyfile's global options block.
var globalBlock = regexp.MustCompile(`(?ms)^\{\n.*?^\}\n`)

// signInThroughPortal visits an app behind the portal, signs in as carol
// there, checks that the app greets her, and answers her browser.
func signInThroughPortal(t *testing.T, s *sitetest.Site, host, path string) *sitetest.Client {
	t.Helper()
	s.Advance(time.Minute)
	c := sitetest.NewClient(t, "")
	res := c.GetURL(absolute(s, host, path))
	if res.StatusCode != http.StatusFound {
		t.Fatalf("app without a session: %d %s", res.StatusCode, res.Text)
	}
	login := res.Header.Get("Location")
	page := c.GetURL(login)
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	portal := strings.Split(login, "/.smsgate/")[0]
	c.PostURL(portal+"/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	sitetest.Expect(t, c.PostURL(portal+"/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, absolute(s, host, path))
	if res = c.GetURL(absolute(s, host, path)); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, "carol") || strings.Contains(res.Text, "smsgate_session") {
		t.Fatalf("app with a session: %d %q", res.StatusCode, res.Text)
	}
	return c
}

// quickstartExtras checks what the quickstart shows a newcomer besides the
// sign-in: its demo page links to the devices page, which links demo, the
// admin, to the console (walkfix39: the README's quickstart never named
// admins, and nothing led a newcomer there), and the machine's address
// (127.0.0.1, ::1) answers with the way to localhost instead of Caddy's
// empty page.
func quickstartExtras(t *testing.T, c *sitetest.Client, demo *sitetest.Response) {
	t.Helper()
	sitetest.ExpectBody(t, demo, `<a href="/.smsgate/devices">Your devices</a>`)
	res := c.Get("/.smsgate/devices")
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the devices page the demo links to: %d", res.StatusCode)
	}
	if res.StatusCode == http.StatusOK && !strings.Contains(res.Text, `id="console"`) {
		t.Fatalf("the quickstart's devices page links no console:\n%s", res.Text)
	}
	if res := c.Get("/.smsgate/admin/"); res.StatusCode != http.StatusOK {
		t.Fatalf("the quickstart's console, for demo: %d", res.StatusCode)
	}
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		plain := harness.Browser(http.DefaultTransport) // caddytest's dialer knows only localhost
		res, err := plain.Get(c.WithPorts("http://" + host + ":{HTTP_PORT}/some/page?x=1"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if want := c.WithPorts("http://localhost:{HTTP_PORT}/some/page?x=1"); res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
			t.Fatalf("http://%s: %d to %q, want 302 to %s", host, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
}

// forwardAuthNeedsAUser serves the forward-auth example with its check
// answered by something else that says 200 and names no user (a wrong Host
// meeting a default page, a health endpoint): the app must refuse, on the
// example's own lines, not on its catch-all site's.
func forwardAuthNeedsAUser(t *testing.T, cfg string) {
	t.Helper()
	yes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(yes.Close)
	ask := "forward_auth localhost:{HTTP_PORT}"
	if !strings.Contains(cfg, ask) {
		t.Fatalf("the example no longer asks %q", ask)
	}
	cfg = strings.Replace(cfg, ask, "forward_auth "+yes.Listener.Addr().String(), 1)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, cfg)
	res := sitetest.NewClient(t, "").GetURL(absolute(s, "grafana.sso.localhost", "/d/home"))
	if res.StatusCode != http.StatusUnauthorized || strings.Contains(res.Text, "Hello") {
		t.Fatalf("an app whose check said 200 with no Remote-User: %d %q, want 401", res.StatusCode, res.Text)
	}
}
