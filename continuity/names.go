package continuity

import (
	"encoding/json"
	"path/filepath"
	"slices"

	"github.com/caddyserver/caddy/v2"
)

// Identity names a store by what names its data, so that the gates' memory
// of it survives restarts and reloads, and the CLI on a stopped Caddy finds
// the same memory: Badger's folder (absolute; none is the default one in
// Caddy's data directory), Redis's addresses, Sentinel master, cluster,
// database and key prefix (defaults filled in), with their placeholders
// replaced as the store replaces them. Options that do not name the data
// (credentials, tls) are left out: keyed by the config whole, a reload
// that changed only a password started a fresh memory, and a wipe at that
// moment went unnoticed (TestAStoreOptionChangedKeepsTheMemory). A store
// module of another kind is named by its config whole (canonical JSON).
func Identity(storeConfig json.RawMessage) string {
	var all map[string]json.RawMessage
	if storeConfig == nil {
		storeConfig = json.RawMessage(`{"module":"badger"}`)
	}
	if json.Unmarshal(storeConfig, &all) != nil {
		return Former(storeConfig)
	}
	var module string
	_ = json.Unmarshal(all["module"], &module)
	repl := caddy.NewReplacer()
	switch module {
	case "badger":
		var b struct {
			Path string `json:"path"`
		}
		if json.Unmarshal(storeConfig, &b) != nil {
			return Former(storeConfig)
		}
		path := repl.ReplaceKnown(b.Path, "")
		if b.Path == "" {
			path = filepath.Join(caddy.AppDataDir(), "smsgate")
		}
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		return canonical(map[string]any{"module": module, "path": filepath.Clean(path)})
	case "redis":
		var r struct {
			Addresses  []string `json:"addresses"`
			MasterName string   `json:"master_name"`
			Cluster    bool     `json:"cluster"`
			DB         int      `json:"db"`
			KeyPrefix  string   `json:"key_prefix"`
		}
		if json.Unmarshal(storeConfig, &r) != nil {
			return Former(storeConfig)
		}
		addrs := []string{"127.0.0.1:6379"} // the store's defaults (store.Redis.Provision)
		if len(r.Addresses) > 0 {
			addrs = make([]string, len(r.Addresses))
			for i, a := range r.Addresses {
				addrs[i] = repl.ReplaceAll(a, "")
			}
		}
		slices.Sort(addrs) // seeds, Sentinels: in any order, the same data
		if r.KeyPrefix == "" {
			r.KeyPrefix = "smsgate:"
		}
		cluster := r.Cluster || len(addrs) > 1 && r.MasterName == ""
		return canonical(map[string]any{"module": module, "addresses": addrs, "master_name": r.MasterName,
			"cluster": cluster, "db": r.DB, "key_prefix": r.KeyPrefix})
	}
	return Former(storeConfig)
}

// Former is how the previous release named a store: its config whole, in canonical JSON, credentials and all. A gate's memory written
// under it is read when none is under Identity (an upgrade), so that a
// store wiped across the upgrade is still noticed.
func Former(storeConfig json.RawMessage) string {
	if storeConfig == nil {
		storeConfig = json.RawMessage(`{"module":"badger"}`)
	}
	var v any
	if json.Unmarshal(storeConfig, &v) != nil {
		return string(storeConfig)
	}
	return canonical(v)
}

func canonical(v any) string {
	out, _ := json.Marshal(v)
	return string(out)
}

// Describe names a store for a log line: its module and where it is
// (addresses, master, database, prefix, folder), never its credentials,
// as written in the config (placeholders and all).
func Describe(storeConfig json.RawMessage) string {
	var all map[string]json.RawMessage
	if storeConfig == nil || json.Unmarshal(storeConfig, &all) != nil {
		return Former(nil)
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
