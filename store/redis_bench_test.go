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

// BenchmarkRedisSlide: BenchmarkBadgerSlide on a Redis server: one send
// into a window that holds a steady number of sends, alone and from every
// core on one window. Beside the time a send takes (a round trip, most
// of it), server-µs/op is the server's own time in the script a send
// runs (INFO commandstats), what a change to the script changes.
//
//	go test ./store -run '^$' -bench RedisSlide -benchtime 20000x
func BenchmarkRedisSlide(b *testing.B) {
	// A save rule nothing meets in a run: the store warns of none.
	ctx, addr := context.Background(), redistest.StartWith(b, "--save", "3600 1000000").Addr
	open := func(b *testing.B) (store.Store, redis.UniversalClient) {
		s, closeFn, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}, KeyPrefix: b.Name() + ":"})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = closeFn() })
		return s, s.(*store.Redis).Client()
	}
	for _, held := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprint("holding=", held), func(b *testing.B) {
			s, c := open(b)
			now, step := time.Now(), time.Hour/time.Duration(held)
			for i := range held {
				if _, _, err := s.Slide(ctx, "w", fmt.Sprint("fill", i), 1<<30, time.Hour, now); err != nil {
					b.Fatal(err)
				}
				now = now.Add(step)
			}
			serverTime(b, c, func() {
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
		s, c := open(b)
		var n, failed atomic.Int64
		b.SetParallelism(8)
		serverTime(b, c, func() {
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
// it (server-µs/op: EVALSHA's usec over its calls, counted from a reset).
func serverTime(b *testing.B, c redis.UniversalClient, run func()) {
	ctx := context.Background()
	if err := c.ConfigResetStat(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	run()
	info, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(info) {
		stats, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_evalsha:")
		if !ok {
			continue
		}
		var calls, usec float64
		for field := range strings.SplitSeq(stats, ",") {
			name, value, _ := strings.Cut(field, "=")
			switch name {
			case "calls":
				calls, _ = strconv.ParseFloat(value, 64)
			case "usec":
				usec, _ = strconv.ParseFloat(value, 64)
			}
		}
		if calls > 0 {
			b.ReportMetric(usec/calls, "server-µs/op")
		}
	}
}
