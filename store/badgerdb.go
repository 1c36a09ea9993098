package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// badgerDB is one open database, shared by every config that names its path.
type badgerDB struct {
	db   *badger.DB
	stop chan struct{}
	done chan struct{}
	// syncs counts the syncs of lasting writes (for the tests).
	syncs atomic.Int64
	disk  *diskGuard
	// windows are the sliding windows, kept in memory (badgerwindows.go).
	windows *windows
}

// The sizes of Badger's memory-mapped files (see DiskReserve).
const (
	memTableSize     = 8 << 20
	valueLogFileSize = 64 << 20
)

// OpenBadger opens a database outside Caddy (tests, command-line tools).
// The caller must Close it.
func OpenBadger(path string) (Store, func() error, error) {
	db, err := openBadger(path, zap.NewNop())
	if err != nil {
		return nil, nil, err
	}
	return db, db.Destruct, nil
}

func openBadger(path string, logger *zap.Logger) (*badgerDB, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("badger store: %v", err)
	}
	// Small tables and logs: smsgate's records are tiny, and a gate in front
	// of a home server should not cost hundreds of MiB of memory.
	disk := &diskGuard{path: path, reserve: DiskReserve}
	if err := disk.opening(); err != nil {
		return nil, err
	}
	opts := badger.DefaultOptions(path).
		WithLogger(badgerLogger{logger.Sugar()}).
		WithNumVersionsToKeep(1).
		WithMemTableSize(memTableSize).
		WithValueLogFileSize(valueLogFileSize).
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(8 << 20).
		WithNumCompactors(2)
	db, err := badger.Open(opts)
	// The folder's lock is an flock on an open folder: a process that forks
	// while this one held it (any exec: a redis-server, a provider's
	// helper) holds a copy until it execs, a moment after our own close.
	// Only a lock held that long is another process's database.
	for wait := time.Now().Add(lockWait); folderLocked(err) && time.Now().Before(wait); {
		time.Sleep(20 * time.Millisecond)
		db, err = badger.Open(opts)
	}
	if err != nil {
		return nil, fmt.Errorf("opening badger store at %s: %v", path, err)
	}
	bdb := &badgerDB{db: db, stop: make(chan struct{}), done: make(chan struct{}), disk: disk}
	bdb.windows = &windows{db: bdb, open: map[string]*window{}}
	go bdb.collectGarbage()
	return bdb, nil
}

// GCEvery is how often a Badger store reclaims the value-log space of
// expired and deleted records and forgets the sliding windows idle past
// their end.
const GCEvery = 10 * time.Minute

// collectGarbage reclaims value-log space left by expired and deleted records.
func (b *badgerDB) collectGarbage() {
	defer close(b.done)
	t := time.NewTicker(GCEvery)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.windows.sweep(time.Now())
			for b.db.RunValueLogGC(0.5) == nil {
			}
		}
	}
}

// closeTimeout bounds Close: Badger retries forever when it cannot flush
// (its folder was removed underneath it), and that must not hang Caddy's
// shutdown or a config reload. A variable, so that tests need not wait.
var closeTimeout = 30 * time.Second

// folderLocked tells Badger's refusal of a folder another open holds (its
// error wraps no error value to test, only the words).
func folderLocked(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock")
}

// lockWait is how long an open waits for a folder lock held by a forked
// child (see openBadger) before it is another process's database.
var lockWait = 2 * time.Second

// Destruct closes the database; the usage pool calls it after the last Cleanup.
func (b *badgerDB) Destruct() error {
	close(b.stop)
	<-b.done
	closed := make(chan error, 1)
	go func() { closed <- b.db.Close() }()
	select {
	case err := <-closed:
		return err
	case <-time.After(closeTimeout):
		return fmt.Errorf("badger store did not close within %s (was its folder removed?)", closeTimeout)
	}
}

func (b *badgerDB) Get(_ context.Context, key string) ([]byte, error) {
	var val []byte
	err := b.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		val, err = item.ValueCopy(nil)
		return err
	})
	return val, notFound(err)
}

func (b *badgerDB) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	g := guardOf(ctx)
	err := b.synced(ctx, b.update(ctx, func(txn *badger.Txn) error {
		if err := g.inTxn(txn); err != nil {
			return err
		}
		return txn.SetEntry(entry(key, value, ttl))
	}))
	return g.settleWrite(true, err, key, value, true)
}

func (b *badgerDB) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	var wrote bool
	g := guardOf(ctx)
	err := b.update(ctx, func(txn *badger.Txn) error {
		wrote = false
		if err := g.inTxn(txn); err != nil {
			return err
		}
		_, err := txn.Get([]byte(key))
		if err == nil {
			return nil
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		wrote = true
		return txn.SetEntry(entry(key, value, ttl))
	})
	if wrote {
		err = b.synced(ctx, err)
	}
	return wrote, g.settleWrite(wrote, err, key, value, true)
}

func (b *badgerDB) Take(ctx context.Context, key string) ([]byte, error) {
	var val []byte
	g := guardOf(ctx)
	err := b.update(ctx, func(txn *badger.Txn) error {
		if err := g.inTxn(txn); err != nil {
			return err
		}
		item, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		if val, err = item.ValueCopy(nil); err != nil {
			return err
		}
		return txn.Delete([]byte(key))
	})
	return val, g.settleWrite(true, notFound(b.synced(ctx, err)), key, nil, false)
}

