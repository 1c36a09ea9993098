package harness

import (
	"flag"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ChildEnv is this process's environment plus env, for a child that is a
// test binary built with -race (a Caddy the test starts as a process): its
// GORACE gains atexit_sleep_ms=0. A race-enabled program otherwise sleeps
// a second as it exits, which a test that starts and stops many such
// processes pays each time. Its race reports still go to its stderr
// (RaceIn finds them).
//
// Unless GOGC is set (here or in env), the child's is childGOGC: a test's
// Caddy lives seconds and its heap is small, and at the default (100)
// collecting it cost 7% of the CPU of the process tests (then in cmd/caddy), whose
// children are most of it. Races are found as before: the collector is
// no part of the race detector.
func ChildEnv(env ...string) []string {
	out := append(append(os.Environ(), env...), RaceEnv())
	if !slices.ContainsFunc(out, func(kv string) bool { return strings.HasPrefix(kv, "GOGC=") }) {
		out = append(out, "GOGC="+childGOGC)
	}
	return out
}

// childGOGC is a child's GOGC when none is set: a collection when its heap
// has grown fivefold since the last one, not twofold. The largest child of
// the process tests (then in cmd/caddy) peaked at about 500 MB (250 MB at the default).
const childGOGC = "400"

// RaceEnv is ChildEnv's GORACE entry alone: this process's GORACE (if any)
// and atexit_sleep_ms=0.
func RaceEnv() string {
	return "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")
}

// RaceIn reports whether a race-enabled child's output holds a race
// report: a child's races fail the test that started it, as the test's
// own do.
func RaceIn(output []byte) bool { return strings.Contains(string(output), "WARNING: DATA RACE") }

// Parallel sets -test.parallel to n unless the command line set it, from
// a TestMain (before m.Run). It is for a package whose tests mostly wait —
// on processes they start, on a store's expiry — rather than compute: by
// default only GOMAXPROCS of its parallel tests run at once, and on a
// 2-core machine the CPUs would sit idle.
func Parallel(n int) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(n))
	}
}
