package store

import (
	"context"
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/redis/go-redis/v9"
)

// Expiring is a store whose scan tells when each record expires: an
// export carries a record that ends with its lifetime (a session's end)
// and its import writes it for what is left of it. The instant is the
// store's own clock's (the wall clock: Badger's and Redis's expiries are
// real time), zero for a record with no expiry.
type Expiring interface {
	ScanExpiring(ctx context.Context, prefix string, fn func(key string, value []byte, expires time.Time) error) error
}

// ScanExpiring implements Expiring.
func (b *Badger) ScanExpiring(ctx context.Context, prefix string, fn func(string, []byte, time.Time) error) error {
	return b.db.ScanExpiring(ctx, prefix, fn)
}

// ScanExpiring implements Expiring: an item's ExpiresAt (whole seconds).
func (b *badgerDB) ScanExpiring(_ context.Context, prefix string, fn func(string, []byte, time.Time) error) error {
	return b.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(prefix)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			var expires time.Time
			if at := item.ExpiresAt(); at > 0 {
				expires = time.Unix(int64(at), 0)
			}
			if err := fn(string(item.Key()), v, expires); err != nil {
				return err
			}
		}
		return nil
	})
}

// ScanExpiring implements Expiring: Scan, then each key's PTTL (pipelined,
// scanBatch at a time; a cluster's client sends each to its node). A key
// gone between the two is left out, as Scan leaves out one expired between
// its SCAN and its GET.
func (r *Redis) ScanExpiring(ctx context.Context, prefix string, fn func(string, []byte, time.Time) error) error {
	type record struct {
		key   string
		value []byte
	}
	var all []record
	if err := r.Scan(ctx, prefix, func(k string, v []byte) error {
		all = append(all, record{k, v})
		return nil
	}); err != nil {
		return err
	}
	ctx, call, err := perCall(ctx)
	if err != nil {
		return err
	}
	for len(all) > 0 {
		batch := all[:min(len(all), scanBatch)]
		all = all[len(batch):]
		pctx, cancel := call(ctx)
		asked := time.Now()
		ttls := make([]*redis.DurationCmd, len(batch))
		_, err := r.client.Pipelined(pctx, func(p redis.Pipeliner) error {
			for i, rec := range batch {
				ttls[i] = p.PTTL(pctx, r.key(rec.key))
			}
			return nil
		})
		cancel()
		if err != nil {
			return err
		}
		for i, rec := range batch {
			var expires time.Time
			switch ttl := ttls[i].Val(); {
			case ttl == -2: // go-redis keeps PTTL's -2 and -1 as they are
				continue // gone meanwhile
			case ttl > 0:
				expires = asked.Add(ttl)
			}
			if err := fn(rec.key, rec.value, expires); err != nil {
				return err
			}
		}
	}
	return nil
}

// Lengthening is a store that makes a record last at least a time in one
// atomic step (KeepLonger).
type Lengthening interface {
	KeepLonger(ctx context.Context, key string, value []byte, ttl time.Duration) (wrote bool, err error)
}

// KeepLonger writes value at key for ttl (0: no expiry) where key holds
// no record, and where it holds one ending sooner makes that one last ttl,
// its value as it is: in one atomic step, so that a record another writer
// made to last longer meanwhile is never made to end sooner (an import's
// end of a session: enrollment's keepLaterEnds). wrote says whether it
// changed anything. On a store that cannot say when a record ends (no
// Lengthening) it writes only where there is none.
func KeepLonger(ctx context.Context, st Store, key string, value []byte, ttl time.Duration) (wrote bool, err error) {
	if l, ok := st.(Lengthening); ok {
		return l.KeepLonger(ctx, key, value, ttl)
	}
	return st.PutIfAbsent(ctx, key, value, ttl)
}

// KeepLonger implements Lengthening.
func (b *Badger) KeepLonger(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return b.db.KeepLonger(ctx, key, value, ttl)
}

// KeepLonger implements Lengthening: one transaction, in whole seconds
// (an item's ExpiresAt).
func (b *badgerDB) KeepLonger(ctx context.Context, key string, value []byte, ttl time.Duration) (wrote bool, err error) {
	err = b.update(ctx, func(txn *badger.Txn) error {
		wrote = false
		v := value
		item, err := txn.Get([]byte(key))
		switch {
		case err == nil:
			if at := item.ExpiresAt(); at == 0 || ttl > 0 && at >= uint64(time.Now().Add(ttl).Unix()) {
				return nil // as late or later already
			}
			if v, err = item.ValueCopy(nil); err != nil {
				return err
			}
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		wrote = true
		return txn.SetEntry(entry(key, v, ttl))
	})
	if !wrote {
		return false, err
	}
	return err == nil, b.synced(ctx, err)
}

// keepLongerScript is KeepLonger: KEYS[1] gets ARGV[1] for ARGV[2] ms (0:
// no expiry) where it holds nothing, or that long where it ends sooner
// (PTTL: -2 none, -1 no expiry). It returns 1 when it wrote.
var keepLongerScript = redis.NewScript(`
local left, ttl = redis.call("PTTL", KEYS[1]), tonumber(ARGV[2])
if left == -1 or (ttl > 0 and left >= ttl) then return 0 end
if left == -2 and ttl > 0 then
	redis.call("SET", KEYS[1], ARGV[1], "PX", ttl)
elseif left == -2 then
	redis.call("SET", KEYS[1], ARGV[1])
elseif ttl > 0 then
	redis.call("PEXPIRE", KEYS[1], ttl)
else
	redis.call("PERSIST", KEYS[1])
end
return 1`)

// KeepLonger implements Lengthening: one script.
func (r *Redis) KeepLonger(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ctx, done, err := spend(ctx)
	defer done()
	if err != nil {
		return false, err
	}
	var n int
	again(ctx, func() error { // sent once: redis_once.go
		n, err = r.runScript(ctx, onceOn{r.client}, keepLongerScript, []string{r.key(key)}, value, millis(ttl)).Int()
		return err
	})
	return n == 1 && err == nil, r.lasting(ctx, err, key)
}

// Interface guards
var (
	_ Expiring    = (*Badger)(nil)
	_ Expiring    = (*badgerDB)(nil)
	_ Expiring    = (*Redis)(nil)
	_ Lengthening = (*Badger)(nil)
	_ Lengthening = (*badgerDB)(nil)
	_ Lengthening = (*Redis)(nil)
)
