package processes

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestNginxAuthRequest puts a real nginx, configured as in
// caddyfile-examples/nginx-auth-request.conf, in front of an app, asking a
// real smsgate portal with auth_request.
func TestNginxAuthRequest(t *testing.T) {
	t.Parallel()
	nginx := nginxPath(t)
	dir := t.TempDir()

	// The app: it shows what reached it.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "app user=%s cookie=[%s]", r.Header.Get("Remote-User"), r.Header.Get("Cookie"))
	}))
	defer app.Close()

	// The portal.
	sock, nginxPort := listen(t), harness.Port(t)
	portalPort := sock.Port
	portal := fmt.Sprintf("http://auth.sso.localhost:%d", portalPort)
	config, logFile := caddyfile(t, dir, "caddy", "admin off\n\tservers {\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}", fmt.Sprintf(`http://:%d {
	respond /health 200
	smsgate {
		identity none
		user carol +14155552671
		realm sso.localhost
		cookie_domain sso.localhost
		portal_url %s
		redirect_hosts *.sso.localhost:*
		store badger %s
		provider log
	}
	respond "portal"
}
`, portalPort, portal, filepath.Join(dir, "store")))
	s := startCaddy(t, sock, config, logFile, fmt.Sprintf("http://127.0.0.1:%d", portalPort))

	// nginx, with the example's server block pointed at these ports.
	startNginx(t, dir, nginx, nginxPort, portalPort, app.URL)

	// A browser that finds every *.sso.localhost name on this machine.
	b := newBrowser(t, "")
	b.c.Transport = harness.Loopback(nil)
	appURL := fmt.Sprintf("http://app.sso.localhost:%d", nginxPort)
	st, loc, _ := b.do("GET", appURL+"/reports?id=7&x=1", nil)
	wantLogin := portal + "/.smsgate/login?rd=" + url.QueryEscape(appURL+"/reports?id=7&x=1")
	if st != http.StatusFound || loc != wantLogin {
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		t.Fatalf("without a session: %d %s, want 302 %s\n%s", st, loc, wantLogin, log)
	}

	// Sign in at the portal and return to the app through nginx.
	b.base = ""
	_, _, page := b.do("GET", loc, nil)
	csrf := csrfField.FindStringSubmatch(page)[1]
	b.do("POST", portal+"/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {csrf}})
	st, loc, _ = b.do("POST", portal+"/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {csrf}})
	if st != http.StatusSeeOther || loc != appURL+"/reports?id=7&x=1" {
		t.Fatalf("verify: %d %s", st, loc)
	}
	st, _, body := b.do("GET", appURL+"/reports?id=7&x=1", nil)
	if st != http.StatusOK || !strings.HasPrefix(body, "app user=carol cookie=[") || strings.Contains(body, "smsgate_session") {
		t.Fatalf("with a session: %d %q", st, body)
	}
	// The app's own cookies pass, without a stray separator, wherever the
	// session cookie stood among them.
	session := ""
	for _, c := range b.c.Jar.Cookies(&url.URL{Scheme: "http", Host: "app.sso.localhost"}) {
		if c.Name == "smsgate_session" {
			session = c.Value
		}
	}
	for header, want := range map[string]string{
		"smsgate_session=" + session + "; other=keep":                     "other=keep",
		"a=1; smsgate_session=" + session + "; b=2":                       "a=1; b=2",
		"a=1; smsgate_session=" + session:                                 "a=1",
		"smsgate_session=" + session + ";other=keep;  x=y":                "other=keep; x=y",
		"xsmsgate_session=1; smsgate_session=" + session:                  "xsmsgate_session=1",
		"smsgate_session=" + session + "; smsgate_session_0123456789ab=2": "",                    // a realm of its own's name
		"smsgate_session=" + session + "; smsgate_session_x=2":            "smsgate_session_x=2", // the app's own
		"a=1; smsgate_known=k; smsgate_session=" + session:                "a=1",
		"smsgate_known=k; b=2; smsgate_session=" + session:                "b=2",
		// The names they have over HTTPS (here, with cookie_domain).
		"a=1; __Secure-smsgate_session=" + session + "; b=2":                 "a=1; b=2",
		"__Secure-smsgate_known=k; b=2; __Secure-smsgate_session=" + session: "b=2",
		// Both names at once (an old instance's cookie beside an upgraded
		// one's in a rolling upgrade), and one planted beside them.
		"a=1; __Secure-smsgate_session=" + session + "; smsgate_session=" + session + "; b=2":                    "a=1; b=2",
		"smsgate_session=x; __Secure-smsgate_known=k; smsgate_known=k; b=2; __Secure-smsgate_session=" + session: "b=2",
		"__Secure-smsgate_session=" + session + "; __Host-smsgate_session=x; smsgate_session=y":                  "",
	} {
		req, _ := http.NewRequest("GET", appURL+"/", nil)
		req.Header.Set("Cookie", header)
		res, err := (&http.Client{Transport: b.c.Transport}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(got) != "app user=carol cookie=["+want+"]" {
			t.Errorf("Cookie: %.40s…: the app got %q, want cookie=[%s]", header, got, want)
		}
	}

	// A client's own Remote-User is not what reaches the app.
	anon := newBrowser(t, "")
	anon.c.Transport = b.c.Transport
	req, _ := http.NewRequest("GET", appURL+"/", nil)
	req.Header.Set("Remote-User", "carol")
	res, err := anon.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("a forged Remote-User: %d", res.StatusCode)
	}
}

// TestNginxFailsClosedOnAWrongHost: the example's auth request goes to an
// IP without the portal's Host, so it never reaches the gate; Caddy
// answers it with an empty 200 (it has no site for that host). nginx must
// not take that for a yes: only a 2xx with the gate's Remote-User is one.
func TestNginxFailsClosedOnAWrongHost(t *testing.T) {
	t.Parallel()
	nginx := nginxPath(t)
	dir := t.TempDir()
	app := remoteUserApp(t)
	sock, nginxPort := listen(t), harness.Port(t)
	portalPort := sock.Port
	config, logFile := caddyfile(t, dir, "caddy", "admin off", fmt.Sprintf(`http://127.0.0.1:%[1]d {
	respond /health 200
}
http://auth.sso.localhost:%[1]d {
	smsgate {
		identity none
		user carol +14155552671
		store badger %[2]s
		provider log
	}
	respond "portal"
}
`, portalPort, filepath.Join(dir, "store")))
	startCaddy(t, sock, config, logFile, fmt.Sprintf("http://127.0.0.1:%d", portalPort))
	// The check itself, as nginx sends it: Caddy's answer is an empty 200.
	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/.smsgate/auth?mode=status", portalPort))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Remote-User") != "" {
		t.Fatalf("the misdirected check: %d %v; want the empty 200 this test is about", res.StatusCode, res.Header)
	}
	startNginx(t, dir, nginx, nginxPort, portalPort, app.URL)
	client := &http.Client{Transport: harness.Loopback(nil)}
	for _, path := range []string{"/", "/admin", "/.smsgate/auth"} {
		res, err := client.Get(fmt.Sprintf("http://app.sso.localhost:%d%s", nginxPort, path))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "app user") {
			t.Fatalf("GET %s through nginx, the check misdirected: %d %q; want 401 and no app", path, res.StatusCode, body)
		}
	}
}

