// Package cfutil holds Caddyfile parsing helpers shared by the gate and
// its modules.
package cfutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/localhost"
)

// Lines are where each option of a directive was written, by key (the
// option's name, or its name and first argument: "user alice"); "" is the
// directive itself.
type Lines map[string]caddyfile.Token

// Of is where option key was written: the option itself, the first of its
// kind (allowed_regions sms for allowed_regions), or the directive.
func (l Lines) Of(key string) caddyfile.Token {
	if tok, ok := l[key]; ok {
		return tok
	}
	var found *caddyfile.Token
	for k, tok := range l {
		if k != "" && strings.HasPrefix(k, key+" ") && (found == nil || tok.Line < found.Line) {
			found = &tok
		}
	}
	if found != nil {
		return *found
	}
	return l[""]
}

// Both names options a and b where they were written, "File:N and File:M";
// without a line for either (a JSON config), list[i] and list[j].
func (l Lines) Both(a, b, list string, i, j int) string {
	ta, tb := l[a], l[b]
	if ta.Line == 0 || tb.Line == 0 {
		return fmt.Sprintf("%s[%d] and %s[%d]", list, i, list, j)
	}
	return fmt.Sprintf("%s:%d and %s:%d", ta.File, ta.Line, tb.File, tb.Line)
}

// At is where the option err names (KeyOf) was written.
func (l Lines) At(err error) caddyfile.Token { return l.Of(KeyOf(err)) }

// DurationArg reads the one duration argument of the current option.
func DurationArg(d *caddyfile.Dispenser) (caddy.Duration, error) {
	opt := d.Val()
	var v string
	if !d.AllArgs(&v) {
		return 0, d.ArgErr()
	}
	dur, err := caddy.ParseDuration(v)
	if err != nil {
		return 0, d.Errf("%s: bad duration %q: %v", opt, v, err)
	}
	return caddy.Duration(dur), nil
}

// String reads the one argument of the current option.
func String(d *caddyfile.Dispenser, to *string) error {
	if !d.AllArgs(to) {
		return d.ArgErr()
	}
	return nil
}

// List reads one or more arguments, added to what is there (as words of
// a named string type, such as factor.Kind, too).
func List[S ~string](d *caddyfile.Dispenser, to *[]S) error {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	for _, a := range args {
		*to = append(*to, S(a))
	}
	return nil
}

// Channels reads one or more channels (factor.ParseChannel), added to
// what is there: an unknown word is refused at its line.
func Channels(d *caddyfile.Dispenser, to *[]factor.Channel) error {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	for _, a := range args {
		c, err := factor.ParseChannel(a)
		if err != nil {
			return d.Err(err.Error())
		}
		*to = append(*to, c)
	}
	return nil
}

// Number is an option that holds a count or a duration, and the range it
// must be in. A gate's numbers are one table of these, read by its
// Caddyfile parser (Parse, with the line) and by its JSON config's check
// (CheckNumbers, naming the field), so that both refuse the same values in
// the same words.
type Number struct {
	Option   string
	Int      *int            // a count, or
	Duration *caddy.Duration // a duration
	// Min and Max bound it (a count's as plain numbers); Max 0: no maximum.
	Min, Max time.Duration
	// Unset: 0 is the option left out (JSON's omitempty), and passes.
	Unset bool
	// Unit is what a Caddyfile may write after a count ("%": 20%).
	Unit string
}

// value is the number as it is now.
func (n Number) value() time.Duration {
	if n.Int != nil {
		return time.Duration(*n.Int)
	}
	return time.Duration(*n.Duration)
}

// Show writes v as the option's kind of number: 6, 30s.
func (n Number) Show(v time.Duration) string {
	if n.Int != nil {
		return strconv.FormatInt(int64(v), 10)
	}
	return v.String()
}

// refused is why v is out of range, or "" when it is in.
func (n Number) refused(v time.Duration) string {
	switch {
	case v >= n.Min && (n.Max == 0 || v <= n.Max):
		return ""
	case n.Max > 0:
		return fmt.Sprintf("%s must be from %s to %s, not %s", n.Option, n.Show(n.Min), n.Show(n.Max), n.Show(v))
	}
	return fmt.Sprintf("%s must be at least %s, not %s", n.Option, n.Show(n.Min), n.Show(v))
}

// Parse reads the option's one argument (a 0 written out is refused like
// any value out of range).
func (n Number) Parse(d *caddyfile.Dispenser) error {
	var v time.Duration
	if n.Int != nil {
		var arg string
		if !d.AllArgs(&arg) {
			return d.ArgErr()
		}
		i, err := strconv.Atoi(strings.TrimSuffix(arg, n.Unit))
		if err != nil {
			return d.Errf("%s: %q is not a whole number", n.Option, arg)
		}
		v = time.Duration(i)
	} else {
		dur, err := DurationArg(d)
		if err != nil {
			return err
		}
		v = time.Duration(dur)
	}
	if why := n.refused(v); why != "" {
		return d.Err(why)
	}
	if n.Int != nil {
		*n.Int = int(v)
	} else {
		*n.Duration = caddy.Duration(v)
	}
	return nil
}

// FindNumber is the number of numbers that option names, or nil.
func FindNumber(numbers []Number, option string) *Number {
	for i := range numbers {
		if numbers[i].Option == option {
			return &numbers[i]
		}
	}
	return nil
}

