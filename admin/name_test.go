package admin

import "testing"

// TestCheckNameRefusesANameNoFormTakes: a login form trims the name typed
// into it, so an invite or a phone for " alice" could never be used; the
// admin's tools refuse it as they refuse a name no gate admits.
func TestCheckNameRefusesANameNoFormTakes(t *testing.T) {
	t.Parallel()
	for _, name := range []string{" alice", "alice ", "alice\t"} {
		if checkName(name) == nil {
			t.Errorf("checkName(%q) took it", name)
		}
	}
	for _, name := range []string{"alice", "alice smith", "ålice"} {
		if err := checkName(name); err != nil {
			t.Errorf("checkName(%q): %v", name, err)
		}
	}
}
