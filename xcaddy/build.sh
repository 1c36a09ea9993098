#!/usr/bin/env bash
# Builds Caddy with smsgate using xcaddy (https://github.com/caddyserver/xcaddy).
#
#   xcaddy/build.sh                 # the latest release of smsgate
#   xcaddy/build.sh v0.1.0          # a given release
#   xcaddy/build.sh local           # this checkout, for development
#
# Extra modules can follow, as xcaddy takes them: xcaddy/build.sh latest --with github.com/x/y
set -euo pipefail
version=${1:-latest}
shift || true
if ! command -v xcaddy >/dev/null; then
	echo "xcaddy is not installed: go install github.com/caddyserver/xcaddy/cmd/xcaddy@latest" >&2
	exit 1
fi
if [ "$version" = local ]; then
	module="github.com/smsgate/caddy-smsgate=$(cd "$(dirname "$0")/.." && pwd)"
else
	module="github.com/smsgate/caddy-smsgate@$version"
fi
xcaddy build --with "$module" "$@"
./caddy list-modules | grep -q '^http.handlers.smsgate$' && echo "built ./caddy with smsgate"
