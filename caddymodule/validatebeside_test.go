package caddymodule_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAValidateBesideARefusedLoadRacesNothing: a test's caddy.Validate
// (sitetest.Validate) and a refused config posted to the in-process Caddy
// by a test that is parallel by t.Parallel alone (AssertLoadError) each
// set Caddy's process-wide certificate storage as they provision: at once,
// the race detector failed them (TestValidatingANewNumberEndsNothing beside
// TestConfigErrors' kind, a run at -test.parallel 8 under load). Both here
// at once.
func TestAValidateBesideARefusedLoadRacesNothing(t *testing.T) {
	t.Parallel()
	adapted, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(`{
	admin off
	skip_install_trust
}
http://localhost:1 {
	smsgate {
		identity none
		user carol +14155552671
		store badger `+t.TempDir()+`
		provider log
	}
	respond "Hello"
}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	var c caddy.Config
	if err := json.Unmarshal(adapted, &c); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Whether they race where they meet depends on which gets there
	// first: 32 times.
	for range 32 {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			// Refused at the gate's Provision, after Caddy set the storage:
			// its store's folder would be inside a file.
			sitetest.AssertLoadError(t, "http://localhost:{HTTP_PORT} {\n\tsmsgate {\n\t\tidentity none\n\t\tstore badger "+file+"/store\n\t\tprovider log\n\t}\n}", file)
		}()
		go func() {
			defer wg.Done()
			if err := sitetest.Validate(t, &c); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
	}
}
