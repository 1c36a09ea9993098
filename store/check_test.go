package store_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/store"
)

// A store that cannot open is refused by the check its Provision runs
// before it opens, creates or dials anything, naming the store; a
// Caddyfile's adapter runs the same check (store.Check), where what only
// that machine lacks is told, not refused.
func TestAStoreThatCannotOpenIsRefusedBeforeOpening(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	afile := filepath.Join(dir, "afile")
	if err := os.WriteFile(afile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ module, config, want string }{
		{"badger", `{"path": "` + afile + `/smsgate"}`, afile + " is a file, not a folder"},
		{"badger", `{"path": "` + afile + `"}`, afile + " is a file, not a folder"},
		{"badger", `{"path": "{env.SMSGATE_TEST_UNSET}"}`, "a placeholder in it is empty here"},
		{"redis", `{"addresses": ["localhost"]}`, "address 1 (localhost) is not host:port: missing port in address"},
		{"redis", `{"addresses": ["127.0.0.1:6379", "{env.SMSGATE_TEST_UNSET}"]}`, "address 2 ({env.SMSGATE_TEST_UNSET}) is empty"},
		{"redis", `{"db": -1}`, "db -1 is not a database number"},
	}
	if runtime.GOOS == "linux" {
		cases = append(cases, struct{ module, config, want string }{"badger", `{"path": "/proc/self/smsgate"}`, "/proc/self may not be written here"})
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	for _, tc := range cases {
		if _, err := ctx.LoadModuleByID("smsgate.stores."+tc.module, json.RawMessage(tc.config)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: provisioned (%v), want %q", tc.module, tc.config, err, tc.want)
		}
		var told []error
		raw := json.RawMessage(`{"module": "` + tc.module + `", ` + tc.config[1:])
		err := store.Check(raw, func(err error) { told = append(told, err) })
		if err == nil && len(told) == 0 || err != nil && cfutil.KeyOf(err) != "store" {
			t.Errorf("%s %s: Check said %v, told %v", tc.module, tc.config, err, told)
		}
		for _, e := range told {
			if cfutil.KeyOf(e) != "store" || !cfutil.IsAbsent(e) {
				t.Errorf("%s %s: told %v, not an Absent of option store", tc.module, tc.config, e)
			}
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
		t.Errorf("refused stores made %v (%v)", entries, err)
	}
	// A credential that resolves to nothing is told, and left to the server.
	var told []error
	err := store.Check(json.RawMessage(`{"module": "redis", "password": "{env.SMSGATE_TEST_UNSET}"}`), func(err error) { told = append(told, err) })
	if err != nil || len(told) != 1 || !strings.Contains(told[0].Error(), "password is empty") {
		t.Errorf("an unset password: %v, told %v", err, told)
	}
}
