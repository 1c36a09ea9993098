// Package cfutil holds Caddyfile parsing helpers shared by the gate and
// its modules.
package cfutil

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// DurationArg reads the one duration argument of the current option.
func DurationArg(d *caddyfile.Dispenser) (caddy.Duration, error) {
	opt := d.Val()
	var v string
	if !d.AllArgs(&v) {
		return 0, d.ArgErr()
	}
	dur, err := caddy.ParseDuration(v)
	if err != nil {
		return 0, d.Errf("%s: bad duration %q: %v", opt, v, err)
	}
	return caddy.Duration(dur), nil
}