// TestNginxWrongHostMeetsACatchAll: the portal's Caddy answers unknown
// hosts with a catch-all 401 (as forward-auth.Caddyfile does). A check sent
// with the wrong Host gets that 401, which carries no login address: nginx
// must answer 401 too, never a redirect to an empty Location (a loop).
func TestNginxWrongHostMeetsACatchAll(t *testing.T) {
	t.Parallel()
	nginx := nginxPath(t)
	dir := t.TempDir()
	app := remoteUserApp(t)
	sock, nginxPort := listen(t), harness.Port(t)
	portalPort := sock.Port
	config, logFile := caddyfile(t, dir, "caddy", "admin off", fmt.Sprintf(`http://auth.sso.localhost:%[1]d {
	smsgate {
		identity none
		user carol +14155552671
		store badger %[2]s
		provider log
	}
	respond "portal"
}
http://:%[1]d {
	respond /health 200
	respond "401 Unauthorized: no such site" 401
}
`, portalPort, filepath.Join(dir, "store")))
	startCaddy(t, sock, config, logFile, fmt.Sprintf("http://127.0.0.1:%d", portalPort))
	startNginx(t, dir, nginx, nginxPort, portalPort, app.URL)
	client := &http.Client{Transport: harness.Loopback(nil), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://app.sso.localhost:%d/reports", nginxPort), nil)
	req.Header.Set("Accept", "text/html")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("Location") != "" || strings.Contains(string(body), "app user") {
		t.Fatalf("a browser through nginx, the check hitting the catch-all: %d Location %q %q; want 401", res.StatusCode, res.Header.Get("Location"), body)
	}
}

// nginxPath finds nginx, which CI installs.
func nginxPath(t *testing.T) string {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx, err = exec.LookPath("/usr/sbin/nginx") // not on every PATH
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("nginx is not installed; .ci/run installs it")
		}
		t.Skip("nginx is not installed (apt-get install nginx-light)")
	}
	return nginx
}

// startNginx runs nginx with the example's server block, listening on
// nginxPort, asking the portal on portalPort by IP (no Host header set)
// and proxying to app. It stops nginx gracefully when the test ends, and
// waits for it: a SIGKILLed master leaves its worker listening.
func startNginx(t *testing.T, dir, nginx string, nginxPort, portalPort int, app string) {
	t.Helper()
	startNginxAt(t, dir, nginx, nginxPort, fmt.Sprintf("http://127.0.0.1:%d/", portalPort), app)
}

