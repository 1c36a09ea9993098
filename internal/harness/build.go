package harness

import (
	"crypto/sha256"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"
)

// BuildCaddy puts cmd/caddy's build (Caddy's standard modules and the
// gate, without the race detector) in dir, from the module in root, as
// `go run` with cp as its runner links it: kept in Go's build cache, so
// the next build copies it instead of linking Caddy again. env is the go
// command's environment (nil: this process's). One build at a time
// across the test binaries of a run (internal/processes, bench/soak,
// bench's smoke test, held by an abstract socket as the ports are, named
// for the module's folder, so other checkouts' builds go on): two
// go commands building the same program at once each do all of the work,
// as Go's cache shares no work in progress — after a change in the gate,
// 7–18 s of CPU each, which made bench/soak swing from 10 s to 37 s in the
// suite. The second waits, then copies the first's from the cache.
func BuildCaddy(root, dir string, env []string) error {
	abs, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(abs)) // a name short enough for a socket's
	release := waitLock(fmt.Sprintf("go-run-cmd-caddy-%x", sum[:8]))
	defer release()
	cmd := exec.Command("go", "run", "-exec", "cp -t '"+dir+"'", "./cmd/caddy")
	cmd.Dir = root
	cmd.Env = env
	if out, err := CombinedOutput(cmd); err != nil {
		return fmt.Errorf("go run ./cmd/caddy: %v\n%s", err, out)
	}
	return nil
}

// waitLock holds name as lockName does, waiting while another holds it.
func waitLock(name string) (release func()) {
	for {
		if release, ok := lockName(name); ok {
			return release
		}
		time.Sleep(50 * time.Millisecond)
	}
}
