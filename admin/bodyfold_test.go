package admin

import (
	"strings"
	"testing"
)

// TestAFieldNamedTwiceUnderUnicodeFoldingIsRefused: Go's decoder matches
// "uſer" (U+017F) to the field user, as strings.EqualFold does, and keeps
// the last: {"user":"alice","uſer":"mallory"} acted on mallory (review28).
func TestAFieldNamedTwiceUnderUnicodeFoldingIsRefused(t *testing.T) {
	var req struct {
		User string `json:"user"`
	}
	err := decodeBody(strings.NewReader(`{"user":"alice","uſer":"mallory"}`), &req)
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("decodeBody: %v (user %q); want refused, the field named twice", err, req.User)
	}
}
