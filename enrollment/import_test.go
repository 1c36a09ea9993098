package enrollment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// importRecords is an export of n devices, each value size bytes of JSON.
func importRecords(n, size int) []Record {
	var records []Record
	for i := range n {
		// A device list, as the gates read it (checkImported), its name
		// making up the size.
		v, _ := json.Marshal([]Device{{ID: "1", Name: strings.Repeat("x", size)}})
		records = append(records, Record{Key: store.Key("device", realm, fmt.Sprint("user", i)), Value: v})
	}
	return records
}

// onBadger is a Badger store in a folder of the test's.
func onBadger(t *testing.T) store.Store {
	t.Helper()
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeDB() })
	return st
}

// held is how many of records' keys st holds.
func held(t *testing.T, st store.Store, records []Record) int {
	t.Helper()
	n := 0
	for _, r := range records {
		if _, err := st.Get(context.Background(), r.Key); err == nil {
			n++
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
	}
	return n
}

// TestAnImportThatFailsWritesNothing: an import the store fails part way
// — on Badger a record it refuses (a key over its size limit), on Redis a
// server whose memory fills up (noeviction: it refuses writes) — writes
// none of its records: Badger in one transaction, Redis in MULTI/EXEC,
// and the error says nothing was imported. Before, the records ahead of
// the failure stayed written, half a restore.
func TestAnImportThatFailsWritesNothing(t *testing.T) {
	t.Parallel()
	t.Run("badger", func(t *testing.T) {
		t.Parallel()
		st := onBadger(t)
		records := importRecords(50, 100)
		records = append(records[:25:25], append([]Record{{Key: store.Key("device", realm, strings.Repeat("k", 70000)), Value: json.RawMessage(`[]`)}}, records[25:]...)...)
		importFails(t, st, records)
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		srv := redistest.StartWith(t, "--maxmemory", "4mb", "--maxmemory-policy", "noeviction")
		st, closeRedis, err := store.OpenRedis(&store.Redis{Addresses: []string{srv.Addr}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeRedis() })
		importFails(t, st, importRecords(80, 100_000)) // 8 MB
	})
}

func importFails(t *testing.T, st store.Store, records []Record) {
	t.Helper()
	_, err := (&Admin{Core: &Core{Store: st}}).Import(context.Background(), records)
	if err != nil {
		t.Logf("the import: %.200s", err)
	}
	if err == nil || !strings.Contains(err.Error(), "nothing was imported") {
		t.Errorf("an import the store failed: %v; want it to say nothing was imported", err)
	}
	if n := held(t, st, records); n != 0 {
		t.Errorf("an import the store failed left %d of its %d records written", n, len(records))
	}
}

// failingAfter is a store without transactions (as a Redis Cluster) that
// fails every write after its first n.
type failingAfter struct {
	store.Store
	n    int64
	puts atomic.Int64
}

func (f *failingAfter) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if f.puts.Add(1) > f.n {
		return errors.New("the store went away")
	}
	return f.Store.Put(ctx, key, value, ttl)
}

// TestAnImportStoppedPartWayFinishesWhenRunAgain: on a store that cannot
// write an import all or none (a Redis Cluster: its keys span masters),
// an import the store stops part way says how far it got and that the
// same import run again finishes it, which it does. Before, the error was
// the store's alone: the admin could not tell half the records were in.
func TestAnImportStoppedPartWayFinishesWhenRunAgain(t *testing.T) {
	t.Parallel()
	st := onBadger(t)
	records := importRecords(20, 10)
	_, err := (&Admin{Core: &Core{Store: &failingAfter{Store: st, n: 7}}}).Import(context.Background(), records)
	var part *PartialImportError
	if !errors.As(err, &part) || part.Written != 7 || part.Of != 20 || !strings.Contains(err.Error(), "run the same import again") {
		t.Fatalf("an import stopped after 7 records: %v; want it to say so, and to run it again", err)
	}
	if n := held(t, st, records); n != 7 {
		t.Fatalf("%d records written; want the 7 before the failure", n)
	}
	if _, err := (&Admin{Core: &Core{Store: st}}).Import(context.Background(), records); err != nil {
		t.Fatal(err)
	}
	if n := held(t, st, records); n != len(records) {
		t.Fatalf("the import run again: %d of %d records", n, len(records))
	}
}

// TestAPartialImportSaysItReplacedTheKeys: an import record by record (a
// store without transactions) whose file's signing keys went in before
// the store stopped it says so, as a whole one does: the run again finds
// them in, and says they replaced nothing. Before, the partial import's
// error dropped it, and the admin heard of no replaced keys at all.
func TestAPartialImportSaysItReplacedTheKeys(t *testing.T) {
	t.Parallel()
	st := onBadger(t)
	ctx := context.Background()
	if err := st.Put(ctx, "keys/secret", bytes.Repeat([]byte{'o'}, 32), 0); err != nil {
		t.Fatal(err)
	}
	secret, _ := json.Marshal(bytes.Repeat([]byte{'x'}, 32))
	records := append([]Record{{Key: "b64:keys/secret", Value: secret}}, importRecords(20, 10)...)
	_, err := (&Admin{Core: &Core{Store: &failingAfter{Store: st, n: 7}, Now: time.Now}}).Import(ctx, records)
	var part *PartialImportError
	if !errors.As(err, &part) || part.Written != 8 || !part.KeysReplaced || !strings.Contains(err.Error(), KeysReplacedSaid) {
		t.Fatalf("an import stopped after the keys and 7 records: %v (%+v); want it to say the keys were replaced", err, part)
	}
	done, err := (&Admin{Core: &Core{Store: st, Now: time.Now}}).Import(ctx, records)
	if err != nil || done.KeysReplaced {
		t.Fatalf("the import run again: replaced %v (%v); want it finished, the keys already in", done.KeysReplaced, err)
	}
}
