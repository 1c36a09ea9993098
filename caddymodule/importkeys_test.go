package caddymodule_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnImportSaysItReplacedTheSigningKeys: an import through the admin
// API whose file carries signing keys other than the store's (`keys/`: an
// export --with-keys of another store) replaces every realm's keys. Its
// answer says so ("keys"), and it is true: the running gate adopts the
// file's keys at its next look, and alice's session, signed with the old
// ones, is refused. The store's own export imported back replaces nothing
// and says nothing of keys.
func TestAnImportSaysItReplacedTheSigningKeys(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Shorten(t, "store-watch", 200*time.Millisecond) // its next look, sooner
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %s
	}
	smsgate {
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash))
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155552671")
	sitetest.Expect(t, alice.Get("/"), http.StatusOK, "")

	answer := func(file string) map[string]any {
		t.Helper()
		code, out := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", file)
		if code != http.StatusOK {
			t.Fatalf("import: %d %s", code, out)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("import's answer %q: %v", out, err)
		}
		return got
	}
	code, own := s.Admin(http.MethodPost, "/smsgate/export?realm=localhost&with_keys=1", "")
	if code != http.StatusOK || !strings.Contains(own, "keys/secret") {
		t.Fatalf("export with keys: %d %s", code, own)
	}
	if got := answer(own); got["keys"] != nil {
		t.Fatalf("the store's own keys imported back: %v", got)
	}
	sitetest.Expect(t, alice.Get("/"), http.StatusOK, "")

	other := make([]byte, 32)
	_, _ = rand.Read(other)
	value, _ := json.Marshal(other)
	got := answer(`[{"key":"b64:keys/secret","value":` + string(value) + `}]`)
	if says, _ := got["keys"].(string); !strings.Contains(says, "replaced the store's") || !strings.Contains(says, "sign in again") {
		t.Fatalf("an import of other signing keys did not say so: %v", got)
	}
	// The gate's next look at the store (storewatch.StoreWatch, 2 s, here
	// 200 ms); a hang guard well above it for a loaded machine: before, the
	// session was served.
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := alice.Get("/")
		if res.StatusCode == http.StatusFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alice's session signed with the replaced keys, 30 s after the import: %d %q", res.StatusCode, res.Text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
