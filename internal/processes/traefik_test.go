package processes

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// Traefik cannot be installed here, so this file does what Traefik does
// with caddyfile-examples/traefik-dynamic.yml, read from the file itself:
// its entry point's forwarded headers, its forwardAuth middleware (after
// pkg/middlewares/auth/forward.go, which v2 and v3 share in what matters
// here), and its routers' Host and PathPrefix rules. A real smsgate portal
// (a Caddy process) answers the checks.

// traefikDynamic is the part of a dynamic configuration the test reads.
type traefikDynamic struct {
	HTTP struct {
		Middlewares map[string]struct {
			ForwardAuth struct {
				Address             string   `yaml:"address"`
				TrustForwardHeader  bool     `yaml:"trustForwardHeader"`
				AuthResponseHeaders []string `yaml:"authResponseHeaders"`
				AuthRequestHeaders  []string `yaml:"authRequestHeaders"`
			} `yaml:"forwardAuth"`
		} `yaml:"middlewares"`
		Routers map[string]struct {
			Rule        string   `yaml:"rule"`
			Middlewares []string `yaml:"middlewares"`
		} `yaml:"routers"`
	} `yaml:"http"`
}

// forwardAuth is Traefik's forwardAuth middleware.
type forwardAuth struct {
	address                         string
	trust                           bool
	responseHeaders, requestHeaders []string
	client                          *http.Client
	next                            http.Handler
}

var hopHeaders = []string{"Connection", "Keep-Alive", "Te", "Trailers", "Transfer-Encoding", "Upgrade"}

