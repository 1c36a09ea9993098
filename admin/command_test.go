package admin

import (
	"io"
	"slices"
	"strings"
	"testing"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// TestACommandWithoutARequiredFlagIsRefused: each command that takes
// --user, --id or --place refuses to run without it, naming it, before it
// asks anything of Caddy.
func TestACommandWithoutARequiredFlagIsRefused(t *testing.T) {
	checked := 0
	for _, sub := range subcommands {
		fs := (&cobra.Command{Use: sub.name}).Flags()
		for _, f := range sub.flags {
			fs.String(f.name, "", f.usage)
		}
		for _, f := range sub.flags {
			if !slices.Contains([]string{"user", "id", "place"}, f.name) {
				continue
			}
			checked++
			for _, g := range sub.flags { // every other flag given
				_ = fs.Set(g.name, "x")
			}
			_ = fs.Set(f.name, "")
			_, err := adminCommand(sub, io.Discard, io.Discard)(caddycmd.Flags{FlagSet: fs})
			if want := sub.name + " needs --" + f.name; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s without --%s: %v, want %q", sub.name, f.name, err, want)
			}
		}
	}
	if checked < 9 {
		t.Errorf("%d required flags checked", checked)
	}
}
