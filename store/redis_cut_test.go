package store_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// cutCase is one write whose connection a proxy cuts once the server
// made it, before the store heard so (Watch.Cut): cmd is the command
// cut; write makes it through the proxy (after set, on the store
// direct), and check reads through direct what it left. between, where
// set, is another's write on direct, made after the server made the cut
// command and before the store hears of the cut (Watch.CutThen): what a
// command sent again would undo.
type cutCase struct {
	name, cmd string
	set       func(t *testing.T, direct store.Store)
	write     func(ctx context.Context, s store.Store) error
	between   func(direct store.Store) error
	check     func(t *testing.T, direct store.Store, err error)
}

// TestACutWriteIsMadeOnce cuts each kind of write's connection after the
// server made it: go-redis sends a command again on a new connection when
// its answer did not come (MaxRetries), which made a counter count twice,
// an Update's change twice, and told a PutIfAbsent, a Take, a claim and a
// sliding window's count their own write as another's; and a SET, a DEL
// or KeepLonger sent again undid another's write made between the two
// sends. Each is made once, and is either told as made or is an error
// (its outcome unknown), never the opposite of what happened; MULTI/EXEC
// never was sent again after its sending (PutAll).
func TestACutWriteIsMadeOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	w := redistest.Watched(t, srv.Addr)
	s := openRedis(store.Redis{Addresses: []string{w.Addr}})(t)
	direct := openRedis(store.Redis{Addresses: []string{srv.Addr}})(t)
	runCuts(t, s, direct, w)
}

// TestACutWriteIsMadeOnceThroughSentinel: the same where the client asks
// a Sentinel for the master (go-redis's failover client: a server's
// client, which the Sentinel's answer dials).
func TestACutWriteIsMadeOnceThroughSentinel(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	w := redistest.Watched(t, srv.Addr)
	sentinel := redistest.SentinelOf(t, w.Addr)
	s := openRedis(store.Redis{Addresses: []string{sentinel}, MasterName: redistest.MasterName})(t)
	direct := openRedis(store.Redis{Addresses: []string{srv.Addr}})(t)
	runCuts(t, s, direct, w)
}

// TestACutWriteIsMadeOnceOnACluster: the same on a three-master Cluster,
// every node behind a proxy (go-redis's Cluster client: its own tries
// around a command, and a node's share of a pipeline sent again).
func TestACutWriteIsMadeOnceOnACluster(t *testing.T) {
	t.Parallel()
	nodes := redistest.StartCluster(t)
	ws := redistest.WatchedCluster(t, nodes)
	s := openRedis(store.Redis{Addresses: []string{ws[0].Addr}, Cluster: true})(t)
	direct := openRedis(store.Redis{Addresses: nodes, Cluster: true})(t) // told the Watches too: cut nothing while it reads
	runCuts(t, s, direct, ws...)
}

// runCuts makes each cut case's write on s, its command cut once by the
// Watch in front of the server it goes to (one of ws), and checks it
// through direct.
func runCuts(t *testing.T, s, direct store.Store, ws ...*redistest.Watch) {
	for _, c := range cutCases() {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			if _, cluster := s.(*store.Redis).Client().(*redis.ClusterClient); cluster && c.name == "PutAll" {
				t.Skip("no MULTI/EXEC on a Cluster (ErrNoTransaction)")
			}
			if c.set != nil {
				c.set(t, direct)
			}
			left, ran := 0, false
			var betweenErr error
			var mu sync.Mutex // between runs on the proxy's goroutine
			for _, w := range ws {
				if c.between == nil {
					w.Cut(c.cmd, 1)
					continue
				}
				w.CutThen(c.cmd, func() {
					mu.Lock()
					defer mu.Unlock()
					for _, w := range ws { // direct's write may pass a Watch (a Cluster's): cut nothing more
						left += w.Uncut()
					}
					ran, betweenErr = true, c.between(direct)
				})
			}
			err := c.write(ctx, s)
			mu.Lock()
			defer mu.Unlock()
			for _, w := range ws {
				left += w.Uncut()
			}
			if left != len(ws)-1 {
				t.Fatalf("%d cuts made of %s, want 1", len(ws)-left, c.cmd)
			}
			if c.between != nil && (!ran || betweenErr != nil) {
				t.Fatalf("the write between: ran %v, %v", ran, betweenErr)
			}
			c.check(t, direct, err)
		})
	}
}

