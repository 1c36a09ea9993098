package pumping

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/store"
)

// Config is the guard's configuration (`pumping_guard` in a Caddyfile).
// Every field has a default: the guard is on unless Off.
type Config struct {
	// Turns the guard off. Default: on.
	Off bool `json:"off,omitempty"`
	// The sliding window conversion is measured over. Default: 1h.
	Window caddy.Duration `json:"window,omitempty"`
	// National digits after the country code that name a prefix, 1 to 6
	// (six digits of a number always stay out of it). Default: 3.
	PrefixDigits int `json:"prefix_digits,omitempty"`
	// Codes a prefix must have been sent in the window before its
	// conversion is judged. Default: 20.
	PrefixMinSends int `json:"prefix_min_sends,omitempty"`
	// The same for a country. Default: 50.
	CountryMinSends int `json:"country_min_sends,omitempty"`
	// The percentage of codes used below which a place pauses, 1 to 99.
	// Default: 20.
	MinConversion int `json:"min_conversion,omitempty"`
	// How long a first pause lasts, up to 24h; each further pause of the
	// same place within a day doubles it, up to 24h. Default: 1h.
	Pause caddy.Duration `json:"pause,omitempty"`
	// How many codes in a row a number already enrolled in a paused place
	// may leave unused and still be sent codes; 0: none is. Default: 3.
	Grace *int `json:"grace,omitempty"`
}

// Settings are c's settings, the defaults filled in, or an error that
// names the option at fault. A nil Config is the defaults.
func (c *Config) Settings() (Settings, error) {
	s := Defaults
	if c == nil {
		return s, nil
	}
	if c.Window != 0 {
		s.Window = time.Duration(c.Window)
	}
	if c.PrefixDigits != 0 {
		s.PrefixDigits = c.PrefixDigits
	}
	if c.PrefixMinSends != 0 {
		s.PrefixMinSends = c.PrefixMinSends
	}
	if c.CountryMinSends != 0 {
		s.CountryMinSends = c.CountryMinSends
	}
	if c.MinConversion != 0 {
		s.MinConversion = float64(c.MinConversion) / 100
	}
	if c.Pause != 0 {
		s.Pause = time.Duration(c.Pause)
	}
	if c.Grace != nil {
		s.Grace = *c.Grace
	}
	switch {
	case s.Window < time.Minute:
		return s, fmt.Errorf("pumping_guard: window must be at least 1m, not %s", s.Window)
	case s.PrefixDigits < 1 || s.PrefixDigits > 6:
		return s, fmt.Errorf("pumping_guard: prefix_digits must be from 1 to 6, not %d", s.PrefixDigits)
	case s.PrefixMinSends < 1 || s.CountryMinSends < 1:
		return s, fmt.Errorf("pumping_guard: prefix_min_sends and country_min_sends must be at least 1")
	case c.MinConversion < 0 || c.MinConversion > 99:
		return s, fmt.Errorf("pumping_guard: min_conversion must be a percentage from 1 to 99, not %d", c.MinConversion)
	case s.Pause < time.Minute || s.Pause > MaxPause:
		return s, fmt.Errorf("pumping_guard: pause must be from 1m to %s, not %s", MaxPause, s.Pause)
	case s.Grace < 0:
		return s, fmt.Errorf("pumping_guard: grace must not be negative")
	}
	return s, nil
}

// UnmarshalCaddyfile reads the guard's option:
//
//	pumping_guard off
//	pumping_guard {
//	    window            <duration>
//	    prefix_digits     <1 to 6>
//	    prefix_min_sends  <count>
//	    country_min_sends <count>
//	    min_conversion    <percent>[%]
//	    pause             <duration>
//	    grace             <count>
//	}
//
// The dispenser is at the option's name. An option given twice is an error.
func (c *Config) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		if d.Val() != "off" || d.NextArg() {
			return d.Errf("pumping_guard takes a block, or off")
		}
		c.Off = true
		return nil
	}
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		if seen[opt] {
			return d.Errf("pumping_guard: %s is given twice", opt)
		}
		seen[opt] = true
		var err error
		switch opt {
		case "window":
			c.Window, err = cfutil.DurationArg(d)
			if err == nil && time.Duration(c.Window) < time.Minute {
				err = d.Errf("pumping_guard: window must be at least 1m, not %s", time.Duration(c.Window))
			}
		case "pause":
			c.Pause, err = cfutil.DurationArg(d)
			if p := time.Duration(c.Pause); err == nil && (p < time.Minute || p > MaxPause) {
				err = d.Errf("pumping_guard: pause must be from 1m to %s, not %s", MaxPause, p)
			}
		case "prefix_digits":
			c.PrefixDigits, err = count(d, 1, 6)
		case "prefix_min_sends":
			c.PrefixMinSends, err = count(d, 1, 0)
		case "country_min_sends":
			c.CountryMinSends, err = count(d, 1, 0)
		case "min_conversion":
			c.MinConversion, err = count(d, 1, 99)
		case "grace":
			var n int
			n, err = count(d, 0, 0)
			c.Grace = &n
		default:
			return d.Errf("pumping_guard: unknown option %q: use window, prefix_digits, prefix_min_sends, country_min_sends, min_conversion, pause or grace", opt)
		}
		if err != nil {
			return err
		}
	}
	return nil // each option was checked on its line
}

// count reads a whole number from lo to hi (0: no maximum); a trailing %
// is allowed (min_conversion 20%).
func count(d *caddyfile.Dispenser, lo, hi int) (int, error) {
	opt := d.Val()
	var v string
	if !d.AllArgs(&v) {
		return 0, d.ArgErr()
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v, "%"))
	if err != nil || n < lo || (hi > 0 && n > hi) {
		if hi > 0 {
			return 0, d.Errf("pumping_guard: %s must be a whole number from %d to %d, not %q", opt, lo, hi, v)
		}
		return 0, d.Errf("pumping_guard: %s must be a whole number of at least %d, not %q", opt, lo, v)
	}
	return n, nil
}

// Offline is a guard on st with c's settings (or the defaults, if they
// cannot be read), on or off, for the admin's tools: listing and resuming
// pauses, which must find the counters where the running guard keeps them.
func (c *Config) Offline(st store.Store, now func() time.Time) *Guard {
	s, err := c.Settings()
	if err != nil {
		s = Defaults
	}
	return &Guard{Settings: s, Store: st, Now: now}
}
