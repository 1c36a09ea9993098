package providers

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestACheckAndProvisionNeedTheSame: a provider's config checked
// unprovisioned (CheckConfig) and its Provision refuse a missing option
// alike, from one list (needs); and with api_key, Provision signs with the
// key and its secret, the account_sid in the path.
func TestACheckAndProvisionNeedTheSame(t *testing.T) {
	for _, m := range []interface {
		caddy.Module
		caddy.Provisioner
	}{
		&Twilio{AuthToken: "t", From: "+1"},
		&Twilio{AccountSID: "AC1", From: "+1"},
		&Twilio{AccountSID: "AC1", AuthToken: "t", APIKey: "SK1", From: "+1"},
		&Signal{Number: "+1"},
		&Signal{URL: "http://signal.internal"},
	} {
		raw, _ := json.Marshal(m)
		var fields map[string]any
		_ = json.Unmarshal(raw, &fields)
		fields["provider"] = m.CaddyModule().ID.Name()
		raw, _ = json.Marshal(fields)
		_, checked := CheckConfig([]json.RawMessage{raw}, []string{SMS}, "localhost")
		provisioned := m.Provision(caddy.Context{})
		if checked == nil || provisioned == nil || errors.Unwrap(checked).Error() != provisioned.Error() {
			t.Errorf("%s: checked %v, provisioned %v; want one refusal", raw, checked, provisioned)
		}
	}
	tw := &Twilio{AccountSID: "AC1", APIKey: "SK1", APISecret: "s", From: "+1"}
	if err := tw.Provision(caddy.Context{}); err != nil || tw.user != "SK1" || tw.pass != "s" || tw.AccountSID != "AC1" {
		t.Errorf("api_key: %v, user %q pass %q account %q", err, tw.user, tw.pass, tw.AccountSID)
	}
}
