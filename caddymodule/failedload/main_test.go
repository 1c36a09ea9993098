package failedload

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
