package storewatch

import (
	"context"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// heldAlarm is a log that holds the entry of the freeze's alarm, as it is
// written, until released; written says it was.
type heldAlarm struct {
	entered, release chan struct{}
	written          atomic.Bool
}

func (h *heldAlarm) Enabled(zapcore.Level) bool        { return true }
func (h *heldAlarm) With([]zapcore.Field) zapcore.Core { return h }
func (h *heldAlarm) Sync() error                       { return nil }
func (h *heldAlarm) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, h)
}
func (h *heldAlarm) Write(e zapcore.Entry, _ []zapcore.Field) error {
	if strings.HasPrefix(e.Message, "the store lost its data") {
		close(h.entered)
		<-h.release
		h.written.Store(true)
	}
	return nil
}

// waitingForTheEpoch says whether a goroutine is blocked in
// continuity.(*Watch).Frozen on the watch's lock.
func waitingForTheEpoch() bool {
	buf := make([]byte, 1<<20)
	for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "continuity.(*Watch).Frozen") && strings.Contains(g, "sync.(*Mutex).lockSlow") {
			return true
		}
	}
	return false
}

// TestAFreezeIsLoggedBeforeItIsSeen: the watch finds the store wiped;
// while the log is being told (the alarm held), whoever asks whether the
// store is frozen (a page refusing an enrollment) waits for it: nobody is
// refused for a freeze that is not in the log yet. Before, the freeze was
// seen as soon as the check had read it, and logged after: a page could
// answer "enrollments are paused" before the error was in the log
// (TestWipedStoreFreezesEnrollment, once, on a loaded machine).
func TestAFreezeIsLoggedBeforeItIsSeen(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir()) // continuity's marker
	ctx := context.Background()
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeDB() })
	log := &heldAlarm{entered: make(chan struct{}), release: make(chan struct{})}
	w, _, err := Open(ctx, st, "a", &audit.Log{Logger: zap.New(log), Realm: "r"}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if w.sessions, err = session.NewManager(ctx, session.Config{Store: st, Realm: "r", Secret: []byte("0123456789abcdef0123456789abcdef"),
		Lifetime: time.Hour, Now: time.Now}); err != nil {
		t.Fatal(err)
	}
	if err := w.Epoch().SawUsers(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, continuity.Key); err != nil { // the wipe
		t.Fatal(err)
	}
	checked := make(chan struct{})
	go func() { defer close(checked); w.check(ctx) }()
	<-log.entered
	type seen struct{ frozen, logged bool }
	asked := make(chan seen, 1)
	go func() { f := w.Epoch().Frozen(); asked <- seen{f != nil, log.written.Load()} }()
	for !waitingForTheEpoch() {
		select {
		case s := <-asked:
			close(log.release)
			<-checked
			t.Fatalf("asked while the alarm was being written: frozen %v, in the log %v; want an answer only once it is", s.frozen, s.logged)
		default:
			runtime.Gosched()
		}
	}
	close(log.release)
	<-checked
	if s := <-asked; !s.frozen || !s.logged {
		t.Fatalf("frozen %v, in the log %v; want both", s.frozen, s.logged)
	}
}
