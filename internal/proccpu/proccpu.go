// Package proccpu is the CPU log writers' common part (sitetest's
// SMSGATE_SITETEST_CPULOG and STARTLOG, redistest's
// SMSGATE_REDISTEST_CPULOG): a child process's CPU read from /proc, and a
// line added to a log file that parallel tests share. It imports nothing
// of the module, so any test helper may use it.
package proccpu

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Millis is the CPU the process pid has spent (user and system), in ms;
// false where /proc cannot tell (not Linux, or the process is gone).
func Millis(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The fields after the command's name (which may hold spaces), in
	// brackets: utime and stime are the 14th and 15th of the line, in
	// clock ticks (10 ms).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, false
	}
	user, _ := strconv.ParseInt(f[11], 10, 64)
	system, _ := strconv.ParseInt(f[12], 10, 64)
	return (user + system) * 10, true
}

var appending sync.Mutex

// Append adds line and a newline to the file at path (made if missing),
// one writer at a time within the test binary.
func Append(path, line string) error {
	appending.Lock()
	defer appending.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
