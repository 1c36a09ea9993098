package admin

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/enrollment"
)

// TestAnImportStoppedPartWayIsSaid: through the admin API (and so the CLI
// on a running Caddy), an import a store without transactions stopped
// part way answers 503 with how far it got and to run it again, not the
// store's own words. Before, it was the bare "the store did not answer",
// and the admin could not tell that records were written.
func TestAnImportStoppedPartWayIsSaid(t *testing.T) {
	err := apiError(&enrollment.PartialImportError{Written: 7, Of: 20, Err: errors.New("dial tcp 10.0.0.7:6379: connection refused")})
	var ae caddy.APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != http.StatusServiceUnavailable ||
		!strings.Contains(ae.Message, "stopped after 7 of 20 records: run the same import again") || strings.Contains(ae.Message, "10.0.0.7") {
		t.Fatalf("a partial import through the admin API: %#v", err)
	}
}