func (b *badgerDB) Delete(ctx context.Context, key string) error {
	g := guardOf(ctx)
	return g.settleWrite(true, b.synced(ctx, b.update(ctx, func(txn *badger.Txn) error {
		if err := g.inTxn(txn); err != nil {
			return err
		}
		return txn.Delete([]byte(key))
	})), key, nil, false)
}

func (b *badgerDB) ClearWindow(_ context.Context, key string) error { return b.windows.clear(key) }

func (b *badgerDB) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	var n int64
	err := b.update(ctx, func(txn *badger.Txn) error {
		n = 1
		e := entry(key, nil, ttl)
		item, err := txn.Get([]byte(key))
		switch {
		case err == nil:
			err = item.Value(func(v []byte) (err error) {
				n, err = binaryCount.count(key, v)
				n++
				return err
			})
			if err != nil {
				return err
			}
			e.ExpiresAt = item.ExpiresAt() // a window does not slide
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		e.Value = binaryCount.record(n)
		return txn.SetEntry(e)
	})
	return n, err
}

func (b *badgerDB) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	var wrote bool
	var written []byte
	g := guardOf(ctx)
	err := b.update(ctx, func(txn *badger.Txn) error {
		wrote = false
		if err := g.inTxn(txn); err != nil {
			return err
		}
		var old []byte
		item, err := txn.Get([]byte(key))
		found := err == nil
		switch {
		case found:
			if old, err = item.ValueCopy(nil); err != nil {
				return err
			}
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		value, ttl, err := change(old, found)
		written = value // what a write leaves (nil: a delete)
		switch {
		case errors.Is(err, ErrUnchanged):
			return nil
		case err != nil:
			return err
		case value == nil && !found:
			return nil
		case value == nil:
			wrote = true
			return txn.Delete([]byte(key))
		}
		wrote = true
		return txn.SetEntry(entry(key, value, ttl))
	})
	if wrote {
		err = b.synced(ctx, err)
	}
	return g.settleWrite(wrote, err, key, written, written != nil)
}

func (b *badgerDB) Slide(ctx context.Context, key, id string, limit int, span time.Duration, now time.Time) (bool, time.Duration, error) {
	return b.windows.slide(ctx, key, id, limit, span, now)
}

func (b *badgerDB) Unslide(ctx context.Context, key, id string) error {
	return b.windows.unslide(ctx, key, id)
}

func (b *badgerDB) Counter(ctx context.Context, key string) (int64, error) {
	v, err := b.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return binaryCount.count(key, v)
}

// countFormat implements countReader.
func (*badgerDB) countFormat() countFormat { return binaryCount }

// Scan is ScanExpiring without the expiries.
func (b *badgerDB) Scan(ctx context.Context, prefix string, fn func(string, []byte) error) error {
	return b.ScanExpiring(ctx, prefix, func(key string, v []byte, _ time.Time) error { return fn(key, v) })
}

// PutAll implements AllOrNothing: one transaction, or ErrNoTransaction
// where the records are more than one holds (badger.ErrTxnTooBig). The
// records of read are read in it: a transaction that wrote one meanwhile
// makes it run again (update), reading that one's.
func (b *badgerDB) PutAll(ctx context.Context, records map[string][]byte, read ...string) (map[string][]byte, error) {
	var held map[string][]byte
	err := b.update(ctx, func(txn *badger.Txn) error {
		held = map[string][]byte{}
		for _, k := range read {
			item, err := txn.Get([]byte(k))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err == nil {
				held[k], err = item.ValueCopy(nil)
			}
			if err != nil {
				return err
			}
		}
		for k, v := range records {
			if err := txn.SetEntry(entry(k, v, 0)); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, badger.ErrTxnTooBig) {
		return nil, ErrNoTransaction
	}
	return held, b.synced(ctx, err)
}

// update runs fn in a read-write transaction, again (after a jittered
// wait) when a concurrent transaction changed a key fn read: Badger's
// concurrency is optimistic, and a conflict is a reason to retry, never an
// answer to the user.
func (b *badgerDB) update(ctx context.Context, fn func(*badger.Txn) error) error {
	if err := b.disk.refuses(); err != nil {
		return err
	}
	return retry(ctx, func() (bool, error) {
		err := b.db.Update(fn)
		if errors.Is(err, badger.ErrConflict) {
			return false, nil
		}
		return true, err
	})
}

// synced makes a successful lasting write durable: Badger does not sync its
// logs on commit (that would cost every counter and challenge an fsync), so
// the writes a user is told about are synced here, before the answer.
func (b *badgerDB) synced(ctx context.Context, err error) error {
	if err != nil || !IsLasting(ctx) {
		return err
	}
	b.syncs.Add(1)
	if err := b.db.Sync(); err != nil {
		return fmt.Errorf("badger store: syncing to disk: %v", err)
	}
	return nil
}

func entry(key string, value []byte, ttl time.Duration) *badger.Entry {
	e := badger.NewEntry([]byte(key), value)
	if ttl > 0 {
		e = e.WithTTL(ttl)
	}
	return e
}

func notFound(err error) error {
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	return err
}

// badgerLogger sends Badger's own messages to Caddy's log, leaving out its
// chatty informational lines.
type badgerLogger struct{ l *zap.SugaredLogger }

func (l badgerLogger) Errorf(f string, a ...any)   { l.l.Errorf(f, a...) }
func (l badgerLogger) Warningf(f string, a ...any) { l.l.Warnf(f, a...) }
func (l badgerLogger) Infof(string, ...any)        {}
func (l badgerLogger) Debugf(string, ...any)       {}
