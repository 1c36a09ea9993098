package providers

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
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
		_, checked := CheckConfig([]json.RawMessage{raw}, []factor.Channel{factor.ChannelSMS}, "localhost")
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

// CheckResolved: a Twilio from written as an unset variable is the
// reason Validate gives, as cfutil.Absent (a Caddyfile's warning, the
// load's refusal), and nothing at all when a messaging_service_sid sends
// the texts, as at Provision before.
func TestCheckResolvedTellsAnUnsetFromOnlyWhereItMatters(t *testing.T) {
	os.Unsetenv("SMSGATE_TEST_UNSET")
	twilio := func(extra string) json.RawMessage {
		return json.RawMessage(`{"provider": "twilio", "account_sid": "AC1", "auth_token": "t", "from": "{env.SMSGATE_TEST_UNSET}"` + extra + `}`)
	}
	if err := CheckResolved([]json.RawMessage{twilio("")}, nil); !cfutil.IsAbsent(err) || !strings.Contains(err.Error(), "provider 1: twilio: from is empty") {
		t.Errorf("from unset, no messaging service: %v", err)
	}
	if err := CheckResolved([]json.RawMessage{twilio(`, "messaging_service_sid": "MG1"`)}, nil); err != nil {
		t.Errorf("from unset beside a messaging service: %v", err)
	}
	// Adapting, the unset one is told and the next provider still checked.
	var told []error
	err := CheckResolved([]json.RawMessage{twilio(""), json.RawMessage(`{"provider": "webhook", "url": "ftp://gw.example.com"}`)},
		func(err error) { told = append(told, err) })
	if len(told) != 1 || !strings.Contains(told[0].Error(), "provider 1: twilio: from is empty") || err == nil || !strings.Contains(err.Error(), "provider 2: webhook url") {
		t.Errorf("adapting: told %v, refused %v", told, err)
	}
}
