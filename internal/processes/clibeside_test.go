package processes

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestTheCLIOnTheStoreEndsARunningInstancesSession (attack14, held): an
// instance runs on Redis; the admin, on a machine whose Caddy is stopped,
// removes the phone a thief signed in with there (the CLI on the store
// itself, --config, its admin endpoint not answering). The running
// instance refuses the thief's session within its look at the store's
// ends, as it does another instance's removal.
func TestTheCLIOnTheStoreEndsARunningInstancesSession(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, adminAddr, config := adminCaddy(t, dir, "", "redis "+redistest.Server(t))
	out, err := runInProcess(t, "smsgate", "add", "--realm", "localhost", "--user", "ivy", "--phone", "+14155552671", "--address", adminAddr)
	m := regexp.MustCompile(`"id":\s*"([^"]+)"`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	thief := newBrowser(t, "")
	if st, body := signInPair(thief, s, s, "ivy"); st != http.StatusSeeOther {
		t.Fatalf("the thief's sign-in: %d\n%s", st, body)
	}
	if st, _, body := thief.do("GET", s.base+"/", nil); st != http.StatusOK {
		t.Fatalf("the thief's session: %d %q", st, body)
	}
	stopped := fmt.Sprintf("localhost:%d", harness.Port(t)) // nothing answers there
	out, err = runInProcess(t, "smsgate", "remove-device", "--realm", "localhost", "--user", "ivy", "--id", m[1], "--address", stopped, "--config", config)
	if err != nil || !strings.Contains(out, "working on the store directly") {
		t.Fatalf("remove-device on the store: %v\n%s", err, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, _, body := thief.do("GET", s.base+"/", nil)
		if st != http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the thief's session on the running instance, 15 s after the phone's removal on the store: %d %q", st, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
