// Package cfutil holds Caddyfile parsing helpers shared by the gate and
// its modules.
package cfutil

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// Lines are where each option of a directive was written, by key (the
// option's name, or its name and first argument: "user alice"); "" is the
// directive itself.
type Lines map[string]caddyfile.Token

// Of is where option key was written: the option itself, the first of its
// kind (allowed_regions sms for allowed_regions), or the directive.
func (l Lines) Of(key string) caddyfile.Token {
	if tok, ok := l[key]; ok {
		return tok
	}
	var found *caddyfile.Token
	for k, tok := range l {
		if k != "" && strings.HasPrefix(k, key+" ") && (found == nil || tok.Line < found.Line) {
			found = &tok
		}
	}
	if found != nil {
		return *found
	}
	return l[""]
}

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

// String reads the one argument of the current option.
func String(d *caddyfile.Dispenser, to *string) error {
	if !d.AllArgs(to) {
		return d.ArgErr()
	}
	return nil
}

// List reads one or more arguments, added to what is there.
func List(d *caddyfile.Dispenser, to *[]string) error {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	*to = append(*to, args...)
	return nil
}

// IntIn reads a whole number from min to max (0: no maximum).
func IntIn(d *caddyfile.Dispenser, to *int, min, max int) error {
	opt := d.Val()
	var v string
	if !d.AllArgs(&v) {
		return d.ArgErr()
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return d.Errf("%s: %q is not a positive whole number", opt, v)
	}
	if n < min || (max > 0 && n > max) {
		if max > 0 {
			return d.Errf("%s must be from %d to %d, not %d", opt, min, max, n)
		}
		return d.Errf("%s must be at least %d, not %d", opt, min, n)
	}
	*to = n
	return nil
}

// DurationIn reads a duration from min to max (0: no maximum).
func DurationIn(d *caddyfile.Dispenser, to *caddy.Duration, min, max time.Duration) error {
	opt := d.Val()
	dur, err := DurationArg(d)
	if err != nil {
		return err
	}
	if OutOfRange(dur, min, max) {
		return d.Err(RangeError(opt, dur, min, max))
	}
	*to = dur
	return nil
}

// OutOfRange tells whether d is outside min to max (0: no maximum).
func OutOfRange(d caddy.Duration, min, max time.Duration) bool {
	return time.Duration(d) < min || (max > 0 && time.Duration(d) > max)
}

// RangeError says that option's d is out of range, in the same words for
// a Caddyfile (with its line) and for JSON (checked at Provision).
func RangeError(option string, d caddy.Duration, min, max time.Duration) string {
	if max > 0 {
		return fmt.Sprintf("%s must be from %s to %s, not %s", option, min, max, time.Duration(d))
	}
	return fmt.Sprintf("%s must be at least %s, not %s", option, min, time.Duration(d))
}

// Range is an option's duration and the range it must be in (Max 0: no
// maximum); with Unset, 0 is the option left out, and passes.
type Range struct {
	Option   string
	D        caddy.Duration
	Min, Max time.Duration
	Unset    bool
}

// CheckRanges is the first of ranges whose duration is out of its range,
// as an OptionError; nil when all are in. One table for JSON and the
// Caddyfile: a value the Caddyfile refuses (a negative step_up, which
// turned the step-up off) is refused from JSON too.
func CheckRanges(ranges ...Range) error {
	for _, r := range ranges {
		if (r.D != 0 || !r.Unset) && OutOfRange(r.D, r.Min, r.Max) {
			return OptionErrf(r.Option, "%s", RangeError(r.Option, r.D, r.Min, r.Max))
		}
	}
	return nil
}

// Module parses `<option> <module> ...` into the module's JSON,
// with its name under key, the way Caddy's own directives nest modules.
func Module(d *caddyfile.Dispenser, namespace, key string) (json.RawMessage, error) {
	if !d.NextArg() {
		return nil, d.ArgErr()
	}
	name := d.Val()
	mod, err := caddyfile.UnmarshalModule(d, namespace+name)
	if err != nil {
		return nil, err
	}
	return caddyconfig.JSONModuleObject(mod, key, name, nil), nil
}

// OptionError is a mistake in one option of a config; Key names it the way
// the gate's UnmarshalCaddyfile recorded its line ("code_length", "user
// alice", "provider 2", "limit sends"), so that the Caddyfile names it.
type OptionError struct {
	Key string
	Err error
}

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// OptionErrf is a mistake in option key.
func OptionErrf(key, format string, args ...any) error {
	return &OptionError{key, fmt.Errorf(format, args...)}
}

// Secret resolves a configured secret (often `{env.X}`), which must be at
// least 32 bytes; name is the option's, for the error.
func Secret(name, value string) ([]byte, error) {
	key := caddy.NewReplacer().ReplaceAll(value, "")
	if key == "" && strings.Contains(value, "{file.") {
		return nil, fmt.Errorf("%s is empty: is its file (%s) there, readable and not empty?", name, value)
	} else if key == "" {
		return nil, fmt.Errorf("%s is empty: is its environment variable set?", name)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("%s is %d bytes; it must be at least 32", name, len(key))
	}
	return []byte(key), nil
}
