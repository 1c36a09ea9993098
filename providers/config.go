package providers

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/internal/localhost"
)

// Decode reads one provider's config into its module, unprovisioned:
// enough to check what the config says before anything is loaded.
func Decode(raw json.RawMessage) (caddy.Module, error) {
	var head struct {
		Provider string `json:"provider"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("provider: %v", err)
	}
	info, err := caddy.GetModule("smsgate.providers." + head.Provider)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %v", head.Provider, err)
	}
	m := info.New()
	if err := json.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("provider %s: %v", head.Provider, err)
	}
	if _, ok := m.(Sender); !ok {
		return nil, fmt.Errorf("module %T is not a smsgate provider", m)
	}
	return m, nil
}

// Name is the i-th provider's name in a chain (counted from 0): its own
// (Naming), or its module's and place (webhook.2).
func Name(m caddy.Module, i int) string {
	if n, ok := m.(interface{ ProviderName() string }); ok && n.ProviderName() != "" {
		return n.ProviderName()
	}
	return m.CaddyModule().ID.Name() + "." + strconv.Itoa(i+1)
}

// CheckConfig checks what a gate's providers' config says, without
// provisioning them: one at least, each with its own name, a provider for
// every channel, a Verify provider alone, and no log provider for a site
// that is not localhost (every send would fail, and count). verifies says
// the provider makes and checks its own codes. A mistake names its option
// (cfutil.OptionError: "provider 2", "channels").
func CheckConfig(raws []json.RawMessage, channels []factor.Channel, host string) (verifies bool, err error) {
	var mods []caddy.Module
	for i, raw := range raws {
		m, err := Decode(raw)
		if err != nil {
			return false, &cfutil.OptionError{Key: "provider " + strconv.Itoa(i+1), Err: err}
		}
		mods = append(mods, m)
	}
	if len(mods) == 0 {
		return false, cfutil.OptionErrf("", "no provider: add one, e.g. `provider log` for local development")
	}
	names := map[string]bool{}
	for i, m := range mods {
		key := "provider " + strconv.Itoa(i+1)
		name := Name(m, i)
		if names[name] {
			return false, cfutil.OptionErrf(key, "two providers are named %q: give each its own name", name)
		}
		names[name] = true
		if v, ok := m.(Verifier); ok && v.Verifies() {
			if len(mods) > 1 {
				return false, cfutil.OptionErrf(key, "a Verify provider makes and checks its own codes, so it cannot fail over to other providers: configure it alone")
			}
			verifies = true
		}
		if w, ok := m.(*Webhook); ok {
			if err := w.checkBody(); err != nil {
				return false, &cfutil.OptionError{Key: key, Err: err}
			}
		}
		if n, ok := m.(interface{ needs() []needed }); ok {
			if err := unwritten(n.needs()); err != nil {
				return false, &cfutil.OptionError{Key: key, Err: err}
			}
		}
		if l, ok := m.(*Log); ok && !l.AllowPublic && !localhost.Is(host) {
			return false, cfutil.OptionErrf(key, "provider log writes codes to Caddy's log, so it sends only for localhost sites, and this site is %s: every send would fail. Use a real provider (or `provider log { allow_public }` to test a deployment)", host)
		}
	}
	for _, ch := range channels {
		if err := ch.Check(); err != nil {
			return false, &cfutil.OptionError{Key: "channels", Err: err}
		}
		supported := false
		for _, m := range mods {
			s, ok := m.(Sender)
			supported = supported || (ok && Supports(s, ch))
		}
		if !supported {
			return false, cfutil.OptionErrf("channels", "channel %s: no provider delivers on it (for Twilio, add `voice`)", ch)
		}
	}
	return verifies, nil
}

// CheckResolved provisions and validates each provider but a log (whose
// Provision takes a logger and refuses nothing) as Caddy's load will, and
// so checks what its options resolve to here: a Caddyfile's adapter runs
// it, so that a mistake names its provider's line ("provider 2"). A
// provider's Provision opens nothing (no connection, no file written): one
// that must would be left out here. One that resolves to nothing here (an
// unset `{env.X}`) is cfutil.Absent: with absent set (adapting) it goes to
// it, and the next provider is checked.
func CheckResolved(raws []json.RawMessage, absent func(error)) error {
	for i, raw := range raws {
		m, err := Decode(raw)
		if _, log := m.(*Log); err == nil && !log && ours(m) {
			err = provisioned(m)
		}
		if err != nil { // a JSON config's load names it too
			key := "provider " + strconv.Itoa(i+1)
			if err = (&cfutil.OptionError{Key: key, Err: fmt.Errorf("%s: %w", key, err)}); cfutil.Stops(err, absent) {
				return err
			}
		}
	}
	return nil
}

// ours reports whether m is one of this package's providers: only their
// Provision is known to do nothing but read options, so only theirs runs
// at adapt time (another's may want a live Context, or start what only a
// Cleanup stops); another's mistakes are refused by Caddy's load.
func ours(m caddy.Module) bool {
	t := reflect.TypeOf(m)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == reflect.TypeFor[Twilio]().PkgPath()
}

// provisioned is why Caddy's load would refuse provider m: its Provision's
// error, or its Validate's (for a Twilio, the option written unset that
// explains it, if one is: read before Provision resolves it).
func provisioned(m caddy.Module) error {
	var unset error
	if t, ok := m.(*Twilio); ok {
		unset = t.unset()
	}
	if p, ok := m.(caddy.Provisioner); ok {
		if err := p.Provision(caddy.Context{}); err != nil {
			return err
		}
	}
	if v, ok := m.(caddy.Validator); ok {
		if err := v.Validate(); err != nil {
			return cmp.Or(unset, err)
		}
	}
	return nil
}

// unset is the first of a Twilio's options that may be left out that is
// written as a placeholder resolving to nothing here, as an Absent: when
// Validate refuses the rest, the reason (from, say, or verify_service).
func (t *Twilio) unset() error {
	for _, o := range [][2]string{{"from", t.From}, {"messaging_service_sid", t.MessagingServiceSID}, {"verify_service", t.VerifyService}, {"api_key", t.APIKey}} {
		if o[1] != "" && optional(o[1]) == "" {
			return &cfutil.Absent{Err: fmt.Errorf("twilio: %s is empty: is its environment variable set?", o[0])}
		}
	}
	return nil
}

// What a provider cannot send without, in one place for both of its
// checks: the config's, unprovisioned (CheckConfig, at the provider's
// line: an option not written at all), and Provision's, which resolves
// each (often `{env.X}`: one that resolves to nothing is named there).

// needed is an option a provider cannot send without: its name, what the
// config wrote, what its absence says, and whether it is the gateway's
// URL (then http or https, with a host: gw.example.com or
// signal.internal:8080 without its scheme failed at every send).
type needed struct {
	name, value, missing string
	url                  bool
}

// notURL says why value is no gateway URL, or "".
func notURL(name, value string) error {
	if u, err := url.Parse(value); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		return nil
	}
	return fmt.Errorf("%s %q must be an http or https URL with a host, such as https://gateway.example.com/send", name, shownURL(value))
}

// shownURL is value as a refusal quotes it: without its query, fragment
// and user info, which may hold a gateway's key (a literal in the
// Caddyfile: the refusal goes to Caddy's log).
func shownURL(value string) string {
	if i := strings.IndexAny(value, "?#"); i >= 0 {
		value = value[:i] + "?…"
	}
	start := 0
	if i := strings.Index(value, "://"); i >= 0 {
		start = i + 3
	}
	host := value[start:]
	if i := strings.IndexAny(host, "/?"); i >= 0 {
		host = host[:i]
	}
	if at := strings.LastIndex(host, "@"); at >= 0 {
		value = value[:start] + "…@" + value[start+at+1:]
	}
	return value
}

func (t *Twilio) needs() []needed {
	pass := needed{"auth_token", t.AuthToken, "twilio: auth_token is required (or api_key and api_secret)", false}
	if t.APIKey != "" {
		pass = needed{"api_secret", t.APISecret, "twilio: api_key needs its api_secret", false}
	}
	return []needed{{"account_sid", t.AccountSID, "twilio: account_sid is required", false}, pass}
}

func (s *Signal) needs() []needed {
	const missing = "signal needs a url and a number"
	return []needed{{"signal url", s.URL, missing, true}, {"signal number", s.Number, missing, false}}
}

func (w *Webhook) needs() []needed {
	return []needed{{"webhook url", w.URL, "webhook needs a url: provider webhook https://…", true}}
}

// unwritten is the first of needs the config left out.
func unwritten(needs []needed) error {
	for _, n := range needs {
		if strings.TrimSpace(n.value) == "" {
			return errors.New(n.missing)
		}
		if n.url && !strings.Contains(n.value, "{") { // a placeholder: once resolved
			if err := notURL(n.name, n.value); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolve resolves needs, in order (Provision).
func resolve(needs []needed) ([]string, error) {
	if err := unwritten(needs); err != nil {
		return nil, err
	}
	values := make([]string, len(needs))
	for i, n := range needs {
		var err error
		if values[i], err = secret(n.name, n.value); err != nil {
			return nil, err
		}
		if n.url && notURL(n.name, values[i]) != nil { // not quoted: a URL may hold a key
			return nil, fmt.Errorf("%s %s, as it resolves here, must be an http or https URL with a host, such as https://gateway.example.com/send", n.name, n.value)
		}
	}
	return values, nil
}
