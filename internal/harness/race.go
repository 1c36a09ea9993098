//go:build race

package harness

// raceEnabled: the binary was built with -race.
const raceEnabled = true
