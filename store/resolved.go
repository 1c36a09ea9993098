package store

import (
	"encoding/json"
	"fmt"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

// CheckResolved refuses a Redis store's address or credentials written as
// a placeholder (`{env.X}`) that resolves to nothing here: its Provision
// would dial no address, or connect without them (to a Redis that asks
// for none, unseen). It is a cfutil.Absent of option store: when a
// Caddyfile is adapted, a warning at the store's line (the variable may be
// set where the config runs); at Provision, before the store is opened, a
// refusal.
func CheckResolved(raw json.RawMessage) error {
	var r struct {
		Module string `json:"module"`
		Redis
	}
	if raw == nil || json.Unmarshal(raw, &r) != nil || r.Module != "redis" {
		return nil // no store module's config but Redis's resolves placeholders
	}
	options := [][2]string{{"username", r.Username}, {"password", r.Password}, {"sentinel_username", r.SentinelUsername}, {"sentinel_password", r.SentinelPassword}}
	for _, a := range r.Addresses {
		options = append(options, [2]string{"address", a})
	}
	for _, o := range options {
		if o[1] != "" && caddy.NewReplacer().ReplaceAll(o[1], "") == "" {
			return &cfutil.OptionError{Key: "store", Err: &cfutil.Absent{Err: fmt.Errorf("redis store: %s is empty: is its environment variable set?", o[0])}}
		}
	}
	return nil
}
