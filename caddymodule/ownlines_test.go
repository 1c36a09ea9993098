package caddymodule_test

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// What a store or a provider refuses of its own config is refused when a
// Caddyfile is adapted, at its line, by the check its Provision runs
// (store.Check, providers.CheckResolved), and adapting creates nothing on
// disk. Before, a Badger path through a file, or one that is a file, and a
// Redis address that is no host:port, adapted, and the load failed at the
// store's Provision with no line.
func TestAStoreOrProviderMistakeNamesItsLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	afile := filepath.Join(dir, "afile")
	noAddress := filepath.Join(dir, "address")
	for path, content := range map[string]string{afile: "x", noAddress: "10.0.0.7"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	companion := map[bool]string{true: "store badger " + filepath.Join(dir, "store"), false: "provider log"}
	for _, tc := range []struct {
		mistake string // written on line 5, before the store (for a provider) or the provider log
		line    int
		want    string
	}{
		{"store badger " + afile + "/smsgate", 5, "badger store path " + afile + "/smsgate: " + afile + " is a file, not a folder"},
		{"store badger " + afile, 5, afile + " is a file, not a folder"},
		{"store badger {\n\t\t\tpath " + afile + "/x/y\n\t\t}", 5, afile + " is a file, not a folder"},
		{"store redis localhost", 5, "redis store: address 1 (localhost) is not host:port: missing port in address"},
		{"store redis 127.0.0.1:6379 localhost:99999", 5, "address 2 (localhost:99999): its port must be from 1 to 65535"},
		{"store redis {\n\t\t\taddress 127.0.0.1:\n\t\t}", 5, "address 1 (127.0.0.1:): its port must be from 1 to 65535"},
		{"store redis {file." + noAddress + "}", 5, "address 1 ({file." + noAddress + "}) is not host:port"},
		{"provider twilio {\n\t\t\taccount_sid AC1\n\t\t\tauth_token x\n\t\t}", 5, "provider 1: twilio: set from (a number) or messaging_service_sid"},
		{"provider twilio {\n\t\t\taccount_sid AC1\n\t\t\tauth_token x\n\t\t\tverify_service XX1\n\t\t}", 5, "twilio: verify_service must start with VA"},
		{"provider twilio {\n\t\t\taccount_sid AC1\n\t\t\tauth_token x\n\t\t\tmessaging_service_sid MG1\n\t\t\tvoice\n\t\t}", 5, "twilio: voice calls need a from number"},
		{"provider twilio {\n\t\t\taccount_sid AC1\n\t\t\tauth_token x\n\t\t\tfrom +15005550006\n\t\t\tlookup {\n\t\t\t\ton_error_enroll maybe\n\t\t\t}\n\t\t}", 5, `lookup on_error_enroll must be open or closed, not "maybe"`},
		{"provider twilio {\n\t\t\taccount_sid AC1\n\t\t\tauth_token x\n\t\t\tfrom +15005550006\n\t\t\tlookup {\n\t\t\t\trefuse_types fax landline\n\t\t\t}\n\t\t}", 10, `lookup refuse_types: unknown channel "fax"`}, // at its own line
		{"provider webhook ftp://gw.example.com/send", 5, "webhook url \"ftp://gw.example.com/send\" must be an http or https URL with a host"},
		{"provider webhook https://gw.example.com/send {\n\t\t\tbody \"{{.Nope}}\"\n\t\t}", 5, "webhook body template"},
		{"provider signal ftp://signal.internal {\n\t\t\tnumber +15005550006\n\t\t}", 5, "signal url \"ftp://signal.internal\" must be an http or https URL with a host"},
		{"provider log\n\t\tprovider webhook https://gw.example.com/send {\n\t\t\tbody \"{\\\"to\\\": \\\"{{.To}}\\\"}\"\n\t\t}", 6, "webhook body template never says the code"},
	} {
		provider := strings.HasPrefix(tc.mistake, "provider")
		cfg := "localhost {\n\tsmsgate {\n\t\tidentity none\n\t\tcode_length 6\n\t\t" + tc.mistake + "\n\t\t" + companion[provider] + "\n\t}\n}\n"
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
		at := "at Caddyfile:" + strconv.Itoa(tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasSuffix(err.Error(), at) {
			t.Errorf("%s: %v; want %q %s", tc.mistake, err, tc.want, at)
		}
	}
	// One this machine only lacks adapts (warned at its line: internal/processes'
	// TestAdaptWarnsWithTheLine), as one that is right does.
	fine := []string{"store badger {env.SMSGATE_TEST_UNSET}", "store badger " + dir + "/{env.SMSGATE_TEST_UNSET}/x",
		"store redis {env.SMSGATE_TEST_UNSET}", "store redis localhost:redis", "store badger " + filepath.Join(dir, "new", "store")}
	if runtime.GOOS == "linux" {
		fine = append(fine, "store badger /proc/self/smsgate") // a folder no one may write in
	}
	for _, store := range fine {
		cfg := "localhost {\n\tsmsgate {\n\t\tidentity none\n\t\t" + store + "\n\t\tprovider log\n\t}\n}\n"
		if _, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"}); err != nil {
			t.Errorf("%s: %v", store, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"address", "afile"}) {
		t.Errorf("adapting created %v in %s", names, dir)
	}
}

// A Badger path whose placeholder resolves to nothing is refused at load.
// Before, `path {env.X}` with X unset opened a database in Caddy's working
// folder (filepath.Abs("")), and {env.X}/smsgate one at /smsgate.
func TestABadgerPathFromAnUnsetVariableIsRefused(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"{env.SMSGATE_TEST_UNSET}", "{env.SMSGATE_TEST_UNSET}" + t.TempDir()} {
		sitetest.AssertJSONLoadError(t, `{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"], "routes": [{"handle": [
	{"handler": "smsgate", "realm": "localhost", "identity": "none", "store": {"module": "badger", "path": "`+path+`"}, "providers": [{"provider": "log"}]}]}]}}}}}`,
			"badger store path "+path+": a placeholder in it is empty here: is its environment variable set?")
	}
	if _, err := os.Stat(filepath.Join(wd, "MANIFEST")); !os.IsNotExist(err) {
		t.Errorf("a Badger database was opened in the working folder %s (%v)", wd, err)
	}
}