func cutCases() []cutCase {
	var wrote, ok bool
	var taken []byte
	var claim *store.Op
	var held map[string][]byte
	var swapped *store.Op
	// guarded is ctx of a lasting change let in on "revoked" holding
	// nothing, as a session's change is (a Guard).
	guarded := func(ctx context.Context, s store.Store) (context.Context, error) {
		var b store.Batch
		read := b.Get("revoked")
		if err := store.Do(ctx, s, &b); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return store.Lasting(store.WithGuard(ctx, store.NewGuard(read))), nil
	}
	put := func(key, value string) func(*testing.T, store.Store) {
		return func(t *testing.T, direct store.Store) {
			if err := direct.Put(context.Background(), key, []byte(value), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	holds := func(t *testing.T, direct store.Store, key, want string) {
		t.Helper()
		got, err := direct.Get(context.Background(), key)
		if err != nil || string(got) != want {
			t.Fatalf("%s holds %q (%v), want %q", key, got, err, want)
		}
	}
	return []cutCase{{
		name: "Incr", cmd: "evalsha",
		write: func(ctx context.Context, s store.Store) error { _, err := s.Incr(ctx, "incr", time.Hour); return err },
		check: func(t *testing.T, direct store.Store, err error) {
			if n, _ := direct.Counter(context.Background(), "incr"); n != 1 {
				t.Fatalf("one Incr counted %d times (err %v)", n, err)
			}
		},
	}, {
		name: "Update", cmd: "evalsha", set: put("list", "a"),
		write: func(ctx context.Context, s store.Store) error {
			return s.Update(ctx, "list", func(old []byte, _ bool) ([]byte, time.Duration, error) {
				return append(bytes.Clone(old), "+b"...), 0, nil
			})
		},
		check: func(t *testing.T, direct store.Store, err error) { holds(t, direct, "list", "a+b") },
	}, {
		name: "PutIfAbsent", cmd: "set",
		write: func(ctx context.Context, s store.Store) (err error) {
			wrote, err = s.PutIfAbsent(ctx, "mine", []byte("v"), time.Hour)
			return err
		},
		check: func(t *testing.T, direct store.Store, err error) {
			holds(t, direct, "mine", "v")
			if err == nil && !wrote {
				t.Fatal("its own write told as another's (wrote false, no error)")
			}
		},
	}, {
		name: "Take", cmd: "getdel", set: put("once", "code"),
		write: func(ctx context.Context, s store.Store) (err error) {
			taken, err = s.Take(ctx, "once")
			return err
		},
		check: func(t *testing.T, direct store.Store, err error) {
			if _, e := direct.Get(context.Background(), "once"); !errors.Is(e, store.ErrNotFound) {
				t.Fatalf("not taken: %v", e)
			}
			if errors.Is(err, store.ErrNotFound) || err == nil && string(taken) != "code" {
				t.Fatalf("the record it took told as none there: %q, %v", taken, err)
			}
		},
	}, {
		name: "Slide", cmd: "evalsha",
		write: func(ctx context.Context, s store.Store) (err error) {
			ok, _, err = s.Slide(ctx, "window", "event", 1, time.Hour, time.Now())
			return err
		},
		check: func(t *testing.T, direct store.Store, err error) {
			if err != nil || !ok {
				t.Fatalf("its own event told as a full window: ok %v, %v", ok, err)
			}
			if again, _, _ := direct.Slide(context.Background(), "window", "other", 1, time.Hour, time.Now()); again {
				t.Fatal("the event was not counted")
			}
		},
	}, {
		name: "Claim", cmd: "evalsha", set: put("claimed", "free"),
		write: func(ctx context.Context, s store.Store) error {
			var b store.Batch
			read := b.Get("claimed")
			if err := store.Do(ctx, s, &b); err != nil {
				return err
			}
			var c store.Batch
			claim = c.Claim(store.Swap{Key: "claimed", Read: read, Value: []byte("taken")})
			return store.Do(ctx, s, &c)
		},
		check: func(t *testing.T, direct store.Store, err error) {
			holds(t, direct, "claimed", "taken")
			if claim.Err == nil && !claim.OK {
				t.Fatal("the claim it won told as lost")
			}
		},
	}, {
		name: "BatchIncr", cmd: "evalsha",
		write: func(ctx context.Context, s store.Store) error {
			var b store.Batch
			b.Get("nothing")
			b.Incr("batch", time.Hour)
			return store.Do(ctx, s, &b)
		},
		check: func(t *testing.T, direct store.Store, err error) {
			if n, _ := direct.Counter(context.Background(), "batch"); n != 1 {
				t.Fatalf("a batch's Incr counted %d times (err %v)", n, err)
			}
		},
	}, {
		name: "GuardedUpdate", cmd: "evalsha", set: put("guarded", "a"),
		write: func(ctx context.Context, s store.Store) error {
			ctx, err := guarded(ctx, s)
			if err != nil {
				return err
			}
			return s.Update(ctx, "guarded", func(old []byte, _ bool) ([]byte, time.Duration, error) {
				return append(bytes.Clone(old), "+b"...), 0, nil
			})
		},
		check: func(t *testing.T, direct store.Store, err error) { holds(t, direct, "guarded", "a+b") },
	}, {
		// Its script is known to the server from the store's Open: the cut
		// EVALSHA is the batch's, not one answered NOSCRIPT, which ran
		// nothing (before, the server learnt it from its first EVAL).
		name: "GuardedBatch", cmd: "evalsha", set: put("batched", "a"),
		write: func(ctx context.Context, s store.Store) error { return batchSwap(ctx, s, guarded, "batched", &swapped) },
		check: func(t *testing.T, direct store.Store, err error) {
			holds(t, direct, "batched", "a+b")
			if swapped.Err == nil && !swapped.OK {
				t.Fatal("the guarded batch's swap it made told as lost")
			}
		},
	}, {
		name: "Put", cmd: "set",
		write: func(ctx context.Context, s store.Store) error { return s.Put(ctx, "plain", []byte("v"), 0) },
		check: func(t *testing.T, direct store.Store, err error) { holds(t, direct, "plain", "v") },
	}, {
		// A SET sent again after another's write undid it: a device record
		// another request changed meanwhile.
		name: "PutOverAnother", cmd: "set",
		write:   func(ctx context.Context, s store.Store) error { return s.Put(ctx, "device", []byte("mine"), 0) },
		between: func(direct store.Store) error { return direct.Put(context.Background(), "device", []byte("theirs"), 0) },
		check:   func(t *testing.T, direct store.Store, err error) { holds(t, direct, "device", "theirs") },
	}, {
		name: "BatchPutOverAnother", cmd: "set",
		write: func(ctx context.Context, s store.Store) error {
			var b store.Batch
			b.Get("nothing")
			b.Put("batched-device", []byte("mine"), 0)
			return store.Do(ctx, s, &b)
		},
		between: func(direct store.Store) error {
			return direct.Put(context.Background(), "batched-device", []byte("theirs"), 0)
		},
		check: func(t *testing.T, direct store.Store, err error) { holds(t, direct, "batched-device", "theirs") },
	}, {
		// A DEL sent again deleted the record another wrote meanwhile.
		name: "DeleteOverAnother", cmd: "del", set: put("gone", "old"),
		write:   func(ctx context.Context, s store.Store) error { return s.Delete(ctx, "gone") },
		between: func(direct store.Store) error { return direct.Put(context.Background(), "gone", []byte("new"), 0) },
		check:   func(t *testing.T, direct store.Store, err error) { holds(t, direct, "gone", "new") },
	}, {
		// A window's DEL sent again dropped an event counted meanwhile: a
		// limit let one more through.
		name: "ClearWindowOverAnother", cmd: "del",
		set: func(t *testing.T, direct store.Store) {
			if ok, _, err := direct.Slide(context.Background(), "cleared", "a", 2, time.Hour, time.Now()); !ok || err != nil {
				t.Fatal(ok, err)
			}
		},
		write: func(ctx context.Context, s store.Store) error { return s.ClearWindow(ctx, "cleared") },
		between: func(direct store.Store) error {
			_, _, err := direct.Slide(context.Background(), "cleared", "b", 2, time.Hour, time.Now())
			return err
		},
		check: func(t *testing.T, direct store.Store, err error) {
			if ok, _, _ := direct.Slide(context.Background(), "cleared", "c", 1, time.Hour, time.Now()); ok {
				t.Fatalf("the event counted after the clear was dropped (err %v)", err)
			}
		},
	}, {
		// KeepLonger's script is known from the store's Open, as
		// GuardedBatch's: the cut EVALSHA made it.
		name: "KeepLonger", cmd: "evalsha",
		write: func(ctx context.Context, s store.Store) (err error) {
			wrote, err = store.KeepLonger(ctx, s, "kept", []byte("v"), time.Hour)
			return err
		},
		check: func(t *testing.T, direct store.Store, err error) {
			holds(t, direct, "kept", "v")
			if err == nil && !wrote {
				t.Fatal("its own write told as not made")
			}
		},
	}, {
		// Sent again after another ended the record, it made it again.
		name: "KeepLongerOverAnEnd", cmd: "evalsha",
		write: func(ctx context.Context, s store.Store) error {
			_, err := store.KeepLonger(ctx, s, "ended", []byte("v"), time.Hour)
			return err
		},
		between: func(direct store.Store) error { return direct.Delete(context.Background(), "ended") },
		check: func(t *testing.T, direct store.Store, err error) {
			if _, e := direct.Get(context.Background(), "ended"); !errors.Is(e, store.ErrNotFound) {
				t.Fatalf("the record ended meanwhile was made again (%v, err %v)", e, err)
			}
		},
	}, {
		name: "PutAll", cmd: "exec", set: put("all", "old"),
		write: func(ctx context.Context, s store.Store) (err error) {
			held, err = s.(store.AllOrNothing).PutAll(ctx, map[string][]byte{"all": []byte("new")}, "all")
			return err
		},
		check: func(t *testing.T, direct store.Store, err error) {
			holds(t, direct, "all", "new")
			if err == nil && string(held["all"]) != "old" {
				t.Fatalf("MULTI/EXEC sent again: it read its own write (%q)", held["all"])
			}
		},
	}}
}

// batchSwap appends "+b" to key's record in a batch under the guard
// guarded makes, its Swap in *swapped (where swapped is not nil).
func batchSwap(ctx context.Context, s store.Store, guarded func(context.Context, store.Store) (context.Context, error), key string, swapped **store.Op) error {
	var r store.Batch
	read := r.Get(key)
	if err := store.Do(ctx, s, &r); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	ctx, err := guarded(ctx, s)
	if err != nil {
		return err
	}
	var b store.Batch
	op := b.Swap(key, read, append(bytes.Clone(read.Value), "+b"...), 0)
	if swapped != nil {
		*swapped = op
	}
	return store.Do(ctx, s, &b)
}

// TestAWriteRefusedBeforeItRanIsSentAgain: a write that goes once is
// still sent again where the server refused it before it ran (a loading
// server's LOADING, a demoted master's READONLY), as go-redis did before
// it went once; a lost connection is not tried again (TestACutWriteIsMadeOnce).
func TestAWriteRefusedBeforeItRanIsSentAgain(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	w := redistest.Watched(t, srv.Addr)
	s := openRedis(store.Redis{Addresses: []string{w.Addr}})(t)
	ctx := context.Background()
	w.Answer("evalsha", 1, "-LOADING Redis is loading the dataset in memory")
	w.Answer("evalsha", 1, "-READONLY You can't write against a read only replica.")
	if n, err := s.Incr(ctx, "counted", time.Hour); err != nil || n != 1 {
		t.Fatalf("Incr after LOADING and READONLY: %d, %v; want 1 and no error", n, err)
	}
	w.Answer("set", 3, "-LOADING Redis is loading the dataset in memory")
	if wrote, err := s.PutIfAbsent(ctx, "new", []byte("v"), 0); err != nil || !wrote {
		t.Fatalf("PutIfAbsent after three LOADING: %v, %v; want written", wrote, err)
	}
	w.Answer("evalsha", 4, "-LOADING Redis is loading the dataset in memory")
	if _, err := s.Incr(ctx, "counted", time.Hour); err == nil || !strings.HasPrefix(err.Error(), "LOADING") {
		t.Fatalf("Incr after four LOADING: %v, want LOADING (3 tries again, as go-redis's)", err)
	}
	if n, _ := s.Counter(ctx, "counted"); n != 1 {
		t.Fatalf("counted %d, want 1", n)
	}
	// A batch's pipeline that holds a write going once is not sent again
	// by go-redis: where every command of it was refused before it ran,
	// it is sent again whole (DoBatch).
	w.Answer("set", 1, "-READONLY You can't write against a read only replica.")
	var b store.Batch
	put := b.Put("batched", []byte("v"), 0)
	if err := store.Do(ctx, s, &b); err != nil || put.Err != nil {
		t.Fatalf("a batch's Put after READONLY: %v, %v; want written", err, put.Err)
	}
	if got, err := s.Get(ctx, "batched"); err != nil || string(got) != "v" {
		t.Fatalf("batched holds %q (%v), want v", got, err)
	}
}

// TestEveryScriptIsLoadedAtOpen: a script the server does not know is
// answered NOSCRIPT on its first EVALSHA, which ran nothing; a connection
// cut there was an error, the write not made (a guarded batch's and
// KeepLonger's scripts were not loaded at Open). Every script is known to
// every node from Open; and where a server forgot them (a Sentinel's
// promoted replica: SCRIPT LOAD is not replicated; a flush), the first
// script met NOSCRIPT loads them all again.
func TestEveryScriptIsLoadedAtOpen(t *testing.T) {
	t.Parallel()
	flush := func(t *testing.T, client redis.UniversalClient) redis.UniversalClient {
		if err := client.ScriptFlush(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		return client
	}
	for _, c := range []struct {
		name  string
		start func(t *testing.T) (store.Redis, func(*testing.T, redis.UniversalClient) redis.UniversalClient)
	}{
		{"alone", func(t *testing.T) (store.Redis, func(*testing.T, redis.UniversalClient) redis.UniversalClient) {
			return store.Redis{Addresses: []string{redistest.Start(t).Addr}}, flush
		}},
		{"cluster", func(t *testing.T) (store.Redis, func(*testing.T, redis.UniversalClient) redis.UniversalClient) {
			return store.Redis{Addresses: redistest.StartCluster(t), Cluster: true}, flush
		}},
		{"sentinel failover", func(t *testing.T) (store.Redis, func(*testing.T, redis.UniversalClient) redis.UniversalClient) {
			sentinel := redistest.StartSentinelToldOnly(t)
			// SCRIPT LOAD is not replicated: the store loads the scripts
			// on the replica itself.
			return store.Redis{Addresses: sentinel.Sentinels, MasterName: redistest.MasterName},
				func(t *testing.T, _ redis.UniversalClient) redis.UniversalClient {
					sentinel.KillMasterAndFailOver()
					c := redis.NewClient(&redis.Options{Addr: sentinel.Master()})
					t.Cleanup(func() { _ = c.Close() })
					// Loaded on the replica at Open: known before any call.
					if got, err := c.ScriptExists(context.Background(), store.ScriptHashes()...).Result(); err != nil || slices.Contains(got, false) {
						t.Fatalf("the promoted replica knows %v (%v), want all", got, err)
					}
					return c
				}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg, forget := c.start(t)
			s := openRedis(cfg)(t)
			client := s.(*store.Redis).Client() // a Cluster's SCRIPT EXISTS and FLUSH go to every node
			known := func(when string) {
				t.Helper()
				if got, err := client.ScriptExists(ctx, store.ScriptHashes()...).Result(); err != nil || slices.Contains(got, false) {
					t.Fatalf("%s: scripts known %v (%v), want all", when, got, err)
				}
			}
			known("after Open")
			client = forget(t, client)
			// After a failover, the client's first calls may find the old
			// master gone (a connection refused): asked until one answers.
			for deadline := time.Now().Add(30 * time.Second); ; {
				_, err := s.Incr(ctx, "counted", time.Hour)
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("Incr on a server that forgot its script: %v", err)
				}
			}
			known("after one met NOSCRIPT")
		})
	}
}

// TestAWriteWhoseAnswerIsLateIsMadeOnce: a write the server made but
// whose answer did not come within go-redis's read timeout (5 s) was sent
// again on a new connection, as a lost one was (TestACutWriteIsMadeOnce):
// a counter counted twice. It is an error now, counted once.
func TestAWriteWhoseAnswerIsLateIsMadeOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	w := redistest.Watched(t, srv.Addr)
	s := openRedis(store.Redis{Addresses: []string{w.Addr}})(t)
	direct := openRedis(store.Redis{Addresses: []string{srv.Addr}})(t)
	w.Stall("evalsha", 1)
	_, err := s.Incr(context.Background(), "late", time.Hour)
	if n, _ := direct.Counter(context.Background(), "late"); n != 1 || w.Uncut() != 0 {
		t.Fatalf("an Incr whose answer was late counted %d times (%v), want once", n, err)
	}
}
