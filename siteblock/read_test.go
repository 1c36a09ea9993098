package siteblock

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	// basic_auth, the one directive the sites here use beyond Caddy's
	// core: the standard modules would make this test binary a quarter
	// slower to link, for tests that take a tenth of a second.
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"
)

// probed is what the test's own smsgate directive (this package's tests
// do not load the real one) saw of its site.
var probed []*Block

func init() {
	httpcaddyfile.RegisterDirective("smsgate", func(h httpcaddyfile.Helper) ([]httpcaddyfile.ConfigValue, error) {
		h.Next()
		probed = append(probed, Of(h))
		return nil, nil
	})
}

// What Caddy does not export of a site block is read here: this Caddy's
// Helper must still hold it where read.go looks, or the checks would go
// silent after an upgrade.
func TestReadsTheSiteBlock(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Caddyfile")
	body := `(gate) {
	basic_auth {
		alice x
	}
	smsgate
}
http://example.com:8080 {
	@app path /app/*
	handle @app {
		import gate
		respond "app"
	}
	respond "home"
}
`
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	probed = nil
	if _, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(body), map[string]any{"filename": file}); err != nil {
		t.Fatal(err)
	}
	if len(probed) != 1 {
		t.Fatalf("the directive ran %d times", len(probed))
	}
	b := probed[0]
	if host, ok := b.Host(); !ok || host != "example.com" {
		t.Errorf("host %q %v", host, ok)
	}
	if origin, ok := b.Origin(); !ok || origin != "http://example.com:8080" {
		t.Errorf("origin %q %v", origin, ok)
	}
	if set, ok := b.matchers["@app"]; !ok || string(set["path"]) != `["/app/*"]` {
		t.Errorf("named matchers %v", b.matchers)
	}
	var names []string
	for _, seg := range b.segments {
		names = append(names, seg[0].text)
	}
	if !slices.Equal(names, []string{"@app", "handle", "respond"}) {
		t.Fatalf("segments %q", names)
	}
	// The snippet's tokens came through an import: its lines are its own,
	// never continuations of the site's.
	p, ok := b.place(file, 5)
	if !ok {
		t.Fatal("the gate was not found in its site")
	}
	if len(p.path) != 1 || p.path[0].name != "handle" || p.path[0].args[0] != "@app" {
		t.Errorf("path %v", p.path)
	}
	var before, after []string
	for _, d := range p.before {
		before = append(before, d.name)
	}
	for _, d := range p.after {
		after = append(after, d.name)
	}
	// The matcher's definition is a segment too, of no consequence.
	if !slices.Equal(before, []string{"basic_auth", "@app"}) || !slices.Equal(after, []string{"respond", "respond"}) {
		t.Errorf("before %q, after %q", before, after)
	}
}

// A Caddyfile is read again under the name Caddy gave its tokens, which
// need not be its file: Caddy names a posted Caddyfile "Caddyfile", and
// its working directory may hold another. The file's arguments count only
// where its tokens are the directive's (TestAPostedCaddyfileIgnoresTheFileInCaddysDirectory
// runs it in Caddy).
func TestReadsAgainOnlyTheFileTheDirectiveCameFrom(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Caddyfile")
	body := "http://example.com {\n\thandle /admin/* {\n\t\tsmsgate\n\t}\n\trespond \"home\"\n}\n"
	for _, c := range []struct {
		name, onDisk string
		args         []string
		lost         bool
	}{
		{"the same file", body, []string{"/admin/*"}, false},
		{"a handle for every path there", strings.Replace(body, "handle /admin/* {", "handle {", 1), nil, true},
		// The limit: a file that differs only in the matcher Caddy deleted.
		{"another path there", strings.Replace(body, "handle /admin/* {", "handle /public/* {", 1), []string{"/public/*"}, false},
		{"another directive in it", strings.Replace(body, "\t\tsmsgate", "\t\trespond", 1), nil, true},
		{"the directive on another line", "\n" + body, nil, true},
		{"no file", "", nil, true},
	} {
		if c.onDisk == "" {
			_ = os.Remove(file)
		} else if err := os.WriteFile(file, []byte(c.onDisk), 0o600); err != nil {
			t.Fatal(err)
		}
		probed = nil
		if _, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(body), map[string]any{"filename": file}); err != nil || len(probed) != 1 {
			t.Fatalf("%s: %v, the directive ran %d times", c.name, err, len(probed))
		}
		p, ok := probed[0].place(file, 3)
		if !ok || len(p.path) != 1 {
			t.Fatalf("%s: the gate was not found in its handle", c.name)
		}
		if d := p.path[0]; d.lost != c.lost || !slices.Equal(d.args, c.args) {
			t.Errorf("%s: args %q lost %v, want %q %v", c.name, d.args, d.lost, c.args, c.lost)
		}
	}
}
