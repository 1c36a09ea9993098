package processes

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestNginxServesOnlyItsHost: nginx, configured as in
// caddyfile-examples/nginx-auth-request.conf, hands a request naming a host
// it has no server for to its port's default server. With the app's server
// the only one, that was the app's, and a client chose the host the check
// saw in X-Original-URL (where the login returns, which host an assertion
// names). The example's default server closes such a request unanswered:
// neither the check nor the app is asked, even by a portal that would say
// yes to anyone. The app's own name is matched in any case, and the check
// sees it in lower case.
func TestNginxServesOnlyItsHost(t *testing.T) {
	t.Parallel()
	nginx := nginxPath(t)
	var checks, visits atomic.Int32
	seen := make(chan string, 1)
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checks.Add(1)
		select {
		case seen <- r.Header.Get("X-Original-URL"):
		default:
		}
		w.Header().Set("Remote-User", "carol")
	}))
	defer portal.Close()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		visits.Add(1)
		fmt.Fprintf(w, "app user=%s", r.Header.Get("Remote-User"))
	}))
	defer app.Close()
	nginxPort := harness.Port(t)
	startNginxAt(t, t.TempDir(), nginx, nginxPort, portal.URL+"/", app.URL)

	ask := func(request string) string {
		t.Helper()
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", nginxPort))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(conn, request); err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(conn)
		return string(got)
	}

	// The app's name, as a browser may write it.
	got := ask(fmt.Sprintf("GET /x?y=1 HTTP/1.1\r\nHost: App.SSO.localhost:%d\r\nConnection: close\r\n\r\n", nginxPort))
	if checks.Load() != 1 || visits.Load() != 1 || !strings.HasPrefix(got, "HTTP/1.1 200 ") || !strings.HasSuffix(got, "app user=carol") {
		t.Fatalf("the app's own host: checks %d, visits %d, %q", checks.Load(), visits.Load(), got)
	}
	if url, want := <-seen, fmt.Sprintf("http://app.sso.localhost:%d/x?y=1", nginxPort); url != want {
		t.Errorf("the check saw X-Original-URL %q, want %q", url, want)
	}

	for name, request := range map[string]string{
		"another host":                   "GET / HTTP/1.1\r\nHost: other.sso.localhost\r\nConnection: close\r\n\r\n",
		"another host with the port":     fmt.Sprintf("GET / HTTP/1.1\r\nHost: evil.example:%d\r\nConnection: close\r\n\r\n", nginxPort),
		"the address":                    fmt.Sprintf("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", nginxPort),
		"a name ending like the app's":   "GET / HTTP/1.1\r\nHost: xapp.sso.localhost\r\nConnection: close\r\n\r\n",
		"an absolute URI naming another": "GET http://other.sso.localhost/ HTTP/1.1\r\nHost: app.sso.localhost\r\nConnection: close\r\n\r\n",
		"no Host":                        "GET / HTTP/1.0\r\n\r\n",
	} {
		if got := ask(request); got != "" {
			t.Errorf("%s: nginx answered %q; want the connection closed unanswered (444)", name, got)
		}
	}
	if checks.Load() != 1 || visits.Load() != 1 {
		t.Fatalf("a request naming a host the example does not serve reached the check %d and the app %d times", checks.Load()-1, visits.Load()-1)
	}
}
