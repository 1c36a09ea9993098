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

// Free deletes every key Fill wrote.
func (j *Junk) Free(t testing.TB, ctx context.Context) {
	t.Helper()
	for len(j.written) > 0 {
		n := min(500, len(j.written))
		if err := j.C.Del(ctx, j.written[:n]...).Err(); err != nil {
			t.Fatal(err)
		}
		j.written = j.written[n:]
	}
}
