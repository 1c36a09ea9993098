package sitetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/store"
)

func init() { caddy.RegisterModule(HoldStore{}) }

// Holds say which of this test binary's HoldStore's reads fail, where it
// goes away and what it writes instead: set them from an init of the test
// package (every process of the binary, parent and Caddy children, must
// know them). Where it holds a request is each test's own rule (AddHold).
var Holds struct {
	// Fail matches the reads that fail while the file "fail" exists (the
	// first of them, while "fail-once" does), but the first of them while
	// "spare" exists, which it removes (a devices page's check that its
	// session still lives, read before the change whose read is to fail).
	Fail func(key string) bool
	// Break matches the writes during which the store goes away, once
	// armed by the file "break" (which it removes): the write is made and
	// its answer lost (an error, as from a connection that dropped before
	// the reply; a claim's, if one of its records matches), the file
	// "down" written, and every call fails while "down" exists (the test
	// removes it to bring the store back).
	Break func(key string) bool
	// Rewrite, while the file "rewrite" exists, is what a Put writes in
	// place of value (value itself where it answers nil): a record as a
	// previous release wrote it, say. file is that file's content.
	Rewrite func(key string, value, file []byte) []byte
}

// HoldStore is a store for tests, `store smsgate_test_hold <dir> <store>
// <args...>`: a real one (Inner) that holds a request at a point of the
// test's choosing (Holds), driven by files in Dir (Caddy runs in another
// process). While the file "arm" exists, the first operation a rule of
// the test's (AddHold) matches removes "arm", writes "parked" and waits (10 s at most) for a
// file "go", which it removes; while a file "fail" exists, the reads
// Holds.Fail matches fail (while "fail-once" does, the first of them, which
// removes it); the first write Holds.Break matches while a
// file "break" exists makes every call fail until "down" is removed; a
// record a test had expire (Expire) reads as gone.
type HoldStore struct {
	Dir   string          `json:"dir"`
	Inner json.RawMessage `json:"inner" caddy:"namespace=smsgate.stores inline_key=module"`
	store.Store
}

// CaddyModule implements caddy.Module.
func (HoldStore) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "smsgate.stores.smsgate_test_hold", New: func() caddy.Module { return new(HoldStore) }}
}

// Provision loads Inner.
func (h *HoldStore) Provision(ctx caddy.Context) error {
	mod, err := ctx.LoadModule(h, "Inner")
	if err != nil {
		return err
	}
	h.Store = mod.(store.Store)
	return nil
}

// Open opens Inner (store.Opener).
func (h *HoldStore) Open(ctx context.Context) error { return store.Open(ctx, h.Store) }

// UnmarshalCaddyfile reads `store smsgate_test_hold <dir> <store> <args...>`.
func (h *HoldStore) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if !d.NextArg() {
		return d.ArgErr()
	}
	h.Dir = d.Val()
	var err error
	h.Inner, err = cfutil.Module(d, "smsgate.stores.", "module")
	return err
}

// errDown is every call's answer while the store is down (Holds.Break).
var errDown = errors.New("test: the store went away")

// down says whether the store is down (Holds.Break).
func (h *HoldStore) down() bool {
	_, err := os.Stat(filepath.Join(h.Dir, "down"))
	return err == nil
}

// breaks says whether the write just made of keys takes the store away
// (Holds.Break, armed), and if so takes it.
func (h *HoldStore) breaks(keys ...string) bool {
	if Holds.Break == nil || !slices.ContainsFunc(keys, Holds.Break) || os.Remove(filepath.Join(h.Dir, "break")) != nil {
		return false
	}
	_ = os.WriteFile(filepath.Join(h.Dir, "down"), nil, 0o600)
	return true
}

// after holds the request that ran op on key there, if it is the one
// armed for.
func (h *HoldStore) after(op, key string) {
	if _, err := os.Stat(filepath.Join(h.Dir, "arm")); err != nil || !h.holds(op, key) || os.Remove(filepath.Join(h.Dir, "arm")) != nil {
		return
	}
	_ = os.WriteFile(filepath.Join(h.Dir, "parked"), nil, 0o600)
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		h.putWhileParked()
		if os.Remove(filepath.Join(h.Dir, "go")) == nil {
			return
		}
	}
}

// putWhileParked writes into the inner store the record the file "put"
// holds (PutWhileParked), if any: straight into the store, as another
// instance writes it (this process's caches learn nothing of it).
func (h *HoldStore) putWhileParked() {
	raw, err := os.ReadFile(filepath.Join(h.Dir, "put"))
	if err != nil {
		return
	}
	var rec struct {
		Key   string `json:"key"`
		Value []byte `json:"value"`
	}
	if json.Unmarshal(raw, &rec) != nil || os.Remove(filepath.Join(h.Dir, "put")) != nil {
		return
	}
	err = h.Store.Put(context.Background(), rec.Key, rec.Value, 0)
	if os.WriteFile(filepath.Join(h.Dir, "put-done.tmp"), []byte(fmt.Sprint(err)), 0o600) == nil {
		_ = os.Rename(filepath.Join(h.Dir, "put-done.tmp"), filepath.Join(h.Dir, "put-done")) // whole, once seen
	}
}

