package admin

import (
	"io"
	"net/http"
	"net/http/httptest"
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
	t.Parallel()
	checked := 0
	for _, sub := range subcommands {
		fs := (&cobra.Command{Use: sub.name}).Flags()
		for _, f := range sub.flags {
			fs.String(f.name, "", f.usage)
		}
		for _, f := range sub.flags {
			if f.required != slices.Contains([]string{"user", "id", "place"}, f.name) {
				t.Errorf("%s: --%s required: %v", sub.name, f.name, f.required)
			}
			if !f.required {
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

// TestACommandSendsEachOfItsFlags: each command's flags (but --file) go to
// the admin API, in its query or its body.
func TestACommandSendsEachOfItsFlags(t *testing.T) {
	t.Parallel()
	var sent string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sent = r.URL.RawQuery + " " + string(body)
		_, _ = w.Write([]byte("[]"))
	}))
	defer api.Close()
	for _, sub := range subcommands {
		fs := (&cobra.Command{Use: sub.name}).Flags()
		fs.String("address", strings.TrimPrefix(api.URL, "http://"), "")
		fs.String("config", "", "")
		fs.String("adapter", "", "")
		fs.Bool("json", true, "")
		fs.Bool("new-secret", false, "")
		for _, f := range sub.flags {
			fs.String(f.name, "v-"+f.name, f.usage)
		}
		if slices.ContainsFunc(sub.flags, func(f flag) bool { return f.name == "file" }) {
			continue
		}
		sent = ""
		if _, err := adminCommand(sub, io.Discard, io.Discard)(caddycmd.Flags{FlagSet: fs}); err != nil {
			t.Errorf("%s: %v", sub.name, err)
		}
		for _, f := range sub.flags {
			if !strings.Contains(sent, "v-"+f.name) {
				t.Errorf("%s: --%s not sent: %s", sub.name, f.name, sent)
			}
		}
	}
}
