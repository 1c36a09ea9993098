package admin

import "testing"

// TestTheCLIProvisionsOneBaseContext (clock32 4): every store the CLI
// opens is loaded under one base context of the process, each command's
// own context cancelled when it ends (cliContext). Before, each command
// provisioned a base of its own whose cancel Caddy keeps unexported: never
// cancelled, one more per command in a process (the tests' CLI runs).
func TestTheCLIProvisionsOneBaseContext(t *testing.T) {
	for range 3 {
		ctx, cancel, err := cliContext()
		if err != nil {
			t.Fatal(err)
		}
		if ctx.Logger() == nil {
			t.Fatal("no logger")
		}
		cancel()
		if ctx.Err() == nil {
			t.Error("the command's context not cancelled")
		}
	}
	cliBaseMu.Lock()
	defer cliBaseMu.Unlock()
	if cliBases != 1 {
		t.Errorf("%d base contexts provisioned for three commands; want 1", cliBases)
	}
}