// PutWhileParked has the HoldStore in dir, which holds a request (Park),
// write value at key (no expiry) into its inner store, as another
// instance sharing the store would write it then: the parked request goes
// on with what it read before. It returns once written.
func PutWhileParked(t *testing.T, dir, key string, value []byte) {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"key": key, "value": value})
	_ = os.Remove(filepath.Join(dir, "put-done"))
	if err := os.WriteFile(filepath.Join(dir, "put.tmp"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "put.tmp"), filepath.Join(dir, "put")); err != nil {
		t.Fatal(err)
	}
	AwaitFile(t, filepath.Join(dir, "put-done"))
	if got, _ := os.ReadFile(filepath.Join(dir, "put-done")); string(got) != "<nil>" {
		t.Fatalf("writing %s while a request is parked: %s", key, got)
	}
}

// Get implements store.Store.
func (h *HoldStore) Get(ctx context.Context, key string) ([]byte, error) {
	if h.fails(key) {
		return nil, errUnread
	}
	if h.down() {
		return nil, errDown
	}
	if h.expired(key) {
		return nil, store.ErrNotFound
	}
	v, err := h.Store.Get(ctx, key)
	h.after("read", key)
	return v, err
}

// Scan implements store.Store: it fails as a read of prefix does.
func (h *HoldStore) Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error {
	if _, err := h.Get(ctx, prefix); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	err := h.Store.Scan(ctx, prefix, fn)
	h.after("scanned", prefix)
	return err
}

// Put implements store.Store.
func (h *HoldStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if h.down() {
		return errDown
	}
	if file, err := os.ReadFile(filepath.Join(h.Dir, "rewrite")); err == nil && Holds.Rewrite != nil {
		if v := Holds.Rewrite(key, value, file); v != nil {
			value = v
		}
	}
	err := h.Store.Put(ctx, key, value, ttl)
	if err == nil && h.breaks(key) {
		return errDown
	}
	if err == nil {
		h.after("write", key)
	}
	return err
}

// PutIfAbsent implements store.Store; a write, where it wrote.
func (h *HoldStore) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if h.down() {
		return false, errDown
	}
	wrote, err := h.Store.PutIfAbsent(ctx, key, value, ttl)
	if err == nil && wrote && h.breaks(key) {
		return false, errDown
	}
	if err == nil && wrote {
		h.after("write", key)
	}
	return wrote, err
}

// Update implements store.Store.
func (h *HoldStore) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if h.down() {
		return errDown
	}
	err := h.Store.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
		h.after("update", key)
		return change(old, found)
	})
	if err == nil && h.breaks(key) {
		return errDown
	}
	if err == nil {
		h.after("write", key)
	}
	return err
}

// Take implements store.Store.
func (h *HoldStore) Take(ctx context.Context, key string) ([]byte, error) {
	if h.down() {
		return nil, errDown
	}
	return h.Store.Take(ctx, key)
}

// Delete implements store.Store.
func (h *HoldStore) Delete(ctx context.Context, key string) error {
	if h.down() {
		return errDown
	}
	return h.Store.Delete(ctx, key)
}

// Incr implements store.Store.
func (h *HoldStore) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if h.down() {
		return 0, errDown
	}
	return h.Store.Incr(ctx, key, ttl)
}

// Slide implements store.Store.
func (h *HoldStore) Slide(ctx context.Context, key, id string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	if h.down() {
		return false, 0, errDown
	}
	return h.Store.Slide(ctx, key, id, limit, window, now)
}

// Unslide implements store.Store.
func (h *HoldStore) Unslide(ctx context.Context, key, id string) error {
	if h.down() {
		return errDown
	}
	return h.Store.Unslide(ctx, key, id)
}

// ClearWindow implements store.Store.
func (h *HoldStore) ClearWindow(ctx context.Context, key string) error {
	if h.down() {
		return errDown
	}
	return h.Store.ClearWindow(ctx, key)
}

// Counter implements store.Store.
func (h *HoldStore) Counter(ctx context.Context, key string) (int64, error) {
	if h.down() {
		return 0, errDown
	}
	return h.Store.Counter(ctx, key)
}

// AwaitFile waits for path to exist (10 s at most).
func AwaitFile(t *testing.T, path string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s never came", path)
}

// Parked is a request a HoldStore holds (see Park).
type Parked struct {
	dir  string
	done chan *Response
}

// Park arms the HoldStore in dir and sends do, returning once the store
// holds it at the first operation a rule added to dir matches (AddHold); Release lets it go
// on. A test that fails while it is held lets it go on at its cleanup.
func Park(t *testing.T, dir string, do func() *Response) *Parked {
	t.Helper()
	_ = os.Remove(filepath.Join(dir, "parked")) // a request parked before, and let go
	if err := os.WriteFile(filepath.Join(dir, "arm"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Parked{dir: dir, done: make(chan *Response, 1)}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		p.done <- do()
	}()
	t.Cleanup(func() {
		_ = os.WriteFile(filepath.Join(dir, "go"), nil, 0o600)
		<-finished
	})
	AwaitFile(t, filepath.Join(dir, "parked"))
	return p
}

// Release lets the parked request go on and returns its answer.
func (p *Parked) Release(t *testing.T) *Response {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return <-p.done
}

// Claim implements store.Claimer: the inner store's own claim (a write
// of its records, for Holds.Break).
func (h *HoldStore) Claim(ctx context.Context, parts []*store.Op) (bool, error) {
	if h.down() {
		return false, errDown
	}
	won, err := store.ClaimOn(ctx, h.Store, parts)
	keys := make([]string, len(parts))
	for i, p := range parts {
		keys[i] = p.Key()
	}
	if err == nil && won && h.breaks(keys...) {
		return false, errDown
	}
	return won, err
}
