package harness

import (
	"bytes"
	"os/exec"
)

// CombinedOutput is cmd.CombinedOutput with cmd started by StartGroup: a
// script or a `go run`, with everything it starts, ends with it and with
// the test binary.
func CombinedOutput(cmd *exec.Cmd) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := StartGroup(cmd); err != nil {
		return nil, err
	}
	err := cmd.Wait()
	return out.Bytes(), err
}
