package continuity

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestIdentityNamesTheData: a store's name is what names its data. Options
// that do not (credentials, tls, a default written out, the order of a
// cluster's seeds, a folder's trailing slash) leave it as it was; those
// that do (another folder, address, database or key prefix) make another.
// Keyed by the config whole, a reload that changed a password started a
// fresh memory (caddymodule's TestAStoreOptionChangedKeepsTheMemory).
func TestIdentityNamesTheData(t *testing.T) {
	dir := t.TempDir()
	same := [][]string{
		{`{"module":"badger","path":"` + dir + `"}`, `{"module":"badger","path":"` + dir + `/"}`, `{"path":"` + dir + `/./","module":"badger"}`},
		{`{"module":"badger"}`, `{"module":"badger","path":"` + filepath.Join(caddy.AppDataDir(), "smsgate") + `"}`},
		{`{"module":"redis","addresses":["10.0.0.1:6379"]}`,
			`{"module":"redis","addresses":["10.0.0.1:6379"],"password":"new","username":"gate","tls":true}`,
			`{"module":"redis","addresses":["10.0.0.1:6379"],"key_prefix":"smsgate:","db":0}`},
		{`{"module":"redis"}`, `{"module":"redis","addresses":["127.0.0.1:6379"]}`},
		{`{"module":"redis","addresses":["a:1","b:1","c:1"]}`, `{"module":"redis","addresses":["c:1","a:1","b:1"],"cluster":true}`},
		{`{"module":"redis","addresses":["s1:26379","s2:26379"],"master_name":"m","sentinel_password":"x"}`,
			`{"module":"redis","addresses":["s2:26379","s1:26379"],"master_name":"m"}`},
	}
	for _, group := range same {
		for _, c := range group[1:] {
			if a, b := Identity(json.RawMessage(group[0])), Identity(json.RawMessage(c)); a != b {
				t.Errorf("one store named twice:\n%s: %s\n%s: %s", group[0], a, c, b)
			}
		}
	}
	other := []string{
		`{"module":"badger","path":"` + dir + `/other"}`,
		`{"module":"redis","addresses":["10.0.0.2:6379"]}`,
		`{"module":"redis","addresses":["10.0.0.1:6379"],"db":1}`,
		`{"module":"redis","addresses":["10.0.0.1:6379"],"key_prefix":"other:"}`,
		`{"module":"redis","addresses":["10.0.0.1:6379"],"master_name":"m"}`,
		`{"module":"smsgate_test_hold","dir":"x"}`,
	}
	seen := map[string]string{}
	for _, group := range same {
		seen[Identity(json.RawMessage(group[0]))] = group[0]
	}
	for _, c := range other {
		id := Identity(json.RawMessage(c))
		if was, ok := seen[id]; ok {
			t.Errorf("two stores named alike: %s and %s (%s)", was, c, id)
		}
		seen[id] = c
	}
	if id := Identity(json.RawMessage(`{"module":"redis","addresses":["10.0.0.1:6379"],"password":"hunter2"}`)); strings.Contains(id, "hunter2") {
		t.Errorf("a password in a store's name: %s", id)
	}
}

// TestTheMemoryThePreviousReleaseKeptIsRead: the previous release kept a
// gate's memory under the config whole (Former). A store that held users,
// wiped while Caddy was upgraded, is noticed by the upgraded gate from
// that file (on Badger on disk and a real redis-server); without it (no
// Former) the gate remembers nothing and takes the store for a new one.
func TestTheMemoryThePreviousReleaseKeptIsRead(t *testing.T) {
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			var st store.Store
			var config json.RawMessage
			if kind == "badger" {
				st = badger(t)
				// (A folder written as Identity names it is named alike by
				// both: its memory is where it was.)
				config = json.RawMessage(fmt.Sprintf(`{"module":"badger","path":%q}`, t.TempDir()+"/"))
			} else {
				addr := redistest.Server(t)
				rs, closeStore, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = closeStore() })
				st = rs
				config = json.RawMessage(fmt.Sprintf(`{"module":"redis","addresses":[%q],"password":"s3cret"}`, addr))
			}
			// The previous release's gate: its record in the store, its
			// memory in a file named by the config whole.
			dir := t.TempDir()
			id := "EPOCHOFTHEPAST01"
			raw, _ := json.Marshal(Record{ID: id, Users: true})
			if err := st.Put(ctx, Key, raw, 0); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, fileKey(Former(config))+".json")
			if err := os.WriteFile(file, []byte(`{"epoch":"`+id+`","users":true,"updated":"2026-11-30T10:00:00Z"}`), 0o600); err != nil {
				t.Fatal(err)
			}
			wipe(t, st)
			if Identity(config) == Former(config) {
				t.Fatal("the store is named as the previous release named it")
			}
			forget(Identity(config)) // a new process: only files remember
			_, ch, err := Open(ctx, st, Options{Identity: Identity(config), Former: Former(config), Dir: dir,
				Probe: func(context.Context) (bool, error) { return false, nil }})
			if err != nil {
				t.Fatal(err)
			}
			if ch.Frozen == nil || ch.Frozen.Reason != Wiped {
				t.Fatalf("the wipe across the upgrade went unnoticed: %+v", ch)
			}
			// Remembered under the store's new name from now on.
			if raw, err := os.ReadFile(filepath.Join(dir, fileKey(Identity(config))+".json")); err != nil || !strings.Contains(string(raw), `"users":true`) {
				t.Fatalf("the memory under the store's new name: %s %v", raw, err)
			}
		})
	}
}
