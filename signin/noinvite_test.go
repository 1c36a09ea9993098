package signin

import (
	"errors"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/enrollment"
)

// TestRefuseInviteRefusesAConfigUsersTwin (review36's 1): an invite for a
// config user, or for her name under twinKey (capitals, full-width
// letters, spaces, a hidden character), is refused
// (enrollment.ErrInviteConfigPhone, its 409), a twin's in words naming
// the config's spelling; another name is not. The caddymodule test
// TestNoInviteForATwinOfAConfigUser shows it through a real Caddy.
func TestRefuseInviteRefusesAConfigUsersTwin(t *testing.T) {
	t.Parallel()
	config := []string{"alice", "carol"}
	for _, user := range []string{"Carol", "CAROL", "ｃａｒｏｌ", " carol", "car\u00adol"} {
		err := RefuseInvite(user, config)
		if !errors.Is(err, enrollment.ErrInviteConfigPhone) || !strings.Contains(err.Error(), "from carol, whose phone is set in the configuration") {
			t.Errorf("an invite for %q: %v", user, err)
		}
	}
	if err := RefuseInvite("carol", config); err != enrollment.ErrInviteConfigPhone {
		t.Errorf("an invite for carol: %v", err)
	}
	for _, user := range []string{"caroline", "dan", "car ol"} {
		if err := RefuseInvite(user, config); err != nil {
			t.Errorf("an invite for %q: %v", user, err)
		}
	}
}
