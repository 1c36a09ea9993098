package caddymodule_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// appOnEveryAddress starts an app bound as apps often are, to every
// address (0.0.0.0, on a port the kernel picks, held until the test
// ends), answering with the Remote-User it was sent; its port.
func appOnEveryAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "the app's page for [%s]", r.Header.Get("Remote-User"))
	}))
	app.Listener.Close() // its own, on 127.0.0.1
	app.Listener = l
	app.Start()
	t.Cleanup(app.Close)
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// answers says that the app at port answers at host (a name: this
// machine's own, looked up as Caddy would dial it).
func answers(host, port string) bool {
	res, err := http.Get("http://" + net.JoinHostPort(host, port) + "/")
	if err != nil {
		return false
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return string(body) == "the app's page for []"
}

// ownAddress is one of the machine's own addresses that is not a
// loopback one (an interface's: net.InterfaceAddrs), or "".
func ownAddress(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// TestAnErrorRouteToTheAppByAnotherLocalAddressIsRefused: an app bound to
// 0.0.0.0 (or [::], or a port Docker publishes) answers on every address
// of the machine: any of 127.0.0.0/8 (all loopback on Linux) and each
// interface's own. The check of handle_errors took localhost, 127.0.0.1,
// ::1 and 0.0.0.0 for one host and every other address for another, so
// `handle_errors { reverse_proxy 127.0.0.2:3000 }` (or the machine's own
// 192.168.1.10:3000) beside `reverse_proxy localhost:3000` loaded and
// served every refused request from the app (at 075d127: 200 "the app's
// page for [admin]"). Caddy cannot know what the app's socket accepts, so
// every loopback address and the machine's own ones on the app's port
// count as the app now; another port, or codes the gate never answers
// with, load.
func TestAnErrorRouteToTheAppByAnotherLocalAddressIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	port := appOnEveryAddress(t)
	own := ownAddress(t)
	// The premise, on this machine: the app bound to 0.0.0.0 answers on
	// another loopback address and on the machine's own.
	for _, host := range []string{"127.0.0.2", "127.1.2.3", own} {
		if host == "" {
			continue // a machine with no address but loopback
		}
		res, err := http.Get("http://" + net.JoinHostPort(host, port) + "/")
		if err != nil {
			t.Fatalf("the app bound to 0.0.0.0:%s on %s: %v", port, host, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != "the app's page for []" {
			t.Fatalf("the app bound to 0.0.0.0:%s on %s: %q", port, host, body)
		}
	}
	site := func(app, codes, errors string) string {
		return strings.ReplaceAll(strings.NewReplacer("APP", app, "CODES", codes, "ERRORS", errors).Replace(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	reverse_proxy APP
	handle_errors CODES {
		reverse_proxy ERRORS
	}
}`), "NNNN", port)
	}
	cases := [][2]string{
		{"localhost:NNNN", "127.0.0.2:NNNN"},
		{"127.0.0.1:NNNN", "127.1.2.3:NNNN"},
		{"[::1]:NNNN", "http://127.0.0.2:NNNN"},
		{"localhost:NNNN", "[::ffff:127.0.0.2]:NNNN"},
	}
	if own != "" {
		cases = append(cases, [2]string{"localhost:NNNN", net.JoinHostPort(own, "NNNN")},
			[2]string{net.JoinHostPort(own, "NNNN"), "127.0.0.1:NNNN"})
	}
	// The machine's own host name (its /etc/hosts maps it to itself) and
	// localhost's other names: at 6c5275d, each loaded and served the
	// refused requests from the app.
	if name, _ := os.Hostname(); name != "" && answers(name, port) {
		cases = append(cases, [2]string{"localhost:NNNN", net.JoinHostPort(name, "NNNN")},
			[2]string{"http://" + net.JoinHostPort(name, "NNNN"), "127.0.0.1:NNNN"})
	}
	for _, c := range cases {
		up := strings.ReplaceAll(c[1], "NNNN", port)
		sitetest.AssertLoadError(t, site(c[0], "", c[1]), "Caddyfile:11",
			"handle_errors hands the gate's refusals (401) to "+up+", the app smsgate protects")
	}
	// A sound config refused (an error-page service on 127.0.0.2 at the
	// port of an app bound to 127.0.0.1 only may be one): the refusal
	// says why that address is the app, and what to do.
	sitetest.AssertLoadError(t, site("localhost:NNNN", "", "127.0.0.2:NNNN"), "Caddyfile:11",
		"(127.0.0.2 is this machine, and an app bound to every address, 0.0.0.0 or [::], answers there on its port: Caddy cannot tell whether the app's socket does, so an error-page service on this machine needs a port of its own)")
	// And where it is the app's address that names the machine otherwise
	// (before: nothing said why 127.0.0.1 is the app at 127.0.0.2).
	sitetest.AssertLoadError(t, site("127.0.0.2:NNNN", "", "127.0.0.1:NNNN"), "Caddyfile:11",
		"(127.0.0.2, where the site has the app, is this machine, and an app bound to every address, 0.0.0.0 or [::], answers on each of its addresses on its port")
	// An error-page service on another port of a loopback address.
	errorPages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("an error page"))
	}))
	t.Cleanup(errorPages.Close)
	for name, cfg := range map[string]string{
		"other codes":      site("localhost:NNNN", "502", "127.0.0.2:NNNN"),
		"an error service": site("localhost:NNNN", "", errorPages.Listener.Addr().String()),
	} {
		t.Run(name, func(t *testing.T) {
			sitetest.Start(t, cfg)
			c := sitetest.NewClient(t, "")
			c.Accept = "application/json"
			if res := c.GetWith("/private", map[string]string{"Remote-User": "admin"}); res.StatusCode != http.StatusUnauthorized || strings.Contains(res.Text, "app's page") {
				t.Fatalf("%d %s", res.StatusCode, res.Text)
			}
		})
	}
}
