package harness

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLogEntries: the entries of a message are found whether or not its
// line is decoded (a message with a quote is looked for in every line),
// and a line that only mentions the message elsewhere is not one of them.
func TestLogEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caddy.log")
	lines := `{"level":"info","msg":"verification code","to":"+1•••671","body":"code 123456\n\n@localhost #123456"}
{"level":"info","msg":"other","note":"\"msg\":\"verification code\""}
{"level":"info","msg":"say \"hi\"","n":1}
not json
{"level":"info","msg":"notice","to":"+1•••671","body":"a phone was added"}
{"level":"info","msg":"verification code","to":"+1•••671","body":"code 654321\n\n@localhost #654321"}
`
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	l := Log(path)
	for _, tc := range []struct {
		msgs []string
		n    int
	}{{[]string{"verification code"}, 2}, {[]string{"verification code", "notice"}, 3}, {[]string{`say "hi"`}, 1}, {[]string{"other"}, 1}, {[]string{"nothing"}, 0}} {
		got, err := l.Entries(tc.msgs...)
		if err != nil || len(got) != tc.n {
			t.Errorf("%q: %d entries, %v; want %d", tc.msgs, len(got), err, tc.n)
		}
	}
	if code, err := l.LastCode(); code != "654321" || err != nil {
		t.Errorf("last code %q, %v", code, err)
	}
}
