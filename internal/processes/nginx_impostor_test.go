package processes

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestNginxChecksThePortalsCertificate: nginx, configured as in
// caddyfile-examples/nginx-auth-request.conf, asks the portal over HTTPS
// and lets the app be reached on any 2xx with a Remote-User. nginx checks
// no upstream's certificate unless told (proxy_ssl_verify is off by
// default), so whoever answered for auth.example.com on the way (a DNS
// answer, a machine on the network between the two) could say "200,
// Remote-User: admin" with any certificate, and nginx let every visitor in
// as admin (before: 200 "app user=admin"). An impostor with a
// certificate no trusted CA signed is refused; the real portal, over
// HTTPS with its certificate trusted (here Caddy's own CA's) and its name
// sent (SNI, which nginx does not send by default either), is asked.
func TestNginxChecksThePortalsCertificate(t *testing.T) {
	t.Parallel()
	nginx := nginxPath(t)
	app := remoteUserApp(t)
	browser := &http.Client{
		Transport:     harness.Loopback(nil),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	visit := func(nginxPort int) (int, string, string) {
		res, err := browser.Get(fmt.Sprintf("http://app.sso.localhost:%d/", nginxPort))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Location"), string(body)
	}

	t.Run("an impostor", func(t *testing.T) {
		impostor := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Remote-User", "admin")
		}))
		defer impostor.Close()
		_, port, _ := net.SplitHostPort(impostor.Listener.Addr().String())
		nginxPort, dir := harness.Port(t), t.TempDir()
		startNginxAt(t, dir, nginx, nginxPort, "https://localhost:"+port+"/", app.URL)
		if st, _, body := visit(nginxPort); st == http.StatusOK || strings.Contains(body, "app user") {
			t.Fatalf("an impostor of the portal let the visitor in: %d %q", st, body)
		}
		// Refused for its certificate, not for something else on the way
		// ("upstream SSL certificate verify error"; OpenSSL's own words,
		// "certificate verify failed", where nginx logs them).
		if b, _ := os.ReadFile(filepath.Join(dir, "error.log")); !strings.Contains(string(b), "certificate verify") {
			t.Fatalf("nginx refused the impostor for another reason:\n%s", b)
		}
	})

	t.Run("the portal", func(t *testing.T) {
		dir := t.TempDir()
		sock := listen(t)
		portal := fmt.Sprintf("https://localhost:%d", sock.Port)
		config, logFile := caddyfile(t, dir, "caddy", "admin off\n\tskip_install_trust\n\tauto_https disable_redirects\n\tservers {\n\t\tprotocols h1 h2\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}", fmt.Sprintf(`%s {
	tls internal
	smsgate {
		identity none
		user carol +14155552671
		portal_url %s
		store badger %s
		provider log
	}
	respond "portal"
}
`, portal, portal, filepath.Join(dir, "store")))
		startCaddy(t, sock, config, logFile, portal)
		root := filepath.Join(dir, "data", "caddy", "pki", "authorities", "local", "root.crt")
		awaitCertificate(t, sock.Port, root)
		nginxPort := harness.Port(t)
		startNginxAt(t, dir, nginx, nginxPort, portal+"/", app.URL, "/etc/ssl/certs/ca-certificates.crt", root)
		st, loc, body := visit(nginxPort)
		if b, _ := os.ReadFile(filepath.Join(dir, "error.log")); st != http.StatusFound {
			t.Logf("nginx's log:\n%s", b) // without SNI: "tlsv1 alert internal error"
		}
		if st != http.StatusFound || !strings.HasPrefix(loc, portal+"/.smsgate/login?rd=") {
			t.Fatalf("without a session, through nginx: %d %q %q; want 302 to the portal's login", st, loc, body)
		}
	})
}

// awaitCertificate waits until Caddy, at port, completes a handshake for
// localhost with a certificate its CA (root, once written) signed: it
// answers plain HTTP at once, and gets its certificate after it starts
// (under load, after nginx's first check).
func awaitCertificate(t *testing.T, port int, root string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		pool := x509.NewCertPool()
		pem, err := os.ReadFile(root)
		if err == nil && pool.AppendCertsFromPEM(pem) {
			var conn *tls.Conn
			conn, err = tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: "localhost", RootCAs: pool})
			if err == nil {
				conn.Close()
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the portal has no certificate its CA signed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
