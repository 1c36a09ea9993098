package caddymodule_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestCaddyfileAdapt compares each testdata/adapt/*.caddyfiletest, a
// Caddyfile and the JSON it must adapt to, separated by a line of dashes.
func TestCaddyfileAdapt(t *testing.T) {
	files, _ := filepath.Glob("testdata/adapt/*.caddyfiletest")
	examples, _ := filepath.Glob("../caddyfile-examples/*.Caddyfile")
	files = append(files, examples...)
	if len(files) < 2 {
		t.Fatal("no adapt tests found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			caddyfile, want, golden := strings.Cut(string(raw), "\n----------\n")
			if !golden {
				// An example: it must adapt without error or warning.
				_, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(raw, map[string]any{"filename": f})
				if err != nil || len(warnings) > 0 {
					t.Fatalf("adapting %s: %v %v", f, err, warnings)
				}
				return
			}
			sitetest.AssertAdapt(t, caddyfile+"\n", want)
		})
	}
}

// TestCaddyfileErrorsNameTheLine: a typo is reported with its line.
func TestCaddyfileErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ option, want string }{
		{"sesion_lifetime 1h", "unrecognized subdirective 'sesion_lifetime'"},
		{"code_ttl five", `code_ttl: bad duration "five"`},
		{"session_lifetime", "wrong argument count"},
		{"signing_key", "wrong argument count"},
		{"code_length six", `code_length: "six" is not a whole number`},
		{"user alice", "user takes a name and a phone number"},
		{"store badger /a\n\t\tstore badger /b", "store is given twice"},
		{"provider carrier-pigeon", "smsgate.providers.carrier-pigeon"},
		{"provider log extra", "wrong argument count"},
		{"provider log {\n\t\t\tallow_publik\n\t\t}", "unrecognized log provider option 'allow_publik'"},
		{"store badger {\n\t\t\tpth /x\n\t\t}", "unrecognized badger store option 'pth'"},
		// Out of range, or given twice: refused with the line.
		{"code_length 4", "code_length must be from 6 to 10, not 4"},
		{"max_attempts 20", "max_attempts must be from 1 to 10, not 20"},
		{"code_ttl 20m", "code_ttl must be from 30s to 10m0s, not 20m0s"},
		{"max_failures 500", "max_failures must be from 1 to 100"},
		{"enrollment maybe", `enrollment must be open or closed, not "maybe"`},
		{"signing_alg RS256", `signing_alg must be HS256 or EdDSA, not "RS256"`},
		{"channels sms fax", `unknown channel "fax"`},
		{"limit bogus 1 1h", `unknown limit "bogus"`},
		{"realm a.example\n\t\trealm b.example", "realm is given twice"},
		{"limit user 5 1h\n\t\tlimit user 6 1h", "limit user is given twice"},
		{"code_ttl 1m\n\t\tcode_ttl 2m", "code_ttl is given twice"},
		{"allowed_regions voice US\n\t\tallowed_regions voice CA", "allowed_regions voice is given twice"},
		{"pumping_guard maybe", "pumping_guard takes a block, or off"},
		{"pumping_guard {\n\t\t\tmin_conversion 150%\n\t\t}", "min_conversion must be from 1 to 99, not 150"},
		{"pumping_guard {\n\t\t\tpause 3d\n\t\t}", "pause must be from 1m"},
		{"pumping_guard off\n\t\tpumping_guard off", "pumping_guard is given twice"},
		{"costs {\n\t\t\tprice GB fax 1\n\t\t}", `unknown channel "fax"`},
		{"costs {\n\t\t\tprice GB sms -1\n\t\t}", `want a decimal`},
		// The number policy's own options: their line, not the directive's.
		{"deny_prefixes +44 12a", `deny_prefixes: number prefix "12a" must be + and digits`},
		{"allow_prefixes +1x", `allow_prefixes: number prefix "+1x" must be + and digits`},
		{"number_types sms mobil", `number_types sms: unknown type "mobil"`},
		{"number_types fax mobile", `number_types: unknown channel "fax"`},
		{"allowed_regions voice XX", `"XX" is not a region code`},
		// Accepted before, to fail at the first sign-in (a forward-auth
		// check's redirect to "auth.example.com/.smsgate/login", a relative
		// path; a country picker with no such country), or named the
		// directive's line.
		{"portal_url auth.example.com", `portal_url must be a scheme and host such as https://app.example.com, not "auth.example.com"`},
		{"default_region XX", `default_region "XX" is not a region code`},
		// Plain http away from localhost: the browser drops the Secure
		// cookies, and no sign-in could finish.
		{"portal_url http://auth.example.com", `portal_url "http://auth.example.com" is plain http`},
		{"public_origin http://app.example.com", `public_origin "http://app.example.com" is plain http`},
		{"site_origin foo", `site_origin must be a scheme and host such as https://app.example.com (a path may follow; no user, query or fragment), not "foo"`},
		// The example a phone's error gives is a number, not its placeholder.
		{"user alice 555-1234", `Enter a phone number in international format, for example +1 201-555-0123.`},
	} {
		cfg := "localhost {\n\tsmsgate {\n\t\tprovider log\n\t\t" + tc.option + "\n\t}\n}\n"
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
		if err == nil {
			t.Errorf("%q: no error", tc.option)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Caddyfile:") {
			t.Errorf("%q: error %q; want it to contain %q and the line", tc.option, err, tc.want)
		}
		if !strings.Contains(err.Error(), "Caddyfile:4") && !strings.Contains(err.Error(), "Caddyfile:5") {
			t.Errorf("%q: error %q does not name line 4 or 5", tc.option, err)
		}
	}
}

// TestConfigErrors: a config that adapts but cannot run is refused at load
// with a message that says what to fix.
func TestConfigErrors(t *testing.T) {
	os.Unsetenv("SMSGATE_TEST_UNSET")
	t.Setenv("SMSGATE_TEST_SHORT", "short")
	for _, tc := range []struct{ options, want string }{
		{"provider log\n\t\tsigning_key {env.SMSGATE_TEST_UNSET}", "signing_key is empty: is its environment variable set?"},
		{"provider log\n\t\tsigning_key {env.SMSGATE_TEST_SHORT}", "signing_key is 5 bytes; it must be at least 32"},
		{"", "no provider"},
		{"provider log\n\t\tenrollment maybe", "enrollment must be"},
		{"provider log\n\t\tidentity none\n\t\tenrollment open", "enrollment open needs a first factor"},
		{"provider log\n\t\tidentity alice", "identity must be a placeholder"},
		{"provider log\n\t\tcode_length 5", "code_length must be from 6 to 10"},
		{"provider log\n\t\tcode_ttl 11m", "code_ttl must be from 30s to 10m"},
		{"provider log\n\t\tuser alice 555-1234", "Enter a phone number in international format"},
		{"provider log\n\t\tpath_prefix /auth", "path_prefix must begin and end with '/'"},
		{"provider log {\n\t\t\tname a\n\t\t}\n\t\tprovider log {\n\t\t\tname a\n\t\t}", "two providers are named"},
	} {
		cfg := "{\n\tadmin localhost:{ADMIN_PORT}\n}\nhttp://localhost:{HTTP_PORT} {\n\tsmsgate {\n\t\tstore badger {DIR}\n\t\t" + tc.options + "\n\t}\n}\n"
		sitetest.AssertLoadError(t, cfg, tc.want)
	}
}
