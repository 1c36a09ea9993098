package admin

import (
	"strings"
	"testing"
)

// `caddy smsgate users` shows a name's direction and line characters as
// escapes: they cannot turn the row around or start a new one.
func TestUsersTableShowsHiddenCharacters(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

// `caddy smsgate figures` marks a pause in force by the gate's clock (the
// answer's "at"), not the machine's: a gate whose clock is not the CLI's
// (a test's, one set ahead) is read as it sees itself.
func TestFiguresTableJudgesPausesByTheGatesClock(t *testing.T) {
	t.Parallel()
	const answer = `{"realm":"example.com","from":"2026-01-01","to":"2026-01-30","total":{},"days":[],"countries":[],"providers":[],
		"pumping":{"on":true,"at":"2026-01-30T12:00:00Z","pauses":[
			{"place":"+44740","kind":"prefix","since":"2026-01-30T11:30:00Z","until":"2026-01-30T13:00:00Z","sent":40,"used":2,"trips":1},
			{"place":"GB","kind":"country","since":"2026-01-30T09:00:00Z","until":"2026-01-30T11:00:00Z","sent":90,"used":5,"trips":1}]}}`
	out, err := figuresTable([]byte(answer))
	if err != nil {
		t.Fatal(err)
	}
	table := string(out)
	if !strings.Contains(table, "PAUSED: +44740 (prefix)") || strings.Contains(table, "PAUSED: GB") {
		t.Fatalf("at 12:00 by the gate's clock, +44740 is paused and GB no more; the table says:\n%s", table)
	}
}
