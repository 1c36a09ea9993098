package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// second is one second of a run: the attempts answered in it, and the CPU
// time Caddy spent in it, in all and per attempt.
type second struct {
	At         int     `json:"s"`
	Answered   int     `json:"answered"`
	CPUms      float64 `json:"cpu_ms"`
	CPUPerSign float64 `json:"cpu_ms_per_attempt"`
}

// cpuClock reads a process's CPU time (user + system, from /proc) at every
// whole second since start.
type cpuClock struct {
	pid   int
	mu    sync.Mutex
	ticks []float64 // at 0 s, 1 s, 2 s…
	done  chan struct{}
	over  sync.WaitGroup
}

// userHZ is Linux's USER_HZ, the unit of /proc's CPU times (getconf
// CLK_TCK): 100 on every platform Go runs Linux on.
const userHZ = 100

func cpuTime(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil || strings.LastIndexByte(string(raw), ')') < 0 {
		return 0
	}
	// Fields after the command name (in parentheses, which may hold spaces).
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / userHZ
}

func clockCPU(pid int, start time.Time) *cpuClock {
	c := &cpuClock{pid: pid, ticks: []float64{cpuTime(pid)}, done: make(chan struct{})}
	c.over.Go(func() {
		for k := 1; ; k++ {
			select {
			case <-c.done:
				return
			case <-time.After(time.Until(start.Add(time.Duration(k) * time.Second))):
				t := cpuTime(pid)
				c.mu.Lock()
				c.ticks = append(c.ticks, t)
				c.mu.Unlock()
			}
		}
	})
	return c
}

// stop ends the clock and returns each second's figures (the last one
// ends now, before its whole second).
func (c *cpuClock) stop(answered []time.Duration) []second {
	close(c.done)
	c.over.Wait()
	c.ticks = append(c.ticks, cpuTime(c.pid))
	var out []second
	for k := 0; k+1 < len(c.ticks); k++ {
		s := second{At: k, CPUms: 1000 * (c.ticks[k+1] - c.ticks[k])}
		for _, at := range answered {
			if at >= time.Duration(k)*time.Second && at < time.Duration(k+1)*time.Second {
				s.Answered++
			}
		}
		if s.Answered > 0 {
			s.CPUPerSign = s.CPUms / float64(s.Answered)
		}
		out = append(out, s)
	}
	return out
}
