package processes

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// `caddy validate` on a config that cannot run says what is wrong, with its
// line, and leaves nothing behind: the config is checked before any store
// is opened (on main the store's folder was made first). An enclosing
// block's matcher is checked too: read from the file.
func TestValidateRefusesWithTheLineAndOpensNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i, tc := range []struct{ site, want string }{
		{`	basic_auth {
		alice ` + demoHash + `
	}
	smsgate {
		store badger STORE
		provider log
		signing_key {env.SMSGATE_VALIDATE_UNSET}
	}`, "signing_key is empty"},
		{`	handle /app/* {
		basic_auth {
			alice ` + demoHash + `
		}
		smsgate {
			store badger STORE
			provider log
		}
		respond "app"
	}`, "handle /app/* leaves /.smsgate/login to other handlers"},
		{`	smsgate {
		identity {header.Remote-User}
		store badger STORE
		provider log
	}`, "Caddyfile:6"},
	} {
		store := filepath.Join(dir, "store", string(rune('a'+i)))
		file := filepath.Join(dir, "Caddyfile")
		cfg := "{\n\tadmin off\n}\nhttp://localhost:8080 {\n" + strings.ReplaceAll(tc.site, "STORE", store) + "\n}\n"
		if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := runBuild(t, []string{"SMSGATE_VALIDATE_UNSET="}, "validate", "--config", file)
		line := "Caddyfile:"
		if i == 0 {
			line = `"line":11}` // an unset variable: a warning at its line, then the load's refusal
		}
		if err == nil || !strings.Contains(out, tc.want) || !strings.Contains(out, line) {
			t.Errorf("%d: caddy validate: %v, want %q in:\n%s", i, err, tc.want, out)
		}
		if _, err := os.Stat(store); !os.IsNotExist(err) {
			t.Errorf("%d: caddy validate of a refused config made %s", i, store)
		}
	}
}