func (fa *forwardAuth) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	fwd, err := http.NewRequestWithContext(req.Context(), http.MethodGet, fa.address, nil)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	// writeHeader: every header of the request but hop-by-hop ones (or
	// only authRequestHeaders), then the X-Forwarded-* it sets itself.
	for k, v := range req.Header {
		fwd.Header[k] = append([]string(nil), v...)
	}
	for _, h := range hopHeaders {
		fwd.Header.Del(h)
	}
	if len(fa.requestHeaders) > 0 {
		kept := http.Header{}
		for _, h := range fa.requestHeaders {
			if v := fwd.Header.Values(h); len(v) > 0 {
				kept[http.CanonicalHeaderKey(h)] = append([]string(nil), v...)
			}
		}
		fwd.Header = kept
	}
	if ip, _, err := net.SplitHostPort(req.RemoteAddr); err == nil {
		if prior, ok := req.Header["X-Forwarded-For"]; ok && fa.trust {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		fwd.Header.Set("X-Forwarded-For", ip)
	}
	set := func(name, own string) {
		if v := req.Header.Get(name); v != "" && fa.trust {
			fwd.Header.Set(name, v)
		} else if own != "" {
			fwd.Header.Set(name, own)
		} else {
			fwd.Header.Del(name)
		}
	}
	proto := "http"
	if req.TLS != nil {
		proto = "https"
	}
	set("X-Forwarded-Method", req.Method)
	set("X-Forwarded-Proto", proto)
	set("X-Forwarded-Host", req.Host)
	set("X-Forwarded-Uri", req.URL.RequestURI())
	res, err := fa.client.Do(fwd)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode >= 300 {
		for k, v := range res.Header {
			w.Header()[k] = append([]string(nil), v...)
		}
		for _, h := range hopHeaders {
			w.Header().Del(h)
		}
		if loc, err := res.Location(); err == nil && loc.String() != "" {
			w.Header().Set("Location", loc.String())
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(body)
		return
	}
	// A 2xx: each header named in authResponseHeaders is taken off the
	// request, then copied from the answer if the answer has it.
	for _, name := range fa.responseHeaders {
		key := http.CanonicalHeaderKey(name)
		req.Header.Del(key)
		if v := res.Header[key]; len(v) > 0 {
			req.Header[key] = append([]string(nil), v...)
		}
	}
	fa.next.ServeHTTP(w, req)
}

// traefik routes by the example's rules to app through its middlewares,
// with the entry point's default forwarded headers (a client's own
// X-Forwarded-* are not trusted; Traefik sets its own).
func traefik(t *testing.T, dyn traefikDynamic, appHost string, app http.Handler) http.Handler {
	client := &http.Client{Timeout: 30 * time.Second, Transport: harness.Loopback(nil),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	chains := map[string]http.Handler{}
	prefixes := map[string]string{}
	for name, r := range dyn.HTTP.Routers {
		var h http.Handler = app
		for i := len(r.Middlewares) - 1; i >= 0; i-- {
			m, ok := dyn.HTTP.Middlewares[r.Middlewares[i]]
			if !ok {
				t.Fatalf("router %s names middleware %s, which the file lacks", name, r.Middlewares[i])
			}
			fa := m.ForwardAuth
			h = &forwardAuth{address: fa.Address, trust: fa.TrustForwardHeader, responseHeaders: fa.AuthResponseHeaders,
				requestHeaders: fa.AuthRequestHeaders, client: client, next: h}
		}
		chains[name] = h
		if m := regexp.MustCompile("PathPrefix\\(`([^`]+)`\\)").FindStringSubmatch(r.Rule); m != nil {
			prefixes[name] = m[1]
		}
		if !strings.Contains(r.Rule, "Host(`"+appHost+"`)") {
			t.Fatalf("router %s: rule %q is not for %s", name, r.Rule, appHost)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name := range r.Header {
			if strings.HasPrefix(name, "X-Forwarded-") || name == "X-Real-Ip" {
				r.Header.Del(name)
			}
		}
		ip, port, _ := net.SplitHostPort(r.RemoteAddr)
		r.Header.Set("X-Forwarded-For", ip)
		r.Header.Set("X-Real-Ip", ip)
		r.Header.Set("X-Forwarded-Proto", "http")
		r.Header.Set("X-Forwarded-Host", r.Host)
		r.Header.Set("X-Forwarded-Port", port)
		best, bestLen := "", -1
		for name := range chains {
			if p := prefixes[name]; strings.HasPrefix(r.URL.Path, p) && len(p) > bestLen {
				best, bestLen = name, len(p)
			}
		}
		chains[best].ServeHTTP(w, r)
	})
}

// TestTraefikExample runs the example's middlewares in front of an app,
// asking a real portal: the browser is sent to sign in, then the app gets
// the gate's Remote-User and the browser's own cookies — never the session
// cookie, never a client's own Remote-User — and a check that reaches
// anything but the gate fails closed or hands the app no identity and no
// cookies.
func TestTraefikExample(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	raw, err := os.ReadFile("../../caddyfile-examples/traefik-dynamic.yml")
	if err != nil {
		t.Fatal(err)
	}
	sock, frontSock := listen(t), listen(t)
	portalPort, traefikPort := sock.Port, frontSock.Port
	portal := fmt.Sprintf("http://auth.sso.localhost:%d", portalPort)
	appHost := fmt.Sprintf("grafana.sso.localhost:%d", traefikPort)
	load := func(address string) traefikDynamic {
		var dyn traefikDynamic
		text := strings.NewReplacer("https://auth.example.com", address, "grafana.example.com", appHost).Replace(string(raw))
		if err := yaml.Unmarshal([]byte(text), &dyn); err != nil {
			t.Fatal(err)
		}
		return dyn
	}

	config, logFile := caddyfile(t, dir, "caddy", "admin off\n\tservers {\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}", fmt.Sprintf(`http://auth.sso.localhost:%[1]d {
	smsgate {
		identity none
		user carol +14155552671
		realm sso.localhost
		cookie_domain sso.localhost
		portal_url %[2]s
		redirect_hosts *.sso.localhost:*
		store badger %[3]s
		provider log
	}
	respond "portal"
}
http://:%[1]d {
	respond /health 200
	respond "401 Unauthorized: no such site" 401
}
`, portalPort, portal, filepath.Join(dir, "store")))
	s := startCaddy(t, sock, config, logFile, fmt.Sprintf("http://127.0.0.1:%d", portalPort))

	// What reached the app, request by request.
	seen := make(chan http.Header, 10)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		fmt.Fprintf(w, "app user=%s", r.Header.Get("Remote-User"))
	})
	upstream := httptest.NewServer(app)
	defer upstream.Close()
	target, _ := url.Parse(upstream.URL)
	var front http.Handler
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { front.ServeHTTP(w, r) })}
	ln, err := net.FileListener(frontSock.File())
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	front = traefik(t, load(portal), appHost, httputil.NewSingleHostReverseProxy(target))

	b := newBrowser(t, "")
	b.c.Transport = harness.Loopback(nil)
	appURL := "http://" + appHost
	get := func(path string, header http.Header) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, appURL+path, nil)
		req.Header.Set("Accept", "text/html")
		for k, v := range header {
			req.Header[k] = v
		}
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(body)
	}
	noApp := func(what string) {
		t.Helper()
		select {
		case h := <-seen:
			t.Fatalf("%s reached the app: %v", what, h)
		default:
		}
	}

	// No session: to the portal's login, back to where the browser was going.
	res, _ := get("/dash?id=7", http.Header{"Remote-User": {"carol"}})
	if want := portal + "/.smsgate/login?rd=" + url.QueryEscape(appURL+"/dash?id=7"); res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
		t.Fatalf("without a session (and a forged Remote-User): %d %q, want 302 %s", res.StatusCode, res.Header.Get("Location"), want)
	}
	noApp("a request without a session")

	// Sign in at the portal.
	_, _, page := b.do("GET", res.Header.Get("Location"), nil)
	csrf := csrfField.FindStringSubmatch(page)[1]
	b.do("POST", portal+"/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {csrf}})
	if st, loc, _ := b.do("POST", portal+"/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {csrf}}); st != http.StatusSeeOther || loc != appURL+"/dash?id=7" {
		t.Fatalf("verify: %d %s", st, loc)
	}
	b.c.Jar.SetCookies(&url.URL{Scheme: "http", Host: appHost}, []*http.Cookie{{Name: "app_pref", Value: "dark", Path: "/"}})

	// Signed in: the gate's Remote-User, and the app's own cookies only.
	for _, path := range []string{"/dash?id=7", "/admin/users"} {
		res, body := get(path, http.Header{"Remote-User": {"admin"}})
		if res.StatusCode != http.StatusOK || body != "app user=carol" {
			t.Fatalf("GET %s signed in (with a forged Remote-User): %d %q", path, res.StatusCode, body)
		}
		h := <-seen
		if h.Values("Remote-User")[0] != "carol" || len(h.Values("Remote-User")) != 1 || h.Get("Cookie") != "app_pref=dark" {
			t.Fatalf("GET %s: the app got Remote-User %q, Cookie %q", path, h.Values("Remote-User"), h.Get("Cookie"))
		}
	}

	// A check that reaches the portal's Caddy under a wrong name: its
	// catch-all answers 401, and Traefik stops there.
	front = traefik(t, load(fmt.Sprintf("http://auth.sso.localhots:%d", portalPort)), appHost, httputil.NewSingleHostReverseProxy(target))
	if res, body := get("/dash", nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a check under a wrong host name: %d %q", res.StatusCode, body)
	}
	noApp("a check under a wrong host name")

	// A check that reaches something that is no gate and says 200: the app
	// gets neither an identity nor the session cookie, only nothing.
	anything := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer anything.Close()
	front = traefik(t, load(anything.URL), appHost, httputil.NewSingleHostReverseProxy(target))
	if res, body := get("/dash", http.Header{"Remote-User": {"carol"}}); res.StatusCode != http.StatusOK || body != "app user=" {
		t.Fatalf("a 2xx from no gate: %d %q", res.StatusCode, body)
	}
	if h := <-seen; h.Get("Remote-User") != "" || h.Get("Cookie") != "" {
		t.Fatalf("after a 2xx from no gate the app got Remote-User %q, Cookie %q", h.Get("Remote-User"), h.Get("Cookie"))
	}
}
