package store

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// processes is each Redis server process the store has met, by its run_id
// (random, new at each start, kept across a promotion), and a time by
// which it was up (the store's clock, monotonic): learnt at Open on every
// node and again where a cut is asked about (ranNot), never on the way of
// a call. A process up by a call's send and answering after its cut was
// the one the call went to (a run_id is one process's), so its script
// cache tells whether the call ran; one that started since (a restart
// that kept its data, AOF/RDB, and forgot its scripts) may have run it.
type processes struct {
	mu   sync.Mutex
	upBy map[string]time.Time
}

// maxProcesses bounds the run_ids kept (each start of each node adds one).
const maxProcesses = 256

// learn reads run_id and uptime_in_seconds of an INFO server answer,
// answered is when the answer came, and returns the run_id and the
// earliest time the process is known up by (this answer's, or one learnt
// before); "" where the answer has no run_id.
func (p *processes) learn(info string, answered time.Time) (string, time.Time) {
	var id string
	uptime := -1
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch k {
		case "run_id":
			id = v
		case "uptime_in_seconds":
			if n, err := strconv.Atoi(v); err == nil {
				uptime = n
			}
		}
	}
	if id == "" || uptime < 0 {
		return "", time.Time{}
	}
	// The process answered, so it was up by answered; and it started by
	// answered - uptime, less 2 s: Redis counts uptime between whole
	// seconds of its own clock (time(NULL) at its start; its cached
	// unixtime), so 20 ms across a second's turn is 1.
	by := answered
	if uptime > 2 {
		by = answered.Add(-time.Duration(uptime-2) * time.Second)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.upBy == nil || len(p.upBy) >= maxProcesses {
		p.upBy = map[string]time.Time{}
	}
	if old, ok := p.upBy[id]; ok && old.Before(by) {
		by = old
	}
	p.upBy[id] = by
	return id, by
}

// learnAll learns the process of every node (a Cluster's each), at Open.
// Where one cannot be asked (INFO refused), a cut there stays an error.
func (r *Redis) learnAll(ctx context.Context) {
	ask := func(ctx context.Context, c *redis.Client) error {
		if info, err := c.Info(ctx, "server").Result(); err == nil {
			r.processes.learn(info, time.Now())
		}
		return nil
	}
	switch c := r.client.(type) {
	case *redis.ClusterClient:
		_ = c.ForEachShard(ctx, ask)
	case *redis.Client:
		_ = ask(ctx, c)
	}
}