// CheckNumbers is the first of numbers out of its range, as an
// OptionError naming it; nil when all are in.
func CheckNumbers(numbers []Number) error {
	for _, n := range numbers {
		if v := n.value(); v != 0 || !n.Unset {
			if why := n.refused(v); why != "" {
				return &OptionError{n.Option, errors.New(why)}
			}
		}
	}
	return nil
}

// Module parses `<option> <module> ...` into the module's JSON,
// with its name under key, the way Caddy's own directives nest modules.
func Module(d *caddyfile.Dispenser, namespace, key string) (json.RawMessage, error) {
	if !d.NextArg() {
		return nil, d.ArgErr()
	}
	name := d.Val()
	mod, err := caddyfile.UnmarshalModule(d, namespace+name)
	if err != nil {
		return nil, err
	}
	return caddyconfig.JSONModuleObject(mod, key, name, nil), nil
}

// OptionError is a mistake in one option of a config; Key names it the way
// the gate's UnmarshalCaddyfile recorded its line ("code_length", "user
// alice", "provider 2", "limit sends"), so that the Caddyfile names it.
type OptionError struct {
	Key string
	Err error
}

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// OptionErrf is a mistake in option key.
func OptionErrf(key, format string, args ...any) error {
	return &OptionError{key, fmt.Errorf(format, args...)}
}

// BrowserURL checks value, option key's URL that browsers are sent to
// (public_origin, portal_url; "" is unset): a scheme and host, and a path
// only where pathOK. Plain http is for localhost alone: browsers keep the
// gate's Secure cookies only over https, so a sign-in there could never
// finish. An origin (no path: public_origin) is compared with the Origin
// browsers send, so it must be written as they send it: no user, query,
// fragment or default port (https://app.example.com:443 loaded, and no
// POST was ever same-origin); a portal's URL, which the login's path is
// added to, holds no user, query or fragment either. A host in another
// script is written in its xn-- form (bücher.example: the passkeys'
// origin did not load, and the portal's address went into the pages' CSP
// as no browser sends it).
func BrowserURL(key, value string, pathOK bool) error {
	u, err := url.Parse(value)
	switch {
	case value == "":
		return nil
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || Origin(u) == "" || (!pathOK && u.Path != "" && u.Path != "/"):
		return OptionErrf(key, "%s must be a scheme and host such as https://app.example.com, not %q", key, value)
	case u.Scheme == "http" && !localhost.Is(u.Hostname()):
		return OptionErrf(key, "%s %q is plain http: browsers keep the gate's Secure cookies only over https (http:// is for localhost alone)", key, value)
	}
	if pathOK {
		if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(value, "#") {
			return OptionErrf(key, "%s %q holds a query, a fragment or a user: it is a scheme, a host and a path, such as https://auth.example.com", key, value)
		}
		if o := Origin(u) + u.EscapedPath(); value != o {
			return OptionErrf(key, "%s %q must be written as browsers send it: %s", key, value, o)
		}
		return nil
	}
	return OriginAsSent(key, value)
}

// OriginAsSent checks that value (option key's origin, scheme://host
// with a port if not the default) is written as browsers send an Origin:
// Origin's form, one trailing / aside. One written otherwise (a user, a
// path, a query, a fragment, a default, empty or zero-led port, a host in
// upper case or another script) is no browser's origin: never
// same-origin, nor the passkeys'.
func OriginAsSent(key, value string) error {
	u, err := url.Parse(value)
	var o string
	if err == nil {
		o = Origin(u)
	}
	if o == "" {
		return OptionErrf(key, "%s must be a scheme and host such as https://app.example.com, not %q", key, value)
	}
	if strings.TrimSuffix(value, "/") != o {
		return OptionErrf(key, "%s %q must be written as browsers send it: %s", key, value, o)
	}
	return nil
}

// OriginOf is the origin of value, option key's address of the site
// (site_origin: a path, which the links built on it keep, and a default
// port are allowed), as browsers send it: what passkeys are bound to
// ("" for ""). go-webauthn compares scheme and host alone, but an origin
// in another script or with a malformed port is none a browser sends.
func OriginOf(key, value string) (string, error) {
	if value == "" {
		return "", nil
	}
	u, err := url.Parse(value)
	// A user, query or fragment would end up inside every link built on
	// it (invites, delivery receipts' callbacks).
	if err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.User == nil && u.RawQuery == "" && !u.ForceQuery && u.Fragment == "" && !strings.HasSuffix(value, "#") {
		if o := Origin(u); o != "" {
			return o, nil
		}
	}
	return "", OptionErrf(key, "%s must be a scheme and host such as https://app.example.com (a path may follow; no user, query or fragment), not %q", key, value)
}

// Origin is u's origin as browsers send it: scheme://host[:port], the host
// in lower case and its xn-- form, the port a number and only if not the
// scheme's default; "" when u has none (no host, a port out of range, a
// name IDNA refuses).
func Origin(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return ""
	}
	if host = ASCIIHost(host); !IsASCII(host) {
		return "" // a name IDNA refuses
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return ""
		}
		if n != map[string]int{"https": 443, "http": 80}[u.Scheme] {
			host += ":" + strconv.Itoa(n)
		}
	}
	return u.Scheme + "://" + host
}
