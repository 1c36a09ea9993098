package figures

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestTwoInstancesAddUp: two tallies (two Caddy instances) counting at once
// into one store lose nothing; the report adds them up by day, country and
// provider, prices them, and says what receipts left unknown.
func TestTwoInstancesAddUp(t *testing.T) {
	t.Parallel()
	addr := redistest.Server(t)
	open := map[string]func() store.Store{
		"badger": func() func() store.Store {
			dir := t.TempDir()
			var st store.Store
			return func() store.Store {
				if st == nil {
					var closeDB func() error
					var err error
					if st, closeDB, err = store.OpenBadger(dir); err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { _ = closeDB() })
				}
				return st
			}
		}(),
		"redis": func() store.Store {
			st, closeRedis, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = closeRedis() })
			return st
		},
	}
	for name, open := range open {
		t.Run(name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)}
			a := &Tally{Store: open(), Realm: "example.com", Now: clk.now}
			b := &Tally{Store: open(), Realm: "example.com", Now: clk.now}
			ctx := context.Background()
			// Yesterday: one text to GB on each instance.
			a.Add(Row{Sent, "GB", "twilio", "sms"}, 1)
			b.Add(Row{Sent, "GB", "twilio", "sms"}, 1)
			clk.advance(2 * time.Minute) // today
			var wg sync.WaitGroup
			for _, tl := range []*Tally{a, b} {
				wg.Go(func() {
					for i := range 500 {
						tl.Add(Row{Sent, "DE", "twilio", "sms"}, 1)
						tl.Add(Row{CodesSent, "DE", "", "sms"}, 1)
						if i%2 == 0 {
							tl.Add(Row{CodesUsed, "DE", "", "sms"}, 1)
						}
						if i%5 == 0 {
							tl.Add(Row{Delivered, "DE", "twilio", ""}, 1)
						}
						if i%50 == 0 {
							tl.Add(Row{Sent, "US", "log", "voice"}, 1)
							if err := tl.Flush(ctx); err != nil {
								t.Error(err)
							}
						}
					}
					if err := tl.Flush(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			costs := &Costs{Currency: "EUR", Prices: map[string]map[factor.Channel]string{"DE": {"sms": "0.075"}, "*": {"sms": "0.05"}}}
			r, err := Read(ctx, a.Store, "example.com", costs, clk.now(), 30)
			if err != nil {
				t.Fatal(err)
			}
			today, yesterday := r.Days[29], r.Days[28]
			if len(r.Days) != 30 || r.From != "2026-11-03" || r.To != "2026-12-02" || today.Day != "2026-12-02" {
				t.Fatalf("days %d, %s to %s, last %s", len(r.Days), r.From, r.To, today.Day)
			}
			if yesterday.Texts != 2 || yesterday.ByCountry["GB"] != 2 || yesterday.Cost != "0.10" || yesterday.Unknown != 2 {
				t.Fatalf("yesterday: %+v", yesterday)
			}
			if today.Texts != 1000 || today.Calls != 20 || today.ByCountry["DE"] != 1000 || today.ByProvider["log"] != 20 {
				t.Fatalf("today: texts %d calls %d, by country %v, by provider %v", today.Texts, today.Calls, today.ByCountry, today.ByProvider)
			}
			// 1,000 texts at 0.075; 20 calls with no price for calls.
			if r.Total.Cost != "75.10" || r.Total.Unpriced != 20 || r.Currency != "EUR" {
				t.Fatalf("total cost %s %s, unpriced %d", r.Total.Cost, r.Currency, r.Total.Unpriced)
			}
			de := r.Countries[0]
			if de.Country != "DE" || de.CodesSent != 1000 || de.CodesUsed != 500 || *de.Conversion != 0.5 ||
				de.Delivered != 200 || de.Unknown != 800 || de.Cost != "75.00" {
				t.Fatalf("DE: %+v", de)
			}
			if tw := r.Providers[0]; tw.Provider != "twilio" || tw.Texts != 1002 || tw.Delivered != 200 || tw.Unknown != 802 {
				t.Fatalf("twilio: %+v", tw)
			}
		})
	}
}

// TestFlushKeepsWhatItCouldNotWrite: a store that fails keeps the counts
// for the next flush.
func TestFlushKeepsWhatItCouldNotWrite(t *testing.T) {
	t.Parallel()
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	clk := &clock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	failing := &failingStore{Store: st, fail: true}
	tl := &Tally{Store: failing, Realm: "r", Now: clk.now}
	tl.Add(Row{Sent, "GB", "log", "sms"}, 3)
	if err := tl.Flush(context.Background()); err == nil {
		t.Fatal("a failing store: no error")
	}
	failing.fail = false
	tl.Add(Row{Sent, "GB", "log", "sms"}, 1)
	if err := tl.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := Read(context.Background(), st, "r", nil, clk.now(), 1)
	if err != nil || r.Total.Texts != 4 || r.Total.Cost != "0.00" || r.Total.Unpriced != 4 {
		t.Fatalf("after the store came back: %+v, %v", r, err)
	}
}

