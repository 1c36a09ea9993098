package caddymodule

import (
	"errors"
	"slices"
	"sync"

	"github.com/caddyserver/caddy/v2"
)

func init() {
	caddy.RegisterModule(new(App))
}

// App is the `smsgate` Caddy app: the gates of the running config, by
// realm, so that the admin API finds the store of the realm it is asked
// about (as caddypki's admin API finds its CAs). It needs no configuration:
// each gate loads it with ctx.App and registers itself.
type App struct {
	mu    sync.RWMutex
	gates []*Gate
}

// CaddyModule returns the Caddy module information.
func (*App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "smsgate", New: func() caddy.Module { return new(App) }}
}

// Start implements caddy.App: the gates run inside the http app.
func (*App) Start() error { return nil }

// Stop implements caddy.App.
func (*App) Stop() error { return nil }

func (a *App) register(g *Gate) {
	a.mu.Lock()
	a.gates = append(a.gates, g)
	a.mu.Unlock()
}

func (a *App) unregister(g *Gate) {
	a.mu.Lock()
	a.gates = slices.DeleteFunc(a.gates, func(x *Gate) bool { return x == g })
	a.mu.Unlock()
}

// Gate is the gate serving realm, or the only realm when realm is empty;
// an unknown or ambiguous realm is an error (see pickGate).
func (a *App) Gate(realm string) (*Gate, error) {
	if a == nil {
		return nil, errNoGate
	}
	a.mu.RLock()
	gates := slices.Clone(a.gates)
	a.mu.RUnlock()
	return pickGate(gates, realm)
}

// appOf is the config's smsgate app, loaded on first use.
func appOf(ctx caddy.Context) (*App, error) {
	v, err := loadApp(ctx, "smsgate")
	if err != nil {
		return nil, err
	}
	return v.(*App), nil
}

// loadApp is the config's app name, loaded on first use. A Context made
// outside a running config (caddy.NewContext in benchmarks) has none.
func loadApp(ctx caddy.Context, name string) (app any, err error) {
	defer func() {
		if recover() != nil {
			app, err = nil, errors.New("no running config")
		}
	}()
	return ctx.App(name)
}

// Interface guard
var _ caddy.App = (*App)(nil)
