package redistest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Junk fills a Redis of maxmemory and noeviction (StartWith's args) until
// it refuses writes with OOM, for a test of what a gate does then, and
// frees it again.
type Junk struct {
	C       *redis.Client
	written []string
	held    string // maxmemory before Hold, "" when not held
}

// Fill writes "junk:N" keys through j.C until Redis refuses one with
// OOM: values of 2,000 bytes, then of one byte, so it is full for small
// writes too. Called again, it fills what was freed since. Any other
// error fails t.
func (j *Junk) Fill(t testing.TB, ctx context.Context) {
	t.Helper()
	for _, v := range []string{strings.Repeat("x", 2000), "x"} {
		for i := len(j.written); ; i++ {
			k := fmt.Sprintf("junk:%d", i)
			if err := j.C.Set(ctx, k, v, 0).Err(); err != nil {
				if !strings.Contains(err.Error(), "OOM") {
					t.Fatal(err)
				}
				break
			}
			j.written = append(j.written, k)
		}
	}
}

// Hold keeps Redis full whatever it frees on its own: a Redis filled to
// the brim takes a small write again a moment later (its cron shrinks a
// client's query buffer, a key expires: some kilobytes), so a test that
// meant to meet a full Redis sometimes met one that took its write
// (TestASignOutOnAFullRedisIsToldOrReachesAnotherInstance took the 200
// path so). Hold lowers maxmemory to one byte, under what Redis holds
// whatever it frees, so every command that may use memory is refused with
// OOM (noeviction) until Free; reads and deletes still run.
func (j *Junk) Hold(t testing.TB, ctx context.Context) {
	t.Helper()
	was, err := j.C.ConfigGet(ctx, "maxmemory").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := j.C.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	j.held = was["maxmemory"]
}

// Drop deletes n of the keys Fill wrote (memory freed while Redis is
// held full: Hold's proof).
func (j *Junk) Drop(t testing.TB, ctx context.Context, n int) {
	t.Helper()
	n = min(n, len(j.written))
	if err := j.C.Del(ctx, j.written[len(j.written)-n:]...).Err(); err != nil {
		t.Fatal(err)
	}
	j.written = j.written[:len(j.written)-n]
}

// Free gives back what Hold took, and deletes every key Fill wrote.
func (j *Junk) Free(t testing.TB, ctx context.Context) {
	t.Helper()
	if j.held != "" {
		if err := j.C.ConfigSet(ctx, "maxmemory", j.held).Err(); err != nil {
			t.Fatal(err)
		}
		j.held = ""
	}
	for len(j.written) > 0 {
		n := min(500, len(j.written))
		if err := j.C.Del(ctx, j.written[:n]...).Err(); err != nil {
			t.Fatal(err)
		}
		j.written = j.written[n:]
	}
}
