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
