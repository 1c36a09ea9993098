package processes

import (
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRemoveDeviceWithCaddyStoppedEndsWhatItEarned: a thief signs in with
// ivy's phone; with Caddy stopped, the admin removes the phone on the
// store (`caddy smsgate remove-device --store`). The removal wrote the
// phone's end (revoked-device/, which ends its sessions off her list too:
// an export of the store holds it), and Caddy, started again, refuses the
// thief's session. No provider is loaded to text her phones of the
// removal, and the output says so; and says that her recovery codes were
// withdrawn, the thief having made them with the phone's session (before:
// not a word of it).
func TestRemoveDeviceWithCaddyStoppedEndsWhatItEarned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	s, adminAddr, _ := adminCaddy(t, dir, "cli.localhost", "badger "+storeDir)
	out, err := runInProcess(t, "smsgate", "add", "--realm", "cli.localhost", "--user", "ivy", "--phone", "+14155552671", "--address", adminAddr)
	m := regexp.MustCompile(`"id":\s*"([^"]+)"`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	thief := newBrowser(t, "")
	if st, body := signInPair(thief, s, s, "ivy"); st != http.StatusSeeOther {
		t.Fatalf("the thief's sign-in: %d\n%s", st, body)
	}
	if st, _, body := thief.do("GET", s.base+"/", nil); st != http.StatusOK {
		t.Fatalf("the thief's session: %d %q", st, body)
	}
	// He makes recovery codes of his own with the phone's session.
	_, _, page := thief.do("GET", s.base+"/.smsgate/devices", nil)
	tok := csrfField.FindStringSubmatch(page)
	if tok == nil {
		t.Fatalf("no devices page:\n%s", page)
	}
	if st, to, body := thief.do("POST", s.base+"/.smsgate/devices", url.Values{"action": {"recovery"}, "confirm": {"1"}, "csrf": {tok[1]}}); st != http.StatusSeeOther || to != "/.smsgate/recovery" {
		t.Fatalf("the thief's new recovery codes: %d %s %q", st, to, body)
	}
	s.stop()

	// No provider is loaded to text her phones: the output says so, and
	// that her recovery codes went with the phone (its session made them).
	if out, err := runInProcess(t, "smsgate", "remove-device", "--realm", "cli.localhost", "--user", "ivy", "--id", m[1], "--address", adminAddr, "--store", storeDir); err != nil ||
		!strings.Contains(out, "her phones were not texted of the removal: Caddy is stopped") ||
		!strings.Contains(out, `"recovery_codes_withdrawn": true`) || !strings.Contains(out, `"note": "her recovery codes were withdrawn`) {
		t.Fatalf("remove-device (stopped): %v\n%s", err, out)
	}
	file := filepath.Join(dir, "export.json")
	if out, err := runInProcess(t, "smsgate", "export", "--file", file, "--address", adminAddr, "--store", storeDir); err != nil {
		t.Fatalf("export (stopped): %v\n%s", err, out)
	}
	if all := strings.Join(records(t, file), "\n"); !strings.Contains(all, "revoked-device/cli.localhost/ivy/"+m[1]+" = ") {
		t.Fatalf("no end of the removed phone in the store:\n%s", all)
	}
	s = s.restart()
	if st, _, body := thief.do("GET", s.base+"/", nil); st == http.StatusOK {
		t.Fatalf("the thief's session after the phone's removal with Caddy stopped: %d %q", st, body)
	}
}
