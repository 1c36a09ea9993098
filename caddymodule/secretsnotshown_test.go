package caddymodule_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// A secret the config takes from its machine and gets wrong is refused
// when the Caddyfile is adapted, at its line, without its value: neither
// the error nor a warning holds the secret's bytes. Before, a webhook's or
// Signal's url from {env.X}/{file.X} that resolved to no URL (a gateway's
// URL with its key, written without https://, or the wrong variable) was
// quoted whole: `caddy adapt` printed the key.
func TestAWrongSecretIsRefusedWithoutItsValue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const secret = "S3CRETb7f2a9"
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return "{file." + path + "}"
	}
	for _, options := range []string{
		"provider log\n\t\tsigning_key " + file("short", secret),
		"provider log\n\t\tsigning_key " + file("long", secret+strings.Repeat("x", 30)) + "\n\t\tverify_only " + file("long2", secret+strings.Repeat("x", 30)),
		"provider webhook " + file("url", "gw.example.com/send?key="+secret),
		"provider webhook " + file("url2", secret),
		"provider signal {\n\t\t\turl " + file("surl", "signal.example.com/v2/send?token="+secret) + "\n\t\t\tnumber +15005550006\n\t\t}",
		"provider twilio {\n\t\t\taccount_sid XX123\n\t\t\tauth_token " + file("token", secret) + "\n\t\t\tfrom +15005550006\n\t\t}",
		"provider twilio {\n\t\t\taccount_sid " + file("sid", secret) + "\n\t\t\tauth_token x\n\t\t\tfrom +15005550006\n\t\t}",
		"provider log\n\t\tstore redis " + file("raddr", "redis://:"+secret+"@10.0.0.7:6379"),
		"provider log\n\t\tstore redis " + file("raddr2", secret),
		"provider log\n\t\tstore redis 10.0.0.7:6379 {\n\t\t\taddress " + file("raddr3", "10.0.0.8:6379:"+secret) + "\n\t\t}",
	} {
		cfg := "localhost {\n\tsmsgate {\n\t\tidentity none\n\t\t" + options + "\n\t}\n}\n"
		_, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
		if err == nil {
			t.Errorf("%s: adapted", options)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error shows the secret: %v", options, err)
		}
		for _, w := range warnings {
			if strings.Contains(w.String(), secret) {
				t.Errorf("%s: a warning shows the secret: %s", options, w)
			}
		}
	}
	// One that is right adapts to the config as written: the placeholders,
	// not the values read to check them.
	cfg := "localhost {\n\tsmsgate {\n\t\tidentity none\n\t\tsigning_key " + file("good", secret+strings.Repeat("y", 30)) +
		"\n\t\tprovider webhook " + file("goodurl", "https://gw.example.com/send?key="+secret) + "\n\t}\n}\n"
	out, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
	if err != nil || len(warnings) != 0 || strings.Contains(string(out), secret) || !strings.Contains(string(out), "{file.") {
		t.Errorf("a right config: %v, %v, %s", err, warnings, out)
	}
}
