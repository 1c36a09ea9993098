package caddymodule_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAClientCertificateIdentityNeedsAVerifiedCertificate (close19 Left 5):
// an identity read from a TLS client certificate's field is as good as the
// certificate's check, and Caddy's client_auth modes `request` and
// `require` take any certificate a client presents, its chain not
// verified: a self-signed one naming alice was alice (before: loaded). Such
// a config is refused at load: a Caddyfile at its `mode` line (at
// client_auth's where Caddy's default is `require`: no trust pool), any
// config when the smsgate app starts (JSON: a server's TLS connection
// policy). `require_and_verify` and `verify_if_given` (a client without a
// certificate has an empty identity, which signs nobody in) load.
func TestAClientCertificateIdentityNeedsAVerifiedCertificate(t *testing.T) {
	sitetest.Parallel(t)
	ca := writeCA(t)
	site := func(clientAuth string) string {
		return "{\n\tadmin localhost:{ADMIN_PORT}\n\tskip_install_trust\n\thttps_port {HTTPS_PORT}\n}\nhttps://localhost:{HTTPS_PORT} {\n\ttls " + ca.cert + " " + ca.key + " {\n\t\tclient_auth {\n" + clientAuth +
			"\t\t}\n\t}\n\tsmsgate {\n\t\tidentity {http.request.tls.client.subject}\n\t\tenrollment open\n\t\tstore badger {DIR}\n\t\tprovider log\n\t}\n\trespond \"hi {smsgate.user}\"\n}\n"
	}
	for _, tc := range []struct {
		name, clientAuth, mode string
		line                   int
	}{
		{"request", "\t\t\tmode request\n", "request", 9},
		{"require", "\t\t\ttrust_pool file " + ca.pem + "\n\t\t\tmode require\n", "require", 10},
		{"the default without a trust pool", "\t\t\tverifier leaf file " + ca.pem + "\n", "require", 8},
	} {
		t.Run("caddyfile "+tc.name, func(t *testing.T) {
			sitetest.AssertLoadError(t, site(tc.clientAuth), "client_auth mode "+tc.mode+" takes a client certificate without verifying it", "Caddyfile:"+strconv.Itoa(tc.line))
		})
	}
	jsonConfig := func(clientAuth string) string {
		return `{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "https_port": {HTTPS_PORT}, "servers": {"s": {"listen": [":{HTTPS_PORT}"],
	"tls_connection_policies": [{"client_authentication": ` + clientAuth + `}],
	"routes": [{"handle": [{"handler": "smsgate", "realm": "localhost", "identity": "{http.request.tls.client.subject}", "enrollment": "open", "store": {"module": "badger", "path": "` + t.TempDir() + `"}, "providers": [{"provider": "log"}]}]}]}}}}}`
	}
	inline := `{"provider": "inline", "trusted_ca_certs": ["` + ca.der + `"]}`
	for _, tc := range []struct{ name, clientAuth, mode string }{
		{"request", `{"mode": "request", "ca": ` + inline + `}`, "client_auth mode request"},
		{"require", `{"mode": "require"}`, "client_auth mode require"},
		{"the default without a trust pool", `{"verifiers": [{"verifier": "leaf", "leaf_certs_loaders": [{"loader": "file", "files": ["` + ca.pem + `"]}]}]}`, "client_auth mode require (Caddy's default without a trust pool)"},
	} {
		t.Run("json "+tc.name, func(t *testing.T) {
			sitetest.AssertJSONLoadError(t, jsonConfig(tc.clientAuth), "server s: TLS connection policy 0 takes client certificates without verifying them ("+tc.mode+")")
		})
	}
	t.Run("verified loads", func(t *testing.T) {
		s := sitetest.Start(t, "https://localhost:{HTTPS_PORT} {\n\ttls "+ca.cert+" "+ca.key+" {\n\t\tclient_auth {\n\t\t\tmode verify_if_given\n\t\t\ttrust_pool file "+ca.pem+
			"\n\t\t}\n\t}\n\tsmsgate {\n\t\tidentity {http.request.tls.client.subject}\n\t\tenrollment open\n\t\tstore badger {DIR}\n\t\tprovider log\n\t}\n\trespond \"hi {smsgate.user}\"\n}\n")
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 10 * time.Second}
		defer c.CloseIdleConnections()
		res, err := c.Get(s.WithPorts("https://localhost:{HTTPS_PORT}/"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("without a client certificate: %d, want 401 (an empty identity names nobody)", res.StatusCode)
		}
		for _, clientAuth := range []string{`{"mode": "verify_if_given", "ca": ` + inline + `}`, `{"ca": ` + inline + `}`} {
			if st, out := sitetest.Admin(t, "POST", "/load", s.WithPorts(jsonConfig(clientAuth))); st != http.StatusOK {
				t.Fatalf("JSON, %s: %d %s", clientAuth, st, out)
			}
		}
	})
}

// testCA is a CA certificate written for a trust pool (its PEM file, and
// its DER in base64: an inline pool's), and a certificate for localhost it
// issued with its key (files), for the site.
type testCA struct{ pem, der, cert, key string }

func writeCA(t *testing.T) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test clients' CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	siteKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	siteDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: tmpl.NotBefore, NotAfter: tmpl.NotAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		issuer, &siteKey.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(siteKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if strings.ContainsAny(dir, " \"") {
		t.Fatalf("a temporary folder the Caddyfile cannot name unquoted: %s", dir)
	}
	ca := testCA{pem: filepath.Join(dir, "ca.pem"), der: base64.StdEncoding.EncodeToString(der), cert: filepath.Join(dir, "site.pem"), key: filepath.Join(dir, "site.key")}
	for path, b := range map[string]*pem.Block{ca.pem: {Type: "CERTIFICATE", Bytes: der}, ca.cert: {Type: "CERTIFICATE", Bytes: siteDER}, ca.key: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca
}
