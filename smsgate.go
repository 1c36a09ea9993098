// Package smsgate is phone-based multi-factor authentication for Caddy.
// Importing it (as `xcaddy build --with github.com/smsgate/caddy-smsgate`
// does) registers the `smsgate` directive and all of its modules.
package smsgate

import (
	_ "github.com/smsgate/caddy-smsgate/admin"
	_ "github.com/smsgate/caddy-smsgate/caddymodule"
	_ "github.com/smsgate/caddy-smsgate/providers"
	_ "github.com/smsgate/caddy-smsgate/store"
)
