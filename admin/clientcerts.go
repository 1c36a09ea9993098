package admin

import (
	"crypto/tls"
	"fmt"
	"slices"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddytls"

	"github.com/smsgate/caddy-smsgate/siteblock"
)

// checkClientCerts refuses server srv (name) where a gate's identity reads
// a TLS client certificate's field (identity; "" for none) and one of the
// server's TLS connection policies takes client certificates without
// verifying their chain (Caddy's client_auth modes `request` and
// `require`, or no mode and no trust pool): the client would present a
// certificate naming anyone (siteblock.CheckClientCert names the
// Caddyfile's line; this is every config's, other sites' policies on the
// server included, as a connection's SNI picks its policy).
func checkClientCerts(name string, srv *caddyhttp.Server, identity string) error {
	if identity == "" {
		return nil
	}
	for i, cp := range srv.TLSConnPolicies {
		if mode, ok := unverified(cp); ok {
			return fmt.Errorf("server %s: TLS connection policy %d takes client certificates without verifying them (client_auth mode %s), and a gate's identity is %s: a client would present a certificate naming anyone and be taken for them; %s",
				name, i, mode, identity, siteblock.ClientCertAdvice)
		}
	}
	return nil
}

// unverified reports whether cp asks for client certificates and takes
// one whose chain it did not verify, and in which mode (as Caddy names
// it; Caddy's default where none is written). It reads the TLS config
// Caddy built (its client_auth's modules are loaded and their raw config
// gone by now: a trust pool made the default require_and_verify); a
// `verifier` (a leaf pin) is not seen, nor counted.
func unverified(cp *caddytls.ConnectionPolicy) (string, bool) {
	if cp == nil || cp.ClientAuthentication == nil {
		return "", false
	}
	mode := cp.ClientAuthentication.Mode
	if cp.TLSConfig != nil {
		switch cp.TLSConfig.ClientAuth {
		case tls.RequestClientCert, tls.RequireAnyClientCert:
			if mode == "" {
				mode = "require (Caddy's default without a trust pool)"
			}
			return mode, true
		}
		return "", false
	}
	return mode, mode != "" && !slices.Contains(siteblock.VerifyingModes, mode)
}
