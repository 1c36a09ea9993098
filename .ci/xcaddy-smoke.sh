#!/usr/bin/env bash
# Does what `xcaddy build --with github.com/smsgate/caddy-smsgate=./` does
# (xcaddy itself cannot be fetched here): a throwaway main module that
# imports Caddy's standard modules and ours through a replace to this
# checkout, built with go build; then the binary must list our modules and
# adapt the quickstart.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
caddy_version=$(cd "$repo" && go list -m -f '{{.Version}}' github.com/caddyserver/caddy/v2)

cd "$work"
cat > main.go <<'GO'
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/smsgate/caddy-smsgate"
)

func main() {
	caddycmd.Main()
}
GO
go mod init caddy >/dev/null 2>&1
go mod edit -require "github.com/caddyserver/caddy/v2@$caddy_version" \
	-require github.com/smsgate/caddy-smsgate@v0.0.0 \
	-replace "github.com/smsgate/caddy-smsgate=$repo"
go mod tidy
go build -o caddy .
modules=$(./caddy list-modules)
for m in smsgate http.handlers.smsgate admin.api.smsgate smsgate.providers.log smsgate.stores.badger smsgate.stores.redis; do
	grep -qx "$m" <<<"$modules" || { echo "xcaddy smoke test: $m is missing from list-modules" >&2; exit 1; }
done
./caddy adapt --config "$repo/caddyfile-examples/quickstart.Caddyfile" >/dev/null
echo "xcaddy smoke test: ok (caddy $caddy_version with smsgate)"
