package store

import (
	"context"
	"time"
)

// KeepEarliest writes at (an RFC 3339 instant) at key unless the record
// there is an instant no later, or one that does not read as an instant,
// in one atomic step (Update): of writers at once, the earliest instant
// stays whatever their order. For a record whose later value would be
// the laxer (session's cookies/renamed: an import and a gate putting its
// copy back). An at that is no instant is written nowhere.
func KeepEarliest(ctx context.Context, st Store, key string, at []byte) error {
	t, err := time.Parse(time.RFC3339Nano, string(at))
	if err != nil {
		return err
	}
	return st.Update(ctx, key, func(held []byte, found bool) ([]byte, time.Duration, error) {
		if was, err := time.Parse(time.RFC3339Nano, string(held)); found && (err != nil || !t.Before(was)) {
			return nil, 0, ErrUnchanged
		}
		return at, 0, nil
	})
}
