package pumping

import (
	"fmt"
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
	// How long a first pause lasts, 1m to 24h; each further pause of the
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
	if err := cfutil.CheckNumbers(c.numbers()); err != nil {
		return s, fmt.Errorf("pumping_guard: %w", err)
	}
	return s, nil
}

// numbers are the guard's counts and durations, and their ranges: the one
// table its Caddyfile parser and Settings (a JSON config) both read.
func (c *Config) numbers() []cfutil.Number {
	grace := c.Grace
	if grace == nil {
		grace = new(int) // the default, in range
	}
	return []cfutil.Number{
		{Option: "window", Duration: &c.Window, Min: time.Minute, Unset: true},
		{Option: "prefix_digits", Int: &c.PrefixDigits, Min: 1, Max: 6, Unset: true},
		{Option: "prefix_min_sends", Int: &c.PrefixMinSends, Min: 1, Unset: true},
		{Option: "country_min_sends", Int: &c.CountryMinSends, Min: 1, Unset: true},
		{Option: "min_conversion", Int: &c.MinConversion, Min: 1, Max: 99, Unset: true, Unit: "%"},
		{Option: "pause", Duration: &c.Pause, Min: time.Minute, Max: MaxPause, Unset: true},
		{Option: "grace", Int: grace},
	}
}

// UnmarshalCaddyfile reads the guard's option:
//
//	pumping_guard off
//	pumping_guard {
//	    window            <duration>
//	    prefix_digits     <1 to 6>
//	    prefix_min_sends  <count>
//	    country_min_sends <count>
//	    min_conversion    <percent, 1 to 99>[%]
//	    pause             <duration, 1m to 24h>
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
		if opt == "grace" {
			c.Grace = new(int)
		}
		n := cfutil.FindNumber(c.numbers(), opt)
		if n == nil {
			return d.Errf("pumping_guard: unknown option %q: use window, prefix_digits, prefix_min_sends, country_min_sends, min_conversion, pause or grace", opt)
		}
		if err := n.Parse(d); err != nil {
			return fmt.Errorf("pumping_guard: %w", err)
		}
	}
	return nil // each option was checked on its line
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
