package store

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis sends a command again when the connection it went on fails
// before its answer came (MaxRetries, 3: a read's EOF, a reset, a
// timeout), and a pipeline whole (a Cluster node's share of one too, and
// where its first command answered TRYAGAIN: a claim's on a slot mid-move,
// TestATryAgainInABatchMakesNothingTwice): the server may have made it,
// or the pipeline's commands after the first. Only a read (GET), a
// sliding window's count (slide: its event's ID, counted, answers as the
// first send did) and an Unslide (ZREM of an event's ID, which nobody adds
// again) are the same made twice; every other write, sent again, either
// answers as if it had not been made, or undoes another's write made
// between the two sends (Watch.Cut and Watch.CutThen in
// store/storetest/redistest show each: TestACutWriteIsMadeOnce):
//
//   - INCR (incr): a limit's or an attempt's counter counted twice;
//   - a swap (an Update's write), a claim, a guarded write or batch: the
//     second send finds the record as the first left it and answers "it
//     changed" — an Update then reads it again and makes its change a
//     second time (a list appended to twice), a claim reports lost what
//     it won;
//   - SET NX (PutIfAbsent): "another wrote it first" for the writer's own
//     record;
//   - GETDEL (Take): "none there" for the record it took;
//   - SET (Put): another's write between undone (a device record another
//     request changed, put back as it was);
//   - DEL (Delete, ClearWindow): the record another wrote between deleted;
//     a window's event counted between dropped (one more let through);
//   - KeepLonger's script: a record another ended (deleted) between made
//     again.
//
// These go once (once: go-redis's NoRetry): a connection lost after one
// was sent is an error — its outcome unknown, as one whose tries ran out
// was before — which the caller meets as a store failure (a limit or a
// code check fails closed; a change not told as made). Sent again are
// only those refused before they ran (again: a failover's READONLY,
// LOADING, CLUSTERDOWN, TRYAGAIN; a connection never made), as go-redis
// does for a command alone; of a batch's pipeline, those of its commands
// that were, and they alone (pipelined). (go-redis sends a pipeline again
// whole where its first command's answer is such a refusal, whatever the
// others did, and never where the first ran: generalProcessPipeline,
// v9.23.) MULTI/EXEC (PutAll) goes again only where its sending
// failed, never after (go-redis's transactions), and is left to go-redis.
//
// A script's first EVALSHA on a server that does not know it is answered
// NOSCRIPT and runs nothing; cut there, it is an error all the same (the
// store cannot tell it from one that ran). So every script is loaded at
// Open, on every node: a Cluster's masters and replicas, a Sentinel's
// master and the replicas it lists (durability), as SCRIPT LOAD is not
// replicated and a failover promotes one; and again where one is met
// answering NOSCRIPT (a replica attached or restarted since, a flushed
// cache): runScript. A connection cut on that NOSCRIPT answer is no error
// where the server still does not know the script (ranNot: it could not
// have run); where it does, it may have run, and it is one.

// once is cmd, which go-redis sends at most once: never again after the
// connection it went on failed (NoRetry), nor a pipeline that holds it.
type once struct{ redis.Cmder }

func (once) NoRetry() bool { return true }

// processor is what a command is sent on: a client, or a pipeline.
type processor interface {
	redis.Cmdable
	Process(ctx context.Context, cmd redis.Cmder) error
}

// onceOn is c, on which a script's EVALSHA and EVAL go once.
type onceOn struct{ processor }

func (o onceOn) EvalSha(ctx context.Context, sha string, keys []string, args ...any) *redis.Cmd {
	return o.eval(ctx, "evalsha", sha, keys, args)
}

func (o onceOn) Eval(ctx context.Context, src string, keys []string, args ...any) *redis.Cmd {
	return o.eval(ctx, "eval", src, keys, args)
}

func (o onceOn) eval(ctx context.Context, name, payload string, keys []string, args []any) *redis.Cmd {
	all := make([]any, 0, 3+len(keys)+len(args))
	all = append(all, name, payload, len(keys))
	for _, k := range keys {
		all = append(all, k)
	}
	cmd := redis.NewCmd(ctx, append(all, args...)...)
	if len(keys) > 0 {
		cmd.SetFirstKeyPos(3)
	}
	_ = o.Process(ctx, once{cmd})
	return cmd
}

// getDelOnce is GETDEL, sent once.
func getDelOnce(ctx context.Context, c processor, key string) *redis.StringCmd {
	cmd := redis.NewStringCmd(ctx, "getdel", key)
	_ = c.Process(ctx, once{cmd})
	return cmd
}

