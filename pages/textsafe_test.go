package pages_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// hidden are the characters that rearrange or hide text around them.
var hidden = []string{"\u202E", "\u2028", "\u200B", "\u2066"}

func rawHidden(s string) string {
	for _, h := range hidden {
		if strings.Contains(s, h) {
			return h
		}
	}
	return ""
}

// Names with direction overrides and line separators — a device name a
// user typed, a name an SSO hands over, names in a store from before —
// are shown, never obeyed: stripped where they are typed, escaped in the
// admin's JSON, exports and the log, refused as an identity. On main they
// went everywhere as they were.
func TestDirectionCharactersAreShownNotObeyed(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity {http.request.header.Remote-User}
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	// An identity with a direction override signs nobody in, and the log
	// shows it escaped.
	c := sitetest.NewClient(t, "")
	sitetest.Expect(t, c.GetWith("/.smsgate/login", map[string]string{"Remote-User": "ali\u202Ecod.exe"}), http.StatusUnauthorized, "")

	// A device name typed with them is stored without them.
	alice := sitetest.NewClient(t, "")
	as := map[string]string{"Remote-User": "alice"}
	sitetest.Expect(t, alice.GetWith("/.smsgate/login", as), http.StatusSeeOther, "/.smsgate/enroll")
	tok := sitetest.CSRFField.FindStringSubmatch(alice.GetWith("/.smsgate/enroll", as).Text)[1]
	sitetest.Expect(t, alice.PostWith("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}, as), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.PostWith("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}, as), http.StatusSeeOther, "/.smsgate/recovery")
	tok = sitetest.CSRFField.FindStringSubmatch(alice.GetWith("/.smsgate/devices", as).Text)[1]
	add := url.Values{"action": {"add"}, "phone": {"+447400123456"}, "name": {"Work\u202Eenohp\u2028x"}, "csrf": {tok}}
	sitetest.Expect(t, alice.PostWith("/.smsgate/devices", add, as), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.PostWith("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}, as), http.StatusSeeOther, "/.smsgate/devices")

	// An admin cannot make a user nobody could sign in as.
	if st, body := sitetest.Admin(t, "POST", "/smsgate/users", `{"realm":"localhost","user":"bob\u202E","phone":"+447400123457"}`); st != http.StatusBadRequest {
		t.Fatalf("adding user bob\\u202E: %d %s", st, body)
	}
	// A store from before may hold such names: an import puts one there.
	bad := `[{"key":"device/localhost/eve\u202Ecod.exe","value":[{"id":"1","name":"Phone\u2028two","phone":"+447400123458"}]}]`
	if st, body := sitetest.Admin(t, "POST", "/smsgate/import?realm=localhost", bad); st != http.StatusOK {
		t.Fatalf("import: %d %s", st, body)
	}
	_, users := sitetest.Admin(t, "GET", "/smsgate/users?realm=localhost", "")
	_, export := sitetest.Admin(t, "GET", "/smsgate/export?realm=localhost", "")
	for what, body := range map[string]string{"users": users, "export": export} {
		if h := rawHidden(body); h != "" {
			t.Errorf("the admin's %s holds %U as it is: %s", what, []rune(h)[0], body)
		}
		if !strings.Contains(body, `eve\u202ecod.exe`) {
			t.Errorf("the admin's %s lost the name: %s", what, body)
		}
	}
	if !strings.Contains(users, `"name":"Workenohp x"`) {
		t.Errorf("the typed device name was not cleaned: %s", users)
	}
	var list []struct {
		User string `json:"user"`
	}
	if err := json.Unmarshal([]byte(users), &list); err != nil || len(list) != 2 {
		t.Fatalf("users JSON: %v %s", err, users)
	}
	// The export goes back in as it came out.
	if st, body := sitetest.Admin(t, "POST", "/smsgate/import?realm=localhost", export); st != http.StatusOK {
		t.Fatalf("re-import: %d %s", st, body)
	}
	raw, _ := os.ReadFile(s.LogFile)
	if h := rawHidden(string(raw)); h != "" {
		t.Errorf("the log holds %U as it is", []rune(h)[0])
	}
	if !strings.Contains(string(raw), `ali\\u202Ecod.exe`) {
		t.Error("the refused identity is not in the log, escaped")
	}
}
