package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/store"
)

// A Redis address written as a URL with its password (redis://:pw@host,
// the form many Redis clients take) is no address this store dials: its
// refusal must not quote the password into Caddy's log.
func TestARedisURLsPasswordIsNotQuoted(t *testing.T) {
	t.Parallel()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	const secret = "S3CRETr3d1s"
	for _, addr := range []string{
		fmt.Sprintf("redis://:%s@127.0.0.1:%d", secret, harness.Port(t)),
		fmt.Sprintf("rediss://default:%s@127.0.0.1:%d/0", secret, harness.Port(t)),
	} {
		_, err := ctx.LoadModuleByID("smsgate.stores.redis", []byte(fmt.Sprintf(`{"addresses":[%q]}`, addr)))
		if err == nil {
			t.Fatalf("%s: loaded", addr)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the refusal quotes the password: %v", err)
		}
		// A Caddyfile's is refused when adapted, at its line.
		var r store.Redis
		err = r.UnmarshalCaddyfile(caddyfile.NewTestDispenser("redis {\n\taddress " + addr + "\n}"))
		if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "Testfile:2") {
			t.Errorf("adapting %s: %v", addr, err)
		}
	}
}