// setOnce is SET (with PX where ttl is set, NX where nx), sent once.
func setOnce(ctx context.Context, c processor, key string, value []byte, ttl time.Duration, nx bool) *redis.StatusCmd {
	args := []any{"set", key, value}
	if ttl > 0 {
		args = append(args, "px", millis(ttl))
	}
	if nx {
		args = append(args, "nx")
	}
	cmd := redis.NewStatusCmd(ctx, args...)
	_ = c.Process(ctx, once{cmd})
	return cmd
}

// delOnce is DEL, sent once.
func delOnce(ctx context.Context, c processor, key string) *redis.IntCmd {
	cmd := redis.NewIntCmd(ctx, "del", key)
	_ = c.Process(ctx, once{cmd})
	return cmd
}

// sentOnce says whether op's command goes once: every write but a
// sliding window's (its event's ID makes it the same made twice) and an
// Unslide's (ZREM of an event's ID, which nobody adds again).
func sentOnce(op *Op) bool {
	switch op.kind {
	case opIncr, opSwap, opClaim, opGuardedBatch, opTake, opPut, opDelete, opClearWindow:
		return true
	}
	return false
}

// again sends a command that goes once again, at most 3 times (go-redis's
// MaxRetries) and waiting as go-redis does, where its error says it never
// ran (notRun); a deadline passed ends the tries.
func again(ctx context.Context, send func() error) {
	for try := 1; ; try++ {
		if err := send(); try > 3 || !notRun(err) {
			return
		}
		t := time.NewTimer(min(8*time.Millisecond<<(try-1), 512*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// pipelined sends sent's operations in one pipeline (cmds: their
// commands), then again those of them refused before they ran (refusedOf),
// alone in a pipeline of their own, as again sends a command, at most 3
// times: a batch whose reads a demoted master answered beside its writes'
// READONLY (or a Cluster whose one node was loading beside the others) has
// its writes made on the new master, not answered 503 — and never a
// command that may have run (a connection lost with it), nor one answered.
// A batch's operations are on distinct keys and in no set order
// (store.Batch), so those sent again alone may go after the others.
// go-redis sends a pipeline that holds no command going once again whole
// where its first command was refused, whatever the others did, and one
// that holds one never (redis_once.go, above).
func (r *Redis) pipelined(ctx context.Context, sent []*Op, cmds []redis.Cmder) {
	left := make([]int, len(sent))
	for i := range left {
		left[i] = i
	}
	again(ctx, func() error {
		_, _ = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range left {
				cmds[i] = r.send(ctx, p, sent[i], false)
			}
			return nil
		})
		if left = refusedOf(cmds, left); len(left) == 0 {
			return nil
		}
		return cmds[left[0]].Err()
	})
}

// refusedOf is those of the commands cmds[i] (i in of) refused before they
// ran (notRun), to send again. TRYAGAIN is left to DoBatch: a claim's is
// made in turn.
func refusedOf(cmds []redis.Cmder, of []int) []int {
	var left []int
	for _, i := range of {
		if err := cmds[i].Err(); notRun(err) && !redis.IsTryAgainError(err) {
			left = append(left, i)
		}
	}
	return left
}

// notRun says whether err is an answer refusing a command before it ran,
// where it may be sent again (a failover's, a loading server's, a Cluster
// in flux), or a connection that was never made: what go-redis sends
// again, but a connection lost with the command on it.
func notRun(err error) bool {
	var answer redis.Error
	if errors.As(err, &answer) {
		for _, p := range []string{"READONLY ", "LOADING ", "MASTERDOWN ", "CLUSTERDOWN ", "TRYAGAIN ", "NOREPLICAS ", "ERR max number of clients"} {
			if strings.HasPrefix(answer.Error(), p) {
				return true
			}
		}
		return false
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" || errors.Is(err, redis.ErrPoolTimeout)
}

// flag is a script's argument for b.
func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// millis is a script's ttl argument for ttl: SET PX counts in
// milliseconds, and 0 is none.
func millis(ttl time.Duration) int64 {
	ms := ttl.Milliseconds()
	if ttl > 0 && ms == 0 {
		ms = 1
	}
	return ms
}

// scripts are every script the store runs: loaded at Open, and again
// where a server answers one NOSCRIPT (loadScripts).
var scripts = []*redis.Script{incr, slide, windowCount, swap, claimScript, guardedBatchScript, keepLongerScript}

// loadScripts loads every script on the server, on a Cluster on every
// node (go-redis's SCRIPT LOAD there goes to each), each within a context
// of its own from step.
func (r *Redis) loadScripts(step func() (context.Context, context.CancelFunc)) error {
	for _, s := range scripts {
		ctx, cancel := step()
		err := s.Load(ctx, r.client).Err()
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// runScript runs s alone on sc (onceOn: sent once) by its hash; where
// the server does not know it (NOSCRIPT: nothing ran; or its answer lost
// with the connection, where the server does not know it still: ranNot),
// every script is loaded again, so that the others do not meet NOSCRIPT
// there next, and s is sent again (by its text, where the load failed:
// Script.Run).
func (r *Redis) runScript(ctx context.Context, sc redis.Scripter, s *redis.Script, keys []string, args ...any) *redis.Cmd {
	sent := time.Now()
	cmd := s.EvalSha(ctx, sc, keys, args...)
	if err := cmd.Err(); err == nil || !strings.HasPrefix(err.Error(), "NOSCRIPT") && !r.ranNot(ctx, cmd, sent) {
		return cmd
	}
	_ = r.loadScripts(func() (context.Context, context.CancelFunc) { return ctx, func() {} })
	return s.Run(ctx, sc, keys, args...)
}

// ranNot says whether cmd, an EVALSHA sent by sent whose answer was lost
// with its connection (a cut, a read timeout: not an answer, nor a refusal
// before it was sent), is known not to have run: the server of its first
// key is the process it went to (its run_id known up by sent: processes)
// and does not know its script (SCRIPT EXISTS, asked with INFO server in
// one trip), so it was answered NOSCRIPT, as the first script call on a
// server that forgot them (a flushed cache, a replica attached since Open
// and promoted) is. A server that knows it may have run it (or another
// loaded it since: a NOSCRIPT told apart from nothing), and it stays an
// error; so does one that started since the send, or not known to have
// been up by it (a restart between the cut and this question: its data
// kept, its scripts forgotten, review41 H1), and one that does not tell
// its run_id. Left: a SCRIPT FLUSH between the cut and this question
// takes a script that ran for one that did not (SECURITY.md).
func (r *Redis) ranNot(ctx context.Context, cmd redis.Cmder, sent time.Time) bool {
	args := cmd.Args()
	if !lost(ctx, cmd.Err()) || len(args) < 4 || args[0] != "evalsha" {
		return false
	}
	sha, _ := args[1].(string)
	key, _ := args[3].(string)
	var c redis.Cmdable = r.client
	if cluster, ok := r.client.(*redis.ClusterClient); ok {
		node, err := cluster.MasterForKey(ctx, key)
		if err != nil {
			return false
		}
		c = node
	}
	var known *redis.BoolSliceCmd
	var info *redis.StringCmd
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		known, info = p.ScriptExists(ctx, sha), p.Info(ctx, "server")
		return nil
	})
	if err != nil {
		return false
	}
	id, upBy := r.processes.learn(info.Val(), time.Now())
	return id != "" && upBy.Before(sent) && len(known.Val()) == 1 && !known.Val()[0]
}

// lost says whether err is a connection lost with its command on it (a
// cut, a read timeout): no answer, nor a refusal before it was sent, and
// not the caller's deadline.
func lost(ctx context.Context, err error) bool {
	var answer redis.Error
	return err != nil && !errors.As(err, &answer) && !notRun(err) && ctx.Err() == nil
}

// sentAlone says which of a batch's operations sent (cmds: their
// commands, answered) go again alone: a script the server did not know
// (NOSCRIPT, which loads it: runScript), or whose answer was lost with
// the connection where the server still does not know it (ranNot); and
// where no command that may have run was lost with it (the batch fails
// then: nothing more is asked), each lost command that is the same made
// twice (a read, a window's count: go-redis sends a pipeline holding a
// command that goes once never again).
func (r *Redis) sentAlone(ctx context.Context, sent []*Op, cmds []redis.Cmder, sentAt time.Time) []bool {
	alone, failed := make([]bool, len(sent)), false
	for i, op := range sent {
		err := cmds[i].Err()
		switch {
		case err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT"):
			alone[i] = true
		case !failed && sentOnce(op) && lost(ctx, err):
			alone[i] = r.ranNot(ctx, cmds[i], sentAt)
			failed = !alone[i]
		}
	}
	for i, op := range sent {
		alone[i] = alone[i] || !failed && !sentOnce(op) && lost(ctx, cmds[i].Err())
	}
	return alone
}