// startNginxAt is startNginx asking the portal at portal (the example's
// https://auth.example.com/), with more of the example replaced (old, new
// pairs).
func startNginxAt(t *testing.T, dir, nginx string, nginxPort int, portal, app string, replace ...string) {
	t.Helper()
	example, err := os.ReadFile("../../caddyfile-examples/nginx-auth-request.conf")
	if err != nil {
		t.Fatal(err)
	}
	block := strings.NewReplacer(
		"listen 443 ssl;", fmt.Sprintf("listen 127.0.0.1:%d;", nginxPort),
		"listen 443 ssl default_server;", fmt.Sprintf("listen 127.0.0.1:%d default_server;", nginxPort),
		// Not on the scheme's default port: name it, as the example says.
		"X-Original-URL $scheme://$host$request_uri;", "X-Original-URL $scheme://$host:$server_port$request_uri;",
		"server_name app3.example.com;", "server_name app.sso.localhost;",
		"http://127.0.0.1:3000", app,
		"https://auth.example.com/", portal,
	).Replace(strings.NewReplacer(replace...).Replace(string(example)))
	conf := filepath.Join(dir, "nginx.conf")
	err = os.WriteFile(conf, fmt.Appendf(nil, `daemon off;
master_process on;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events {}
http {
	access_log off;
	root %[1]s/html;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, block), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	out, _ := os.Create(filepath.Join(dir, "nginx.out"))
	cmd.Stdout, cmd.Stderr = out, out
	// SIGTERM when the test binary dies too: a SIGKILLed master leaves its
	// worker listening.
	if err := harness.Start(cmd, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// SIGTERM: nginx's master stops its workers, then itself.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Error("nginx did not stop within 10s of SIGTERM")
		}
	})
	for i := 0; ; i++ {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", nginxPort))
		if err == nil {
			conn.Close()
			return
		}
		if i == 50 {
			log, _ := os.ReadFile(filepath.Join(dir, "nginx.out"))
			t.Fatalf("nginx did not start: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestNginxSendsALongAddressToTheLogin: the check's 401 names the login in
// X-Smsgate-Login, the return address escaped in it, and nginx reads an
// upstream's header section into one page (proxy_buffer_size, 4 KiB): an
// app address of 1,900 characters with escapes in its query (as a
// dashboard's state is), under the 2,048 the login takes, made the header
// "too big" and answered 500, not the login (attack14, low). The return
// address is the page without its query where the whole is too long.
func TestNginxSendsALongAddressToTheLogin(t *testing.T) {
	t.Parallel()
	nginx := nginxPath(t)
	dir := t.TempDir()
	app := remoteUserApp(t)
	sock, nginxPort := listen(t), harness.Port(t)
	portalPort := sock.Port
	portal := fmt.Sprintf("http://auth.sso.localhost:%d", portalPort)
	config, logFile := caddyfile(t, dir, "caddy", "admin off\n\tservers {\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}", fmt.Sprintf(`http://:%d {
	smsgate {
		identity none
		user carol +14155552671
		realm sso.localhost
		portal_url %s
		redirect_hosts *.sso.localhost:*
		store badger %s
		provider log
	}
	respond "portal"
}
`, portalPort, portal, filepath.Join(dir, "store")))
	startCaddy(t, sock, config, logFile, fmt.Sprintf("http://127.0.0.1:%d", portalPort))
	startNginx(t, dir, nginx, nginxPort, portalPort, app.URL)
	client := &http.Client{Transport: harness.Loopback(nil), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	appURL := fmt.Sprintf("http://app.sso.localhost:%d", nginxPort)
	for path, rd := range map[string]string{
		"/d/x?" + strings.Repeat("a=%2F/&", 270): appURL + "/d/x", // 1,895 characters: 500 before
		"/d/x?" + strings.Repeat("a=%2F/&", 100): appURL + "/d/x?" + strings.Repeat("a=%2F/&", 100),
		"/" + strings.Repeat("%2F", 1100):        "",
		"/" + strings.Repeat("a%2F", 459):        appURL + "/" + strings.Repeat("a%2F", 459), // 2,795 escaped (a port of 5 digits)
	} {
		req, _ := http.NewRequest("GET", appURL+path, nil)
		req.Header.Set("Accept", "text/html")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		want := portal + "/.smsgate/login"
		if rd != "" {
			want += "?rd=" + url.QueryEscape(rd)
		}
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
			t.Errorf("GET %.40s… (%d characters) through nginx: %d %.120s, want 302 %.120s", path, len(path), res.StatusCode, res.Header.Get("Location"), want)
		}
	}
}

// remoteUserApp is an app behind the gate that answers with the
// Remote-User its proxy passed, closed when t ends.
func remoteUserApp(t *testing.T) *httptest.Server {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "app user=%s", r.Header.Get("Remote-User"))
	}))
	t.Cleanup(app.Close)
	return app
}
