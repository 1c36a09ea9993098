//go:build !linux

package caddymodule

import "time"

// threadCPU is not read here (see cputime_linux_test.go).
func threadCPU() (time.Duration, bool) { return 0, false }

// processCPU is not read here (see cputime_linux_test.go).
func processCPU() (time.Duration, bool) { return 0, false }
