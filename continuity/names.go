package continuity

import (
	"encoding/json"
	"path/filepath"

	"github.com/caddyserver/caddy/v2"
)

// Identity names a store by its config (canonical JSON; none is the
// default Badger store), so that the gates' memory of it survives restarts
// and the CLI on a stopped Caddy finds the same memory.
func Identity(storeConfig json.RawMessage) string {
	if storeConfig == nil {
		storeConfig = json.RawMessage(`{"module":"badger"}`)
	}
	var v any
	if json.Unmarshal(storeConfig, &v) != nil {
		return string(storeConfig)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// Describe names a store for a log line: its module and where it is
// (addresses, master, database, prefix, folder), never its credentials —
// Identity holds the config whole, passwords and all.
func Describe(storeConfig json.RawMessage) string {
	var all map[string]json.RawMessage
	if storeConfig == nil || json.Unmarshal(storeConfig, &all) != nil {
		return Identity(nil)
	}
	kept := map[string]json.RawMessage{}
	for _, k := range []string{"module", "addresses", "master_name", "cluster", "db", "key_prefix", "path"} {
		if v, ok := all[k]; ok {
			kept[k] = v
		}
	}
	out, _ := json.Marshal(kept)
	return string(out)
}

// Dir is where gates remember the stores they have seen: in Caddy's data
// directory, beside (never inside) the Badger store's folder.
func Dir() string { return filepath.Join(caddy.AppDataDir(), "smsgate-continuity") }
