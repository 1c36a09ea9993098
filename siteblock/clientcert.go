package siteblock

import (
	"fmt"
	"slices"
	"strings"
)

// An identity read from a TLS client certificate ({http.request.tls.client.*})
// is only as good as the check of that certificate. Caddy's client_auth
// modes `request` and `require` take any certificate the client presents,
// its chain not verified (a self-signed one naming anybody): the gate
// would take the request for whoever the client wrote into it. Only
// `require_and_verify` and `verify_if_given` verify the chain against the
// trust pool (`verify_if_given` lets a client without a certificate
// through: its identity is empty, and an empty identity signs nobody in).
// Without a mode, Caddy verifies where a trust pool or trusted certificate
// is given, and otherwise requires any certificate (`require`).

// ReadsClientCert reports whether identity reads a TLS client
// certificate's field.
func ReadsClientCert(identity string) bool {
	return strings.Contains(identity, "{http.request.tls.client.")
}

// VerifyingModes are Caddy's client_auth modes that verify a client
// certificate's chain.
var VerifyingModes = []string{"require_and_verify", "verify_if_given"}

// ClientCertAdvice ends the refusal of a client_auth that takes
// certificates unverified.
const ClientCertAdvice = "use `mode require_and_verify` (or `verify_if_given`) with a `trust_pool` of the CA that issues your clients' certificates (a `verifier` is not counted: to pin self-signed leaves, give them as the trust pool)"

// trustOptions are the client_auth options that make Caddy's default mode
// require_and_verify.
var trustOptions = []string{"trust_pool", "trusted_ca_cert", "trusted_ca_cert_file", "trusted_leaf_cert", "trusted_leaf_cert_file"}

// CheckClientCert refuses a gate whose identity reads a TLS client
// certificate's field in a site whose `tls { client_auth … }` takes
// certificates without verifying their chain, at the mode's line (the
// client_auth's, where the default mode is `require`). Other sites on
// the same server are the start check's (admin's checkClientCerts).
func (b *Block) CheckClientCert(g *Gate) error {
	if !ReadsClientCert(g.Identity) {
		return nil
	}
	for _, seg := range b.segments {
		if len(seg) == 0 || seg[0].text != "tls" {
			continue
		}
		for _, stmt := range inner(seg) {
			if stmt[0].text != "client_auth" {
				continue
			}
			at, mode, trusted := stmt[0], "", false
			for _, opt := range inner(stmt) {
				switch a := args(opt); {
				case opt[0].text == "mode" && len(a) == 1:
					at, mode = opt[0], a[0]
				case slices.Contains(trustOptions, opt[0].text):
					trusted = true
				}
			}
			if mode == "" && !trusted {
				mode = "require" // Caddy's default without a trust pool
			} else if mode == "" {
				continue
			}
			if !slices.Contains(VerifyingModes, mode) {
				return errAt(at, fmt.Errorf("client_auth mode %s takes a client certificate without verifying it, and smsgate's identity %s is read from it: a client would present a certificate naming anyone and be taken for them. %s",
					mode, g.Identity, ClientCertAdvice))
			}
		}
	}
	return nil
}