type failingStore struct {
	store.Store
	fail bool
}

func (f *failingStore) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if f.fail {
		return fmt.Errorf("the store is down")
	}
	return f.Store.Update(ctx, key, change)
}

// TestRunFlushesOnStop: the flushing loop writes what is left when it stops.
func TestRunFlushesOnStop(t *testing.T) {
	t.Parallel()
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	tl := &Tally{Store: st, Realm: "r", Now: time.Now}
	stop := tl.Run(time.Hour, func(err error) { t.Error(err) })
	tl.Add(Row{CodesSent, "FR", "", "sms"}, 2)
	stop()
	stop() // twice is harmless
	r, err := Read(context.Background(), st, "r", nil, time.Now(), 2)
	if err != nil || r.Total.CodesSent != 2 {
		t.Fatalf("after stop: %+v, %v", r.Total, err)
	}
}

func TestRowsRoundTrip(t *testing.T) {
	for _, r := range []Row{{Sent, "GB", "twilio/eu", "sms"}, {Delivered, "ZZ", "100%", ""}, {CodesUsed, "US", "", "voice"}} {
		if got, ok := parseRow(r.key()); !ok || got != r {
			t.Errorf("%+v came back as %+v", r, got)
		}
	}
}

func TestPrices(t *testing.T) {
	for in, want := range map[string]string{"0.045": "0.045", "1": "1.00", ".5": "0.50", "0.000001": "0.000001", "12.30": "12.30"} {
		p, err := parsePrice(in)
		if err != nil || p.String() != want {
			t.Errorf("parsePrice(%q) = %s, %v; want %s", in, p, err, want)
		}
	}
	for _, bad := range []string{"-1", "0.0000001", "abc", "1e3", "1001", "+2"} {
		if _, err := parsePrice(bad); err == nil {
			t.Errorf("parsePrice(%q) took it", bad)
		}
	}
	for _, c := range []*Costs{
		{Prices: map[string]map[factor.Channel]string{"XX": {"sms": "1"}}},
		{Prices: map[string]map[factor.Channel]string{"GB": {"fax": "1"}}},
		{Prices: map[string]map[factor.Channel]string{"GB": {"sms": "one"}}},
	} {
		if err := c.Check(); err == nil {
			t.Errorf("%+v: no error", c.Prices)
		}
	}
}

func TestCostsCaddyfile(t *testing.T) {
	var c Costs
	d := caddyfile.NewTestDispenser(`costs {
		currency EUR
		price gb sms 0.04
		price * sms 0.05
		price GB voice 0.013
	}`)
	d.Next()
	if err := c.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(c)
	if want := `{"currency":"EUR","prices":{"*":{"sms":"0.05"},"GB":{"sms":"0.04","voice":"0.013"}}}`; string(raw) != want {
		t.Fatalf("got %s\nwant %s", raw, want)
	}
	for cfg, want := range map[string]string{
		"costs {\n price GB sms 1\n price GB sms 2\n}": "given twice",
		"costs {\n price GB sms\n}":                    "takes a country",
		"costs {\n price XX sms 1\n}":                  "not a country code",
		"costs {\n colour red\n}":                      "unknown option",
		"costs {\n currency EUR\n currency USD\n}":     "given twice",
	} {
		d := caddyfile.NewTestDispenser(cfg)
		d.Next()
		if err := new(Costs).UnmarshalCaddyfile(d); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", cfg, err, want)
		}
	}
}

// TestATallyKeepsNamesAsWritten: a provider, country and channel holding
// '/', '%' or "%2F" as written are counted and read back as they were
// (the row's key escapes them; parseRow reads them back), and a row's key
// spelt otherwise than store.Key writes it is not read.
func TestATallyKeepsNamesAsWritten(t *testing.T) {
	t.Parallel()
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	clk := &clock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	tl := &Tally{Store: st, Realm: "r/%2F", Now: clk.now}
	odd := Row{Sent, "G/B", "eu/%2F%", "s%ms"}
	tl.Add(odd, 3)
	if err := tl.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	names, rows, err := days(context.Background(), st, "r/%2F", clk.now(), 1)
	if err != nil || len(names) != 1 || len(rows[0]) != 1 || rows[0][odd] != 3 {
		t.Fatalf("read back: %v %+v, %v", names, rows, err)
	}
	for _, k := range []string{"sent/G%2fB/eu/sms", "sent/GB/%65u/sms", "sent/GB/eu%/sms", "sent/GB/eu%zz/sms"} {
		if r, ok := parseRow(k); ok {
			t.Errorf("%s read as %+v", k, r)
		}
	}
}
