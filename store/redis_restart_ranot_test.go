package store_test

// review41 proof (store41): a cut EVALSHA that RAN on a persistent server
// which restarted before the store's SCRIPT EXISTS (a crash between the
// AOF write and the reply, the server brought back at once) is taken for
// one that never ran (ranNot: the restarted server does not know the
// script) and made a second time: one Incr counts 2.

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

func TestReview41ARestartBetweenACutAndScriptExistsCountsTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Persistent(t)
	w := redistest.Watched(t, srv.Addr)
	s := openRedis(store.Redis{Addresses: []string{w.Addr}})(t)
	// The Incr's EVALSHA runs (the server knows the script: loaded at
	// Open), is written to the AOF, then the server dies and comes back
	// before the client hears the answer.
	w.CutThen("evalsha", func() { srv.Restart() })
	n, err := s.Incr(ctx, "once", time.Hour)
	if left := w.Uncut(); left != 0 {
		t.Fatalf("cuts left %d", left)
	}
	other := openRedis(store.Redis{Addresses: []string{srv.Addr}})(t)
	got, _ := other.Counter(ctx, "once")
	t.Logf("Incr answered n=%d err=%v; the server counts %d", n, err, got)
	if err == nil && got == 2 {
		t.Fatalf("one Incr counted twice (%d) and answered %d with no error: the restarted server's SCRIPT EXISTS took a call that ran for one that did not", got, n)
	}
}

// The same for an Update (its swap's EVALSHA cut, the server restarted
// between): its change is made twice, "a" becomes "a+b+b".
func TestReview41ARestartBetweenACutAndScriptExistsUpdatesTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Persistent(t)
	w := redistest.Watched(t, srv.Addr)
	s := openRedis(store.Redis{Addresses: []string{w.Addr}})(t)
	if err := s.Put(ctx, "rec", []byte("a"), 0); err != nil {
		t.Fatal(err)
	}
	w.CutThen("evalsha", func() { srv.Restart() })
	err := s.Update(ctx, "rec", func(old []byte, _ bool) ([]byte, time.Duration, error) {
		return append(old, "+b"...), 0, nil
	})
	if left := w.Uncut(); left != 0 {
		t.Fatalf("cuts left %d", left)
	}
	other := openRedis(store.Redis{Addresses: []string{srv.Addr}})(t)
	got, _ := other.Get(ctx, "rec")
	t.Logf("Update: %v; the record is %q", err, got)
	if err == nil && string(got) == "a+b+b" {
		t.Fatalf("one Update made twice: %q", got)
	}
}
