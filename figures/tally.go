// Package figures keeps the admin's figures: texts and calls sent per day,
// country, provider and channel; delivery receipts; codes sent and used;
// sends the pumping guard refused. They are counted as they happen, in
// memory, and added every few seconds to one record per realm and day in
// the store (Store.Update: every instance on a shared store adds to the
// same records, and none is lost), so that a report reads 30 records, never
// every sign-in's.
package figures

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
)

// Kinds of figure.
const (
	// Sent is a text or call a provider accepted: by country, provider
	// and channel (notices to users' phones included).
	Sent = "sent"
	// Delivered and Undelivered are the gateway's receipts: by country and
	// provider.
	Delivered   = "delivered"
	Undelivered = "undelivered"
	// CodesSent and CodesUsed are codes sent and codes typed in: by
	// country and channel.
	CodesSent = "codes_sent"
	CodesUsed = "codes_used"
	// Paused is a send the pumping guard refused: by country and channel.
	Paused = "paused"
)

// Row names one figure: its kind, and where it happened (what does not
// apply is empty).
type Row struct {
	Kind, Country, Provider string
	Channel                 factor.Channel // "" where none applies
}

// key is r as a record's map key; store.Key escapes the separator.
func (r Row) key() string { return store.Key(r.Kind, r.Country, r.Provider, string(r.Channel)) }

// parseRow reads a key back.
func parseRow(k string) (Row, bool) {
	parts, ok := store.SplitKey(k)
	if !ok || len(parts) != 4 {
		return Row{}, false
	}
	return Row{parts[0], parts[1], parts[2], factor.Channel(parts[3])}, true
}

// record is one realm's figures of one day (UTC), as kept in the store.
type record struct {
	Rows map[string]int64 `json:"rows"`
}

// Keep is how long a day's record is kept after the day began: the 30
// days a report shows, today and a day's margin.
const Keep = 32 * 24 * time.Hour

// dayLayout names a day.
const dayLayout = "2006-01-02"

func dayKey(realm, day string) string { return store.Key("figures", realm, day) }

// Tally counts figures in memory until Flush adds them to the store.
type Tally struct {
	Store store.Store
	Realm string
	Now   func() time.Time

	mu      sync.Mutex
	pending map[string]map[string]int64 // day → row key → count
}

// Add counts n of r today.
func (t *Tally) Add(r Row, n int64) {
	if t == nil {
		return
	}
	day := t.Now().UTC().Format(dayLayout)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending == nil {
		t.pending = map[string]map[string]int64{}
	}
	rows := t.pending[day]
	if rows == nil {
		rows = map[string]int64{}
		t.pending[day] = rows
	}
	rows[r.key()] += n
}

// Flush adds what was counted to the store, one Update per day. What it
// could not write is kept for the next Flush.
func (t *Tally) Flush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	pending := t.pending
	t.pending = nil
	t.mu.Unlock()
	var first error
	for day, rows := range pending {
		if err := t.add(ctx, day, rows); err != nil {
			first = cmpErr(first, err)
			t.mu.Lock()
			if t.pending == nil {
				t.pending = map[string]map[string]int64{}
			}
			if t.pending[day] == nil {
				t.pending[day] = map[string]int64{}
			}
			for k, n := range rows {
				t.pending[day][k] += n
			}
			t.mu.Unlock()
		}
	}
	return first
}

// add adds rows to day's record.
func (t *Tally) add(ctx context.Context, day string, rows map[string]int64) error {
	began, err := time.Parse(dayLayout, day)
	if err != nil {
		return err
	}
	ttl := began.Add(Keep).Sub(t.Now())
	if ttl <= 0 {
		return nil // a day no report shows any more
	}
	return t.Store.Update(ctx, dayKey(t.Realm, day), func(old []byte, _ bool) ([]byte, time.Duration, error) {
		rec := record{Rows: map[string]int64{}}
		if old != nil {
			_ = json.Unmarshal(old, &rec) // an unreadable day starts again
			if rec.Rows == nil {
				rec.Rows = map[string]int64{}
			}
		}
		for k, n := range rows {
			rec.Rows[k] += n
		}
		raw, err := json.Marshal(rec)
		return raw, ttl, err
	})
}

// Run flushes every interval until stop, which flushes one last time.
func (t *Tally) Run(every time.Duration, failed func(error)) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second) // a reload waits for it
				defer cancel()
				if err := t.Flush(ctx); err != nil && failed != nil {
					failed(err)
				}
				return
			case <-tick.C:
				ctx, cancel := context.WithTimeout(context.Background(), every)
				if err := t.Flush(ctx); err != nil && failed != nil {
					failed(err)
				}
				cancel()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done); <-stopped })
	}
}

// days reads realm's records of the n days up to today (UTC), oldest
// first, in one batch: each day's rows (none for a day without figures).
func days(ctx context.Context, st store.Store, realm string, today time.Time, n int) ([]string, []map[Row]int64, error) {
	today = today.UTC()
	names := make([]string, n)
	var b store.Batch
	ops := make([]*store.Op, n)
	for i := range n {
		names[i] = today.AddDate(0, 0, i-n+1).Format(dayLayout)
		ops[i] = b.Get(dayKey(realm, names[i]))
	}
	if err := store.Do(ctx, st, &b); err != nil {
		return nil, nil, err
	}
	out := make([]map[Row]int64, n)
	for i, op := range ops {
		out[i] = map[Row]int64{}
		var rec record
		if op.Err != nil || json.Unmarshal(op.Value, &rec) != nil {
			continue
		}
		for k, v := range rec.Rows {
			if r, ok := parseRow(k); ok {
				out[i][r] += v
			}
		}
	}
	return names, out, nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
