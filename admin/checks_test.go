package admin

import (
	"cmp"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// What two gates' configs differ in before a code, as the handler's JSON
// says it: the number policy, a provider's Lookup (not where it lives),
// and the first factor's source where both have one; and step_up and
// max_age where a change at the devices page is held to sign-ins of
// other ages (attack33: the site's gate added a phone with a session
// /admin's step_up 1m sent to a step-up).
func TestGatesDifferInWhatTheyCheck(t *testing.T) {
	t.Parallel()
	gate := func(raw string) *Config {
		var c Config
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			t.Fatal(err)
		}
		c.StepUp = cmp.Or(c.StepUp, caddy.Duration(5*time.Minute)) // the default, as a running gate has it
		return &c
	}
	site := gate(`{"identity":"{http.auth.user.id}","providers":[{"provider":"twilio","auth_token":"secret","lookup":{"base_url":"http://a"}}]}`)
	for _, tc := range []struct {
		raw  string
		want []string
	}{
		{`{"identity":"{http.auth.user.id}","providers":[{"provider":"twilio","lookup":{"base_url":"http://b"}}]}`, nil},
		{`{"identity":"{http.auth.user.id}","providers":[{"provider":"twilio","lookup":{"sim_swap_within":604800000000000,"each_send":true}}]}`, []string{"lookup"}},
		{`{"identity":"{http.auth.user.id}","providers":[{"provider":"twilio"}]}`, []string{"lookup"}},
		{`{"identity":"{http.auth.user.id}","allowed_regions":["DE"],"deny_prefixes":["+4930"],"number_types":{"sms":["mobile"]},"providers":[{"provider":"twilio","lookup":{}}]}`,
			[]string{"allowed_regions", "deny_prefixes", "number_types"}},
		{`{"identity":"{http.request.header.Remote-User}","identity_from":["X-User"],"providers":[{"provider":"twilio","lookup":{}}]}`, []string{"identity", "identity_from"}},
		// A login form's sessions are marked, and refused by a first factor's gate.
		{`{"identity":"none","providers":[{"provider":"twilio","lookup":{}}]}`, nil},
		// A change at the devices page held to sign-ins of other ages
		// (site: step_up 5m): another step_up, a max_age shorter than it;
		// not a max_age no shorter than step_up, nor the same hold.
		{`{"identity":"{http.auth.user.id}","step_up":60000000000,"providers":[{"provider":"twilio","lookup":{}}]}`, []string{"step_up"}},
		{`{"identity":"{http.auth.user.id}","step_up":"5m","max_age":"1m","providers":[{"provider":"twilio","lookup":{}}]}`, []string{"max_age"}},
		{`{"identity":"{http.auth.user.id}","step_up":"1m","max_age":"30s","providers":[{"provider":"twilio","lookup":{}}]}`, []string{"step_up", "max_age"}},
		{`{"identity":"{http.auth.user.id}","step_up":"5m","max_age":"10m","providers":[{"provider":"twilio","lookup":{}}]}`, nil},
		{`{"identity":"{http.auth.user.id}","step_up":"5m","providers":[{"provider":"twilio","lookup":{}}]}`, nil},
	} {
		if got := site.differences(gate(tc.raw)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: differ in %v; want %v", tc.raw, got, tc.want)
		}
	}
}
