package admin

import (
	"strings"
	"testing"
)

// `caddy smsgate users` shows a name's direction and line characters as
// escapes: they cannot turn the row around or start a new one.
func TestUsersTableShowsHiddenCharacters(t *testing.T) {
	out, err := usersTable([]byte(`[{"user":"eve\u202ecod.exe","devices":[{"id":"1","name":"Phone\u2028two","phone":"+44•••••••458"}],"recovery_left":0}]`))
	if err != nil {
		t.Fatal(err)
	}
	table := string(out)
	if strings.ContainsAny(table, "\u202E\u2028") || !strings.Contains(table, `eve\u202Ecod.exe`) || !strings.Contains(table, `Phone\u2028two`) {
		t.Fatalf("table:\n%s", table)
	}
}

// `caddy smsgate sessions` shows a host's hidden characters as escapes
// too, and says when none are listed.
func TestSessionsTable(t *testing.T) {
	out, err := sessionsTable([]byte(`[{"sid":"ABC","issued":"2026-12-01T10:00:00Z","expires":"2026-12-01T22:00:00Z","amr":["otp"],"trusted":true,"where":{"host":"evil\u202ecom","browser":"Firefox","system":"Linux"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	table := string(out)
	if strings.ContainsRune(table, '\u202E') || !strings.Contains(table, `evil\u202Ecom`) || !strings.Contains(table, "otp (trusted browser)") || !strings.Contains(table, "Firefox Linux") {
		t.Fatalf("table:\n%s", table)
	}
	if out, _ := sessionsTable([]byte(`[]`)); !strings.Contains(string(out), "No sessions listed") {
		t.Fatalf("none: %s", out)
	}
}
