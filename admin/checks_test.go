package admin

import (
	"encoding/json"
	"slices"
	"testing"
)

// What two gates' configs differ in before a code, as the handler's JSON
// says it: the number policy, a provider's Lookup (not where it lives),
// and the first factor's source where both have one.
func TestGatesDifferInWhatTheyCheck(t *testing.T) {
	t.Parallel()
	gate := func(raw string) *Config {
		var c Config
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			t.Fatal(err)
		}
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
	} {
		if got := site.differences(gate(tc.raw)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: differ in %v; want %v", tc.raw, got, tc.want)
		}
	}
}
