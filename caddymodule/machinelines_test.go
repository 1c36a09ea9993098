package caddymodule_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// What a config takes from the machine it runs on (a secret's {file.X} or
// {env.X}, templates_dir, messages_dir, a provider's resolved options) is
// read when a Caddyfile is adapted too, so that a mistake there names its
// line. Before, each was found only at Provision, with no line.
func TestWhatTheMachineHoldsIsRefusedAtItsLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	short := "{file." + file("short", "too short") + "}"
	long := "{file." + file("long", strings.Repeat("k", 40)) + "}"
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	file("pages/page.html", `{{define "page"}}{{.Nope`)
	file("texts/en.json", `{"notice.x": `)
	file("french/fr.json", `{"sms.code": "`+strings.Repeat("Votre code pour {site} est {code}. ", 20)+`"}`)
	for _, tc := range []struct{ options, fields, want string }{
		{"signing_key " + short, `"signing_key": "` + short + `"`, "signing_key is 9 bytes; it must be at least 32"},
		{"signing_key " + long + "\n\t\tverify_only " + long, `"signing_key": "` + long + `", "verify_only_key": "` + long + `"`, "verify_only needs its own key, not the signing key"},
		{"templates_dir " + empty, `"templates_dir": "` + empty + `"`, "templates_dir " + empty + ": no *.html files"},
		{"templates_dir " + filepath.Join(dir, "pages"), `"templates_dir": "` + filepath.Join(dir, "pages") + `"`, "page.html"},
		{"messages_dir " + empty, `"messages_dir": "` + empty + `"`, "messages_dir " + empty + ": no *.json files"},
		{"messages_dir " + filepath.Join(dir, "texts"), `"messages_dir": "` + filepath.Join(dir, "texts") + `"`, "en.json"},
		// The English texts fit; the admin's French one does not.
		{"messages_dir " + filepath.Join(dir, "french"), `"messages_dir": "` + filepath.Join(dir, "french") + `"`, "message_template (fr): a text would take"},
	} {
		line := "Caddyfile:11"
		if strings.HasPrefix(tc.options, "signing_key "+long) {
			line = "Caddyfile:12" // verify_only's
		}
		refusedFromBoth(t, tc.options, tc.fields, line, tc.want, tc.want)
	}
	// A provider's options as they resolve: a webhook's url from a file
	// that holds no URL, a Twilio account that is none (Validate's).
	for provider, want := range map[string]string{
		"provider webhook {file." + file("url", "gw.example.com/send") + "}":                                                             "must be an http or https URL with a host",
		"provider twilio {\n\t\t\taccount_sid XX123\n\t\t\tauth_token {file." + file("token", "t") + "}\n\t\t\tfrom +15005550006\n\t\t}": "twilio: account_sid must start with AC",
	} {
		sitetest.AssertLoadError(t, "{\n\tadmin localhost:{ADMIN_PORT}\n}\nhttp://localhost:{HTTP_PORT} {\n\tsmsgate {\n\t\tidentity none\n\t\tstore badger {DIR}\n\t\t"+provider+"\n\t}\n}\n", want, "Caddyfile:8")
	}
}

// One not there when the Caddyfile is adapted (an unset {env.X}, a folder)
// may be there where Caddy runs it (`caddy adapt` elsewhere): the config
// adapts, with a warning at its line (internal/processes' TestAdaptWarnsWithTheLine),
// and the load refuses it (TestABadConfigOpensNoStore).
func TestWhatIsNotThereWhenAdaptedStillAdapts(t *testing.T) {
	t.Parallel()
	for _, options := range []string{
		"signing_key {env.SMSGATE_TEST_UNSET}",
		"verify_only {file." + filepath.Join(t.TempDir(), "absent") + "}",
		"templates_dir /nonexistent/smsgate-templates",
		"messages_dir /nonexistent/smsgate-messages",
		"provider twilio {\n\t\t\taccount_sid {env.SMSGATE_TEST_UNSET}\n\t\t\tauth_token x\n\t\t\tfrom +15005550006\n\t\t}",
		"provider twilio {\n\t\t\taccount_sid AC123\n\t\t\tauth_token x\n\t\t\tfrom {env.SMSGATE_TEST_UNSET}\n\t\t}",
		"store redis {\n\t\t\tpassword {env.SMSGATE_TEST_UNSET}\n\t\t}",
	} {
		cfg := "localhost {\n\tsmsgate {\n\t\tidentity none\n\t\t" + options + "\n\t}\n}\n"
		if !strings.Contains(options, "provider") {
			cfg = strings.Replace(cfg, "identity none", "identity none\n\t\tprovider log", 1)
		}
		if _, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"}); err != nil {
			t.Errorf("%s: %v", options, err)
		}
	}
}

// A JSON config's signing_alg that is none is refused before its store is
// opened. Before, only the Caddyfile's parser checked it: a JSON config
// (or one adapted elsewhere) opened its Badger store, then failed.
func TestABadSigningAlgOpensNoStore(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "store")
	sitetest.AssertJSONLoadError(t, `{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"], "routes": [{"handle": [
	{"handler": "smsgate", "realm": "localhost", "identity": "none", "signing_alg": "RS256", "store": {"module": "badger", "path": "`+dir+`"}, "providers": [{"provider": "log"}]}]}]}}}}}`,
		`signing_alg must be HS256 or EdDSA, not \"RS256\"`)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a refused signing_alg created %s (%v)", dir, err)
	}
}

// A Redis store's options that exclude each other are refused at the
// line of the one that conflicts. Before, the Caddyfile adapted, and the
// load failed at the store's Provision with no line.
func TestRedisOptionsThatExcludeEachOtherNameTheLine(t *testing.T) {
	t.Parallel()
	for store, want := range map[string]string{
		"store redis {\n\t\t\tmaster_name mymaster\n\t\t\tcluster\n\t\t}":           "cluster and master_name exclude each other: a cluster has no Sentinel, at Caddyfile:6",
		"store redis 127.0.0.1:7000 127.0.0.1:7001 {\n\t\t\tdb 2\n\t\t\ttls\n\t\t}": "a cluster has only database 0, not db 2, at Caddyfile:5",
	} {
		cfg := "localhost {\n\tsmsgate {\n\t\tidentity none\n\t\t" + store + "\n\t\tprovider log\n\t}\n}\n"
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", store, err, want)
		}
	}
}

// A JSON config's provider whose secret resolves to nothing is refused
// at load naming the provider, as the Caddyfile's warning does.
func TestAnUnsetProviderSecretNamesItsProvider(t *testing.T) {
	t.Parallel()
	sitetest.AssertJSONLoadError(t, `{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"], "routes": [{"handle": [
	{"handler": "smsgate", "realm": "localhost", "identity": "none", "store": {"module": "badger", "path": "`+t.TempDir()+`"},
	 "providers": [{"provider": "log"}, {"provider": "twilio", "account_sid": "AC123", "auth_token": "{env.SMSGATE_TEST_UNSET}", "from": "+15005550006"}]}]}]}}}}}`,
		"provider 2: auth_token is empty: is its environment variable set?")
}
