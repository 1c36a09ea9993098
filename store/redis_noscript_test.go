package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestACutNOSCRIPTIsLoadedAndRun: a server that forgot the scripts (a
// flushed cache; a replica attached since Open, promoted) answers the
// first script call NOSCRIPT, which ran nothing; a connection cut on that
// answer was an error all the same (a 503), the write not made. Where
// the server still does not know the script, the call could not have
// run: the scripts are loaded and it is made — alone (an Incr), in an
// Update's swap and in a batch — once, after another's write made between
// the answer and the cut (Watch.CutThen), which it keeps. Where another
// loaded the scripts between, the store cannot tell a NOSCRIPT from a
// call that ran: an error still, nothing sent again. One server, through
// Sentinel and on a Cluster (every key on one node: a hash tag).
func TestACutNOSCRIPTIsLoadedAndRun(t *testing.T) {
	t.Parallel()
	type setup struct {
		s, other store.Store // the store, through the proxy; another
		w        *redistest.Watch
		raw      *redis.Client // the keys' server, direct
	}
	for _, c := range []struct {
		name string
		open func(t *testing.T) setup
	}{
		{"alone", func(t *testing.T) setup {
			srv := redistest.Start(t)
			w := redistest.Watched(t, srv.Addr)
			return setup{openRedis(store.Redis{Addresses: []string{w.Addr}})(t), openRedis(store.Redis{Addresses: []string{srv.Addr}})(t), w, rawClient(t, srv.Addr)}
		}},
		{"sentinel", func(t *testing.T) setup {
			srv := redistest.Start(t)
			w := redistest.Watched(t, srv.Addr)
			sentinel := redistest.SentinelOf(t, w.Addr)
			return setup{openRedis(store.Redis{Addresses: []string{sentinel}, MasterName: redistest.MasterName})(t),
				openRedis(store.Redis{Addresses: []string{srv.Addr}})(t), w, rawClient(t, srv.Addr)}
		}},
		{"cluster", func(t *testing.T) setup {
			nodes := redistest.StartCluster(t)
			ws := redistest.WatchedCluster(t, nodes)
			s := openRedis(store.Redis{Addresses: []string{ws[0].Addr}, Cluster: true})(t)
			node, err := s.(*store.Redis).Client().(*redis.ClusterClient).MasterForKey(context.Background(), "test:{n}")
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range ws {
				if w.Addr == node.Options().Addr {
					return setup{s, openRedis(store.Redis{Addresses: nodes, Cluster: true})(t), w, rawClient(t, nodes[i])}
				}
			}
			t.Fatalf("no Watch at %s", node.Options().Addr)
			return setup{}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := c.open(t)
			// cut flushes the scripts, then makes write with its first
			// EVALSHA's connection cut once the server answered it, between
			// run in that moment on the server direct.
			cut := func(t *testing.T, between func() error, write func() error) error {
				t.Helper()
				if err := st.raw.ScriptFlush(ctx).Err(); err != nil {
					t.Fatal(err)
				}
				var betweenErr error
				var mu sync.Mutex // between runs on the proxy's goroutine
				st.w.CutThen("evalsha", func() { mu.Lock(); defer mu.Unlock(); betweenErr = between() })
				err := write()
				mu.Lock()
				defer mu.Unlock()
				if left := st.w.Uncut(); left != 0 || betweenErr != nil {
					t.Fatalf("cuts left %d, the write between: %v", left, betweenErr)
				}
				return err
			}
			t.Run("Incr", func(t *testing.T) {
				err := cut(t, func() error { return st.raw.Incr(ctx, "test:{n}count").Err() },
					func() error { _, err := st.s.Incr(ctx, "{n}count", time.Hour); return err })
				if n, _ := st.other.Counter(ctx, "{n}count"); err != nil || n != 2 {
					t.Fatalf("an Incr cut on NOSCRIPT: %v, counted %d; want no error, 2 (another's and its own)", err, n)
				}
			})
			t.Run("Update", func(t *testing.T) {
				if err := st.other.Put(ctx, "{n}rec", []byte("a"), 0); err != nil {
					t.Fatal(err)
				}
				err := cut(t, func() error { return st.raw.Set(ctx, "test:{n}rec", "a2", 0).Err() },
					func() error {
						return st.s.Update(ctx, "{n}rec", func(old []byte, _ bool) ([]byte, time.Duration, error) {
							return append(old, "+b"...), 0, nil
						})
					})
				if got, _ := st.other.Get(ctx, "{n}rec"); err != nil || string(got) != "a2+b" {
					t.Fatalf("an Update cut on NOSCRIPT: %v, left %q; want no error, a2+b", err, got)
				}
			})
			t.Run("Batch", func(t *testing.T) {
				if err := st.other.Put(ctx, "{n}read", []byte("r"), 0); err != nil {
					t.Fatal(err)
				}
				var b store.Batch
				read := b.Get("{n}read") // answered before the cut, and sent again
				count := b.Incr("{n}batched", time.Hour)
				err := cut(t, func() error { return st.raw.Incr(ctx, "test:{n}batched").Err() },
					func() error { return store.Do(ctx, st.s, &b) })
				if n, _ := st.other.Counter(ctx, "{n}batched"); err != nil || count.Err != nil || n != 2 || count.N != 2 || string(read.Value) != "r" {
					t.Fatalf("a batch's Incr cut on NOSCRIPT: %v (%v, %d), counted %d, read %q; want no error, 2, r", err, count.Err, count.N, n, read.Value)
				}
			})
			t.Run("LoadedBetween", func(t *testing.T) {
				err := cut(t, func() error { _, err := st.other.Incr(ctx, "{n}elsewhere", time.Hour); return err },
					func() error { _, err := st.s.Incr(ctx, "{n}unsure", time.Hour); return err })
				if n, _ := st.other.Counter(ctx, "{n}unsure"); err == nil || n != 0 {
					t.Fatalf("an Incr cut on NOSCRIPT, the scripts loaded by another between: %v, counted %d; want an error, 0 (not sent again)", err, n)
				}
				var answer redis.Error
				if errors.As(err, &answer) {
					t.Fatalf("the error is an answer (%v), want the lost connection's", err)
				}
			})
		})
	}
}

// rawClient is a go-redis client of the server at addr, closed at the end.
func rawClient(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
