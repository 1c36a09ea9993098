package storewatch

import (
	"context"
	"fmt"
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
	"github.com/smsgate/caddy-smsgate/store/storetest"
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

// waitingInTheEpoch says whether a goroutine is blocked in the function
// of continuity.(*Watch) named (Frozen, Check) on one of the watch's locks.
func waitingInTheEpoch(function string) bool {
	buf := make([]byte, 1<<20)
	for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "continuity.(*Watch)."+function) && strings.Contains(g, "sync.(*Mutex).lockSlow") {
			return true
		}
	}
	return false
}

// runs counts TestAFreezeIsLoggedBeforeItIsSeen's runs.
var runs atomic.Int64

// TestAFreezeIsLoggedBeforeItIsSeen: the watch finds the store wiped;
// while the log is being told (the alarm held), whoever asks whether the
// store is frozen (a page's GET) is answered at once, with the state
// before (not frozen), and an enrollment's own check of the epoch waits
// for the alarm: nobody is refused for a freeze that is not in the log
// yet. Before, the freeze was seen as soon as the check had read it, and
// logged after: a page could answer "enrollments are paused" before the
// error was in the log (TestWipedStoreFreezesEnrollment, once, on a loaded
// machine); and then the log and the Caddy event were written under the
// watch's lock, so a slow events handler held every reader of Frozen.
func TestAFreezeIsLoggedBeforeItIsSeen(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir()) // continuity's marker
	ctx := context.Background()
	st := storetest.Badger(t)
	log := &heldAlarm{entered: make(chan struct{}), release: make(chan struct{})}
	// A store of its own each run: this process remembers the last run's
	// (-count), whose wipe its Open would find.
	identity := fmt.Sprint(t.Name(), " ", runs.Add(1))
	w, _, err := Open(ctx, st, identity, "", &audit.Log{Logger: zap.New(log), Realm: "r"}, time.Now)
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
	let := func() { close(log.release); <-checked }
	type seen struct{ frozen, logged bool }
	asked := make(chan seen, 1)
	go func() { f := w.Epoch().Frozen(); asked <- seen{f != nil, log.written.Load()} }()
	var s seen
	for waiting := false; !waiting; {
		select {
		case s = <-asked:
			waiting = true
		default:
			if waitingInTheEpoch("Frozen") {
				let()
				t.Fatal("asking whether the store is frozen waited for the alarm to be written")
			}
			runtime.Gosched()
		}
	}
	if s.frozen {
		let()
		t.Fatalf("asked while the alarm was being written: frozen %v, in the log %v; want not frozen yet", s.frozen, s.logged)
	}
	// An enrollment's check, meanwhile: it waits for the alarm.
	rechecked := make(chan seen, 1)
	go func() {
		_, err := w.Epoch().Check(ctx)
		rechecked <- seen{err == nil && w.Epoch().Frozen() != nil, log.written.Load()}
	}()
	for !waitingInTheEpoch("Check") && !waitingInTheEpoch("show") {
		select {
		case s := <-rechecked:
			let()
			t.Fatalf("an enrollment's check while the alarm was being written: frozen %v, in the log %v; want it to wait", s.frozen, s.logged)
		default:
			runtime.Gosched()
		}
	}
	let()
	if s := <-rechecked; !s.frozen || !s.logged {
		t.Fatalf("an enrollment's check: frozen %v, in the log %v; want both", s.frozen, s.logged)
	}
	if !log.written.Load() || w.Epoch().Frozen() == nil {
		t.Fatalf("after the check: frozen %v, in the log %v; want both", w.Epoch().Frozen() != nil, log.written.Load())
	}
}
