package store

import (
	"context"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(Badger{})
}

// databases holds every open Badger database by absolute path. Caddy
// provisions a new config before it cleans up the old one, and Badger locks
// its folder, so each path is opened once and shared across reloads; the
// last Cleanup closes it.
var databases = caddy.NewUsagePool()

// Badger is the embedded store: a Badger database in a local folder.
// It is the default, and needs nothing else to run.
type Badger struct {
	// Folder of the database. Default: `smsgate` in Caddy's data
	// directory. A relative path is taken from Caddy's working directory.
	Path string `json:"path,omitempty"`

	db      *badgerDB // Open's
	absPath string
	logger  *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Badger) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "smsgate.stores.badger",
		New: func() caddy.Module { return new(Badger) },
	}
}

// Provision checks the folder and keeps it, opening nothing: `caddy
// validate` provisions a config and never starts it, and a database opened
// there made its folder, and failed on the folder's lock beside the Caddy
// that runs the config. Open opens it (the gate's Provision, but in `caddy
// validate`), before any other method is called.
func (b *Badger) Provision(ctx caddy.Context) error {
	abs, err := b.folder() // created by openBadger, once checked
	if err != nil {
		return err
	}
	b.absPath, b.logger = abs, ctx.Logger()
	return nil
}

// Open opens the database, or joins the one already open at that path.
func (b *Badger) Open(context.Context) error {
	if b.db != nil {
		return nil
	}
	val, _, err := databases.LoadOrNew(b.absPath, func() (caddy.Destructor, error) {
		return openBadger(b.absPath, b.logger)
	})
	if err != nil {
		return err
	}
	b.db = val.(*badgerDB)
	return nil
}

// Cleanup releases this config's hold on the database, if it opened it.
func (b *Badger) Cleanup() error {
	if b.db == nil {
		return nil
	}
	_, err := databases.Delete(b.absPath)
	return err
}

// UnmarshalCaddyfile sets up the store from Caddyfile tokens. Syntax:
//
//	store badger [<path>] [{
//	    path <path>
//	}]
func (b *Badger) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // module name
	if d.NextArg() {
		b.Path = d.Val()
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "path":
			if !d.NextArg() {
				return d.ArgErr()
			}
			b.Path = d.Val()
		default:
			return d.Errf("unrecognized badger store option '%s'", d.Val())
		}
	}
	return nil
}

// Get implements Store.
func (b *Badger) Get(ctx context.Context, key string) ([]byte, error) { return b.db.Get(ctx, key) }

// Put implements Store.
func (b *Badger) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return b.db.Put(ctx, key, value, ttl)
}

// PutAll implements AllOrNothing.
func (b *Badger) PutAll(ctx context.Context, records map[string][]byte, read ...string) (map[string][]byte, error) {
	return b.db.PutAll(ctx, records, read...)
}

// PutIfAbsent implements Store.
func (b *Badger) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return b.db.PutIfAbsent(ctx, key, value, ttl)
}

// Take implements Store.
func (b *Badger) Take(ctx context.Context, key string) ([]byte, error) { return b.db.Take(ctx, key) }

// Delete implements Store.
func (b *Badger) Delete(ctx context.Context, key string) error { return b.db.Delete(ctx, key) }

// Incr implements Store.
func (b *Badger) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	return b.db.Incr(ctx, key, ttl)
}

// Update implements Store.
func (b *Badger) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	return b.db.Update(ctx, key, change)
}

// Slide implements Store.
func (b *Badger) Slide(ctx context.Context, key, id string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	return b.db.Slide(ctx, key, id, limit, window, now)
}

// Window implements Store.
func (b *Badger) Window(ctx context.Context, key string, span time.Duration, now time.Time) (int, time.Duration, error) {
	return b.db.Window(ctx, key, span, now)
}

// Unslide implements Store.
func (b *Badger) Unslide(ctx context.Context, key, id string) error {
	return b.db.Unslide(ctx, key, id)
}

// ClearWindow implements Store.
func (b *Badger) ClearWindow(ctx context.Context, key string) error {
	return b.db.ClearWindow(ctx, key)
}

// Counter implements Store.
func (b *Badger) Counter(ctx context.Context, key string) (int64, error) {
	return b.db.Counter(ctx, key)
}

// countFormat implements countReader.
func (*Badger) countFormat() countFormat { return binaryCount }

// Scan implements Store.
func (b *Badger) Scan(ctx context.Context, prefix string, fn func(string, []byte) error) error {
	return b.db.Scan(ctx, prefix, fn)
}

// sharedIdentity is the open database: the same for every gate on the
// folder, in this config and the next (see Same).
func (b *Badger) sharedIdentity() any {
	if b.db == nil {
		return nil
	}
	return b.db
}

// Interface guards
var (
	_ Store                 = (*Badger)(nil)
	_ AllOrNothing          = (*Badger)(nil)
	_ Store                 = (*badgerDB)(nil)
	_ AllOrNothing          = (*badgerDB)(nil)
	_ caddy.Provisioner     = (*Badger)(nil)
	_ caddy.CleanerUpper    = (*Badger)(nil)
	_ Opener                = (*Badger)(nil)
	_ caddyfile.Unmarshaler = (*Badger)(nil)
)
