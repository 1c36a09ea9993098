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

// Dir is where gates remember the stores they have seen: in Caddy's data
// directory, beside (never inside) the Badger store's folder.
func Dir() string { return filepath.Join(caddy.AppDataDir(), "smsgate-continuity") }
