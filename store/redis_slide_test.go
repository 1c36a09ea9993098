package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// BenchmarkRedisSlide: BenchmarkBadgerSlide on a Redis server. Beside
// the time a send takes (a round trip, most of it), server-µs/op is the
// server's own time in the script a send runs (INFO commandstats), and
// server-cpu-µs/op its main thread's CPU time: what a change to the
// script changes.
//
//	go test ./store -run '^$' -bench RedisSlide -benchtime 20000x
func BenchmarkRedisSlide(b *testing.B) {
	// A save rule nothing meets in a run: the store warns of none.
	addr := redistest.StartWith(b, "--save", "3600 1000000").Addr
	benchmarkSlide(b, func(b *testing.B) (store.Store, func(func())) {
		s, closeFn, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}, KeyPrefix: b.Name() + ":"})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = closeFn() })
		return s, func(run func()) { serverTime(b, s.(*store.Redis).Client(), run) }
	})
}

// benchmarkSlide: one send into a window that holds a steady number of
// sends (each send moves the clock on by the window over that number, so
// one leaves as one comes), alone and from 8 goroutines a core on one
// window, on the stores open opens, each with what runs its timed loop
// (measured: to report more than the time).
func benchmarkSlide(b *testing.B, open func(b *testing.B) (s store.Store, measured func(run func()))) {
	ctx := context.Background()
	for _, held := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprint("holding=", held), func(b *testing.B) {
			s, measured := open(b)
			now, step := time.Now(), time.Hour/time.Duration(held)
			for i := range held {
				if _, _, err := s.Slide(ctx, "w", fmt.Sprint("fill", i), 1<<30, time.Hour, now); err != nil {
					b.Fatal(err)
				}
				now = now.Add(step)
			}
			measured(func() {
				for i := 0; b.Loop(); i++ {
					if _, _, err := s.Slide(ctx, "w", strconv.Itoa(i), 1<<30, time.Hour, now); err != nil {
						b.Fatal(err)
					}
					now = now.Add(step)
				}
			})
		})
	}
	b.Run("parallel", func(b *testing.B) {
		s, measured := open(b)
		var n, failed atomic.Int64
		b.SetParallelism(8)
		measured(func() {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if _, _, err := s.Slide(ctx, "w", strconv.FormatInt(i, 10), 1<<30, time.Hour, time.Now()); err != nil {
						failed.Add(1)
					}
				}
			})
		})
		b.ReportMetric(float64(failed.Load())/float64(b.N), "failed/op")
	})
}

// serverTime runs run and reports the server's time per script call in
// it (server-µs/op: EVALSHA's usec over its calls, counted from a reset),
// and the CPU time of the server's main thread per call (server-cpu-µs/op:
// INFO cpu, which a busy machine's other processes do not inflate).
func serverTime(b *testing.B, c redis.UniversalClient, run func()) {
	if err := c.ConfigResetStat(context.Background()).Err(); err != nil {
		b.Fatal(err)
	}
	cpu := mainThreadCPU(b, c)
	run()
	cpu = mainThreadCPU(b, c) - cpu
	if s := commandStats(b, c)["evalsha"]; s.calls > 0 {
		b.ReportMetric(s.usec/s.calls, "server-µs/op")
		b.ReportMetric(cpu*1e6/s.calls, "server-cpu-µs/op")
	}
}

// mainThreadCPU is the CPU time, in s, the server's main thread has used
// (INFO cpu: user and system).
func mainThreadCPU(t testing.TB, c redis.UniversalClient) float64 {
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for line := range strings.Lines(info) {
		name, value, _ := strings.Cut(strings.TrimSpace(line), ":")
		if name == "used_cpu_user_main_thread" || name == "used_cpu_sys_main_thread" {
			v, _ := strconv.ParseFloat(value, 64)
			total += v
		}
	}
	return total
}

// commandStat is a command's calls, and the server's time in them, in
// µs, since the last reset (INFO commandstats): of commands a script
// calls too.
type commandStat struct{ calls, usec float64 }

// commandStats is the server's commandStat of each command it ran.
func commandStats(t testing.TB, c redis.UniversalClient) map[string]commandStat {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	stats := map[string]commandStat{}
	for line := range strings.Lines(info) {
		name, fields, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd {
			continue
		}
		var s commandStat
		for field := range strings.SplitSeq(fields, ",") {
			key, value, _ := strings.Cut(field, "=")
			switch key {
			case "calls":
				s.calls, _ = strconv.ParseFloat(value, 64)
			case "usec":
				s.usec, _ = strconv.ParseFloat(value, 64)
			}
		}
		stats[name] = s
	}
	return stats
}

// TestTheMendingIsPaidAtTheFirstTouch: a window's mending for the
// previous release (a window it wrote has no "~keep": Slide's script
// asks its expiry once) is paid at its first count only. Later counts
// read "~keep" and "~until" in one ZMSCORE and set the expiry without
// asking it (Redis INFO commandstats, counting the commands a script
// runs). Before, every count asked ZSCORE twice and PTTL twice.
func TestTheMendingIsPaidAtTheFirstTouch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, closeFn, err := store.OpenRedis(&store.Redis{Addresses: []string{redistest.Server(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeFn() })
	c := s.(*store.Redis).Client()
	now := time.Unix(1_800_000_000, 0)
	for i := range 11 {
		if i == 1 {
			if err := c.ConfigResetStat(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if ok, _, err := s.Slide(ctx, "limit/ip/192.0.2.3", strconv.Itoa(i), 100, time.Hour, now.Add(time.Duration(i)*time.Second)); err != nil || !ok {
			t.Fatalf("count %d: %v %v", i, ok, err)
		}
	}
	stats := commandStats(t, c)
	if stats["pttl"].calls != 0 || stats["zscore"].calls != 0 || stats["zmscore"].calls != 10 {
		t.Errorf("10 counts after the first asked PTTL %v times, ZSCORE %v, ZMSCORE %v; want 0, 0, 10",
			stats["pttl"].calls, stats["zscore"].calls, stats["zmscore"].calls)
	}
}
