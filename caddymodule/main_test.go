package caddymodule_test

import (
	"testing"

	// file_server and the file matcher, which the error-route tests'
	// configs name: sitetest leaves them out (modules.go), and the start
	// check reads them by module ID (admin.fileRoot).
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestMain runs the tests through this binary's own Caddy (see sitetest).
func TestMain(m *testing.M) { sitetest.Main(m) }
