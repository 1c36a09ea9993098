package store

import (
	"context"
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

// Interface guards
var (
	_ Expiring = (*Badger)(nil)
	_ Expiring = (*badgerDB)(nil)
	_ Expiring = (*Redis)(nil)
)
