package caddymodule_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnImportOfSigningKeysNoGateCanUseIsRefused: a `keys/` record no gate
// can use (a secret shorter than 32 bytes, an EdDSA key that is no seed or
// past a gap, a name under keys/ no gate reads) was written and answered
// "keys replaced", for every realm on the store. It is refused with a 400
// naming the key, never quoting its value, before anything is written:
// the store's keys are as they were and alice's session still passes. The
// store's own export with its real keys (the secret and EdDSA keys) still
// imports back.
func TestAnImportOfSigningKeysNoGateCanUseIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %s
	}
	smsgate {
		store badger {DIR}
		provider log
		signing_alg EdDSA
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash))
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155552671")
	sitetest.Expect(t, alice.Get("/"), http.StatusOK, "")
	export := func() string {
		t.Helper()
		code, out := s.Admin(http.MethodPost, "/smsgate/export?with_keys=1", "")
		if code != http.StatusOK || !strings.Contains(out, "keys/secret") || !strings.Contains(out, "keys/eddsa/1") {
			t.Fatalf("export with keys: %d %s", code, out)
		}
		return out
	}
	before := export()

	seed := `"created":"2026-12-01T00:00:00Z","seed":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="` // 32 bytes
	for _, c := range []struct{ record, key string }{
		{`{"key":"b64:keys/secret","value":"c2VjcmV0"}`, "keys/secret"}, // 6 bytes ("secret")
		{`{"key":"keys/secret","value":"short"}`, "keys/secret"},
		{`{"key":"keys/zzz","value":"c2VjcmV0"}`, "keys/zzz"},
		{`{"key":"keys/eddsa/1","value":{"seed":"c2VjcmV0"}}`, "keys/eddsa/1"},
		{`{"key":"keys/eddsa/01","value":{` + seed + `}}`, "keys/eddsa/01"},
		{`{"key":"keys/eddsa/x","value":{` + seed + `}}`, "keys/eddsa/x"},
		{`{"key":"keys/eddsa/1","value":{` + seed + `}},{"key":"keys/eddsa/3","value":{` + seed + `}}`, "keys/eddsa/3"},
	} {
		code, body := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", `[`+c.record+`]`)
		if code != http.StatusBadRequest || !strings.Contains(body, c.key+" is not a record smsgate exports") ||
			strings.Contains(body, "c2VjcmV0") || strings.Contains(body, "short") || strings.Contains(body, "AAEC") {
			t.Errorf("import of %s: %d %s", c.record, code, body)
		}
	}
	if after := export(); after != before {
		t.Fatalf("the store changed with refused imports:\n%s\n%s", before, after)
	}
	sitetest.Expect(t, alice.Get("/"), http.StatusOK, "")

	// Real keys, the store's own, go back in.
	if code, body := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", before); code != http.StatusOK {
		t.Fatalf("the store's own export with keys: %d %s", code, body)
	}
	sitetest.Expect(t, alice.Get("/"), http.StatusOK, "")
}