// A mistake that may be meant is a warning, not a refusal: `caddy adapt`
// (as `caddy run` and `caddy reload`, which adapt the same way) prints it
// with its file and line, and the config adapts. One Caddyfile holds a
// site for each mistake, so one `caddy adapt` shows each site's warning at
// its own line (a process per case cost a Caddy start each).
func TestAdaptWarnsWithTheLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, site, msg string
		line            int // within site
	}{
		{"a path_prefix without a dot segment", `http://one.localhost:8080 {
	basic_auth {
		alice ` + demoHash + `
	}
	smsgate {
		path_prefix /auth/
		provider log
	}
}`, `"msg":"smsgate: path_prefix /auth/: every path under it is the gate's`, 6},
		{"no first factor before the gate", `http://two.localhost:8080 {
	smsgate {
		provider log
	}
}`, `"msg":"smsgate: identity {http.auth.user.id}: no basic_auth runs before smsgate`, 2},
		{"a forward_auth that skips some requests", `http://three.localhost:8080 {
	@private not path /public/*
	forward_auth @private 127.0.0.1:9 {
		uri /verify
		copy_headers Remote-User
	}
	smsgate {
		identity {header.Remote-User}
		provider log
	}
}`, `"msg":"smsgate: forward_auth @private does not run for every request; where it does not, Remote-User names nobody`, 3},
		// A gate over some paths, the rest proxied without it: GET
		// /admin;x/y misses @admin, and Tomcat serves it as /admin/y.
		{"a gate over some paths beside a proxied rest", `http://four.localhost:8080 {
	basic_auth {
		alice ` + demoHash + `
	}
	@admin path /admin/* /.smsgate/*
	handle @admin {
		smsgate {
			provider log
		}
		reverse_proxy 127.0.0.1:9
	}
	handle {
		reverse_proxy 127.0.0.1:9
	}
}`, `"msg":"smsgate: handle @admin protects only the paths it matches, and the site proxies the others to a backend without the gate`, 6},
		{"a gate's own matcher over some paths", `http://six.localhost:8080 {
	basic_auth {
		alice ` + demoHash + `
	}
	@admin path /admin/* /.smsgate/*
	smsgate @admin {
		provider log
	}
	reverse_proxy 127.0.0.1:9
}`, `"msg":"smsgate: smsgate's matcher protects only the paths it matches`, 6},
		// What the machine that runs the config holds, not there where it
		// is adapted: maybe there where it runs (the load refuses it).
		{"a signing_key from an unset variable", `http://seven.localhost:8080 {
	smsgate {
		identity none
		provider log
		signing_key {env.SMSGATE_ADAPT_UNSET}
	}
}`, `"msg":"smsgate: signing_key is empty: is its environment variable set?"`, 5},
		{"a templates_dir not there", `http://eight.localhost:8080 {
	smsgate {
		identity none
		templates_dir /nonexistent/smsgate-templates
		provider log
	}
}`, `"msg":"smsgate: templates_dir /nonexistent/smsgate-templates: no such folder"`, 4},
		{"a provider's secret from an unset variable", `http://nine.localhost:8080 {
	smsgate {
		identity none
		provider log
		provider twilio {
			account_sid AC123
			auth_token {env.SMSGATE_ADAPT_UNSET}
			from +15005550006
		}
	}
}`, `"msg":"smsgate: provider 2: auth_token is empty: is its environment variable set?"`, 5},
		{"a Redis password from an unset variable", `http://ten.localhost:8080 {
	smsgate {
		identity none
		provider log
		store redis {
			password {env.SMSGATE_ADAPT_UNSET}
		}
	}
}`, `"msg":"smsgate: redis store: password is empty: is its environment variable set?"`, 5},
		{"a Badger folder from an unset variable", `http://eleven.localhost:8080 {
	smsgate {
		identity none
		provider log
		store badger {env.SMSGATE_ADAPT_UNSET}/smsgate
	}
}`, `"msg":"smsgate: badger store path {env.SMSGATE_ADAPT_UNSET}/smsgate: a placeholder in it is empty here: is its environment variable set?"`, 5},
		{"a Redis address from an unset variable", `http://twelve.localhost:8080 {
	smsgate {
		identity none
		provider log
		store redis {
			address 127.0.0.1:6379 {env.SMSGATE_ADAPT_UNSET}
		}
	}
}`, `"msg":"smsgate: redis store: address 2 ({env.SMSGATE_ADAPT_UNSET}) is empty: is its environment variable set?"`, 5},
		// The whole site behind the gate, some paths public: no warning.
		{"a public path beside a whole-site gate", `http://five.localhost:8080 {
	basic_auth {
		alice ` + demoHash + `
	}
	handle /public/* {
		reverse_proxy 127.0.0.1:9
	}
	handle {
		smsgate {
			provider log
		}
		reverse_proxy 127.0.0.1:9
	}
}`, "", 0},
	}
	if runtime.GOOS == "linux" { // a folder no one may write in, even root
		cases = append(cases, struct {
			name, site, msg string
			line            int
		}{"a Badger folder this user may not write", `http://thirteen.localhost:8080 {
	smsgate {
		identity none
		store badger /proc/self/smsgate
		provider log
	}
}`, `"msg":"smsgate: badger store path /proc/self/smsgate: /proc/self may not be written here`, 4})
	}
	var sites []string
	first := 1 // the line each site starts on
	for i, tc := range cases {
		sites = append(sites, tc.site)
		cases[i].line += first - 1
		first += strings.Count(tc.site, "\n") + 2 // the site, and a blank line
	}
	file := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(file, []byte(strings.Join(sites, "\n\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runBuild(t, []string{"SMSGATE_ADAPT_UNSET="}, "adapt", "--config", file)
	if err != nil {
		t.Fatalf("caddy adapt: %v\n%s", err, out)
	}
	if n := strings.Count(out, "protects only the paths it matches"); n != 2 {
		t.Errorf("caddy adapt: %d warnings of a gate over some paths, want 2 (four's and six's) in:\n%s", n, out)
	}
	for _, tc := range cases {
		if tc.msg == "" {
			continue // a site that warns of nothing
		}
		// The warning and its place, on one line of the log.
		line := fmt.Sprintf(`"file":%q,"line":%d`, file, tc.line)
		if !regexp.MustCompile(regexp.QuoteMeta(tc.msg) + `.*` + regexp.QuoteMeta(line) + `|` + regexp.QuoteMeta(line) + `.*` + regexp.QuoteMeta(tc.msg)).MatchString(out) {
			t.Errorf("%s: caddy adapt: want %s with %s in:\n%s", tc.name, tc.msg, line, out)
		}
	}
}
