// Command caddy is Caddy with its standard modules and smsgate: the
// development build used by the quickstart and the tests. For production,
// build your own with xcaddy (see xcaddy/).
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/smsgate/caddy-smsgate"
)

func main() {
	caddycmd.Main()
}
