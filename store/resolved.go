package store

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

// Unresolved tells warn of each of a Redis store's addresses and
// credentials written as a placeholder (`{env.X}`) that resolves to
// nothing here, as a cfutil.Absent of option store: a Caddyfile's adapter
// warns at the store's line. Its Provision dials with what is left: no
// address (refused there), or no password (which a Redis that asks for
// none takes: the shipped examples' REDIS_PASSWORD may be unset).
func Unresolved(raw json.RawMessage, warn func(error)) {
	var r struct {
		Module string `json:"module"`
		Redis
	}
	if raw == nil || json.Unmarshal(raw, &r) != nil || r.Module != "redis" {
		return // no store module's config but Redis's resolves placeholders
	}
	options := [][2]string{{"username", r.Username}, {"password", r.Password}, {"sentinel_username", r.SentinelUsername}, {"sentinel_password", r.SentinelPassword}}
	for _, a := range r.Addresses {
		options = append(options, [2]string{"address", a})
	}
	for _, o := range options {
		if o[1] != "" && caddy.NewReplacer().ReplaceAll(o[1], "") == "" {
			warn(&cfutil.OptionError{Key: "store", Err: &cfutil.Absent{Err: fmt.Errorf("redis store: %s is empty: is its environment variable set?", o[0])}})
		}
	}
}

// notHostPort refuses an address written as a URL (redis://:password@host,
// as many clients take it), without quoting it: its password would be in
// the error (go-redis dials it as host:port and fails).
func notHostPort(addrs []string) error {
	for i, a := range addrs {
		if strings.Contains(a, "://") || strings.Contains(a, "@") {
			return fmt.Errorf("redis store: address %d is a URL or holds a credential: write host:port, and password (or username) on its own", i+1)
		}
	}
	return nil
}
