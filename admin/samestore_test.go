package admin

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/store"
)

// A probe the store fails is logged once per pair, naming the stores by
// where they are, never by their passwords (review14 M1: the whole store
// config, Redis password included, went to Caddy's log at every admin
// request while the store was away).
func TestAFailedStoreProbeLogsNoPasswordAndOnce(t *testing.T) {
	t.Parallel()
	st, closeStore, err := store.OpenBadger(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := closeStore(); err != nil { // a closed store fails the probe
		t.Fatal(err)
	}
	core, logs := observer.New(zap.WarnLevel)
	site := func(config string) *Site {
		return &Site{Config: Config{StoreConfig: json.RawMessage(config)}, Store: st, Logger: zap.New(core)}
	}
	s := site(`{"module":"redis","addresses":["127.0.0.1:6379"],"password":"s3cr3t-redis-pw","sentinel_password":"s3cr3t-sentinel-pw"}`)
	g := site(`{"module":"redis","addresses":["localhost:6379"],"username":"u","password":"s3cr3t-redis-pw"}`)
	a := &App{}
	for range 3 {
		if !a.oneStore(s, g) {
			t.Fatal("a failed probe took the stores as two; want one, as the epoch records say")
		}
	}
	if logs.Len() != 1 {
		t.Errorf("%d warnings for three failed probes of one pair; want 1", logs.Len())
	}
	for _, entry := range logs.All() {
		line, _ := json.Marshal(entry.ContextMap())
		for _, secret := range []string{"s3cr3t", `"u"`} {
			if strings.Contains(string(line), secret) {
				t.Errorf("the probe's warning holds a credential (%s): %s", secret, line)
			}
		}
		if !strings.Contains(string(line), "127.0.0.1:6379") || !strings.Contains(string(line), "localhost:6379") {
			t.Errorf("the warning names neither store's address: %s", line)
		}
	}
}
