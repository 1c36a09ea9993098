package storetest

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// LastingLog wraps a store and notes each write marked store.Lasting (the
// ones Badger syncs before the answer) as "<op> <first part of the key>",
// so that tests can say which of a job's writes must survive a power cut.
type LastingLog struct {
	store.Store
	mu     sync.Mutex
	writes []string
}

// Writes returns the lasting writes noted since the last call, and forgets them.
func (l *LastingLog) Writes() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := strings.Join(l.writes, ", ")
	l.writes = nil
	return w
}

func (l *LastingLog) note(ctx context.Context, op, key string) {
	if store.IsLasting(ctx) {
		l.mu.Lock()
		l.writes = append(l.writes, op+" "+strings.SplitN(key, "/", 2)[0])
		l.mu.Unlock()
	}
}

// Put implements store.Store.
func (l *LastingLog) Put(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	l.note(ctx, "put", k)
	return l.Store.Put(ctx, k, v, ttl)
}

// PutIfAbsent implements store.Store.
func (l *LastingLog) PutIfAbsent(ctx context.Context, k string, v []byte, ttl time.Duration) (bool, error) {
	l.note(ctx, "put", k)
	return l.Store.PutIfAbsent(ctx, k, v, ttl)
}

// Take implements store.Store.
func (l *LastingLog) Take(ctx context.Context, k string) ([]byte, error) {
	l.note(ctx, "take", k)
	return l.Store.Take(ctx, k)
}

// Delete implements store.Store.
func (l *LastingLog) Delete(ctx context.Context, k string) error {
	l.note(ctx, "delete", k)
	return l.Store.Delete(ctx, k)
}

// Update implements store.Store: a write it makes is noted as a put or a
// delete, as change decided on its last call.
func (l *LastingLog) Update(ctx context.Context, k string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	var op string
	err := l.Store.Update(ctx, k, func(old []byte, found bool) ([]byte, time.Duration, error) {
		v, ttl, err := change(old, found)
		switch {
		case err != nil || v == nil && !found:
			op = ""
		case v == nil:
			op = "delete"
		default:
			op = "put"
		}
		return v, ttl, err
	})
	if err == nil && op != "" {
		l.note(ctx, op, k)
	}
	return err
}
