package siteblock

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

// What a gate's identity reads, judged from the config alone: the request
// headers it trusts only where a trusted hop set them (the gate checks
// each request; CheckIdentity, the site's forward_auth), and a placeholder
// whose value the client chooses outright, which is never trusted.

// TrustedHeader is a header the identity is read from, and the auth
// answer's headers a forward_auth may have copied it from.
type TrustedHeader struct {
	Name string   // canonical, as in {http.request.header.*}
	From []string // canonical names of {http.reverse_proxy.header.*}
}

var identityPlaceholder = regexp.MustCompile(`\{([^{}]+)\}`)

// NamesAPlaceholder reports whether identity holds a whole placeholder
// ({a.b}) and no brace outside one: an unclosed one ({http.auth.user.id)
// is kept as it is written, and would name every visitor the same (or
// every visitor of a tenant, beside a whole one).
func NamesAPlaceholder(identity string) bool {
	return identityPlaceholder.MatchString(identity) &&
		!strings.ContainsAny(identityPlaceholder.ReplaceAllString(identity, ""), "{}")
}

// TrustedHeaders lists the request headers identity reads. A header may
// have been copied from any of from (copy_headers X-Auth-User>Remote-User)
// or from its own name.
func TrustedHeaders(identity string, from []string) []TrustedHeader {
	var out []TrustedHeader
	for _, m := range identityPlaceholder.FindAllStringSubmatch(identity, -1) {
		name, ok := strings.CutPrefix(m[1], "http.request.header.")
		if !ok {
			continue
		}
		h := TrustedHeader{Name: http.CanonicalHeaderKey(name), From: []string{http.CanonicalHeaderKey(name)}}
		for _, f := range from {
			h.From = append(h.From, http.CanonicalHeaderKey(f))
		}
		out = append(out, h)
	}
	return out
}

// Copied reports whether each of headers that the request sent holds what
// a forward_auth earlier in the route copied into it from its auth answer
// (the gate believes it then); get reads the request's placeholders
// (caddy.Replacer's GetString).
func Copied(headers []TrustedHeader, get func(key string) (string, bool)) bool {
	for _, h := range headers {
		sent, _ := get("http.request.header." + h.Name)
		if sent == "" {
			continue // nothing to believe: an empty identity is refused anyway
		}
		if !slices.ContainsFunc(h.From, func(from string) bool {
			answer, _ := get("http.reverse_proxy.header." + from)
			return answer == sent
		}) {
			return false
		}
	}
	return true
}

// ClientChosen is the first placeholder of identity whose value the
// client chooses outright (its cookies, query, path, host), or "".
// Headers are judged per request; TLS client certificates are the TLS
// handshake's.
func ClientChosen(identity string) string {
	for _, m := range identityPlaceholder.FindAllStringSubmatch(identity, -1) {
		p := m[1]
		if strings.HasPrefix(p, "http.request.") && !strings.HasPrefix(p, "http.request.header.") && !strings.HasPrefix(p, "http.request.tls.") {
			return p
		}
	}
	return ""
}

// UnknownSource is the first placeholder of identity whose source the
// gate cannot tell from the config, or "": anything but a first factor's
// ({http.auth.user.*}), a request header (judged per request: the trusted
// hop) and a TLS client certificate's field ({http.request.tls.client.*}).
// Caddy's vars ({http.vars.*}), map outputs and path_regexp/host_regexp
// captures ({http.regexp.*}) copy whatever they are given, often the
// client's query, path or headers (`vars u {query.u}`), and the per-request
// check on a header sees nothing of a header copied into a var: such an
// identity named whoever the client wrote (attack40b H1). Call it after
// ClientChosen, which names those the client writes outright.
func UnknownSource(identity string) string {
	for _, m := range identityPlaceholder.FindAllStringSubmatch(identity, -1) {
		p := m[1]
		if !strings.HasPrefix(p, "http.auth.user.") && !strings.HasPrefix(p, "http.request.header.") && !strings.HasPrefix(p, "http.request.tls.client.") {
			return p
		}
	}
	return ""
}

// SameHeader reports whether two header names are one header: HTTP's
// names ignore case, and an answer set from both (auth_header Remote-User
// beside remote-user) carried either value by turns (attack40b H2).
func SameHeader(a, b string) bool {
	return http.CanonicalHeaderKey(a) == http.CanonicalHeaderKey(b)
}

// HeaderTwinAdvice ends the refusal of two auth_header lines that name one
// header.
const HeaderTwinAdvice = "header names ignore case, so the app would get either value by turns; keep one"

// HeaderTwin refuses the Caddyfile's option key (auth_header Name) where
// an earlier auth_header line of lines names the same header in another
// case; nil for any other option.
func HeaderTwin(key string, lines cfutil.Lines) error {
	name, ok := strings.CutPrefix(key, "auth_header ")
	if !ok {
		return nil
	}
	for k, at := range lines {
		if other, ok := strings.CutPrefix(k, "auth_header "); ok && SameHeader(other, name) {
			return fmt.Errorf("auth_header %s and auth_header %s (%s:%d) name one header: %s", name, other, at.File, at.Line, HeaderTwinAdvice)
		}
	}
	return nil
}

// CheckIdentitySource refuses an identity whose value a client could
// choose: one it writes outright (ClientChosen) or one whose source the
// gate cannot tell (UnknownSource). example is a placeholder to use.
func CheckIdentitySource(identity, example string) error {
	if p := ClientChosen(identity); p != "" {
		return fmt.Errorf("identity %s: {%s} is whatever the client sends, so anyone could be anyone: use a first factor's placeholder such as %s, a header a forward_auth sets, or none", identity, p, example)
	}
	if p := UnknownSource(identity); p != "" {
		return fmt.Errorf("identity %s: smsgate cannot tell what sets {%s}: vars, map and path_regexp/host_regexp captures copy whatever they are given, often the client's query, path or headers, so anyone could be anyone. Read the identity where it comes from: a first factor's placeholder such as %s, a request header a forward_auth sets ({http.request.header.*}), a TLS client certificate's field ({http.request.tls.client.*}), or none", identity, p, example)
	}
	return nil
}

// gatePlaceholders are the {smsgate.*} names a check's answer knows;
// knownPlaceholders lists them for people.
var gatePlaceholders = map[string]bool{"smsgate.user": true, "smsgate.amr": true, "smsgate.auth_time": true, "smsgate.assertion": true}

const knownPlaceholders = "{smsgate.user}, {smsgate.amr}, {smsgate.auth_time} or {smsgate.assertion}"

// CheckAuthHeaders refuses a forward-auth answer's header (auth_header)
// whose value the client writes: the check's request is the client's, its
// headers passed on by the proxy, so with {http.request.header.X-User}
// anyone signed in could name anyone to the app; one that names an
// {smsgate.*} placeholder the gate has none of (gatePlaceholders), or
// {smsgate.assertion} without assertion_header (asserts: it was empty in
// every answer); and a name that is no header name.
func CheckAuthHeaders(headers map[string]string, asserts bool) error {
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		for _, other := range names[:i] {
			if SameHeader(other, name) {
				return cfutil.OptionErrf("auth_header "+name, "auth_header %s and auth_header %s name one header: %s", name, other, HeaderTwinAdvice)
			}
		}
		value := headers[name]
		if !httpguts.ValidHeaderFieldName(name) {
			// Remote-User: (the colon) is sent as no proxy reads it.
			return cfutil.OptionErrf("auth_header "+name, "auth_header %q is no header name: a name is letters, digits and -, without a colon, like Remote-User", name)
		}
		p := ClientChosen(value)
		for _, m := range identityPlaceholder.FindAllStringSubmatch(value, -1) {
			switch {
			case strings.HasPrefix(m[1], "smsgate.") && !gatePlaceholders[m[1]]:
				// A misspelt name is empty in every answer: the app named
				// no one (nginx's example refused everyone).
				return cfutil.OptionErrf("auth_header "+name, "auth_header %s %s: {%s} is no placeholder of the gate's: use %s", name, value, m[1], knownPlaceholders)
			case m[1] == "smsgate.assertion" && !asserts:
				return cfutil.OptionErrf("auth_header "+name, "auth_header %s %s: {smsgate.assertion} is signed only with assertion_header (and signing_alg EdDSA): without it, it is empty in every answer", name, value)
			case p == "" && strings.HasPrefix(m[1], "http.request.header."):
				p = m[1]
			}
		}
		if p != "" {
			return cfutil.OptionErrf("auth_header "+name, "auth_header %s %s: {%s} is whatever the client sends (the proxy passes its request on to the check), so anyone signed in could name anyone to the app: use %s", name, value, p, knownPlaceholders)
		}
	}
	return nil
}

// identitySetter is the first token of the site where a map's output or a
// vars name writes a placeholder a gate reads (GateReads), or a vars name is one the
// request fills in (`vars {query.k} …`): an identity {http.auth.user.*}
// is then the client's choice wherever no authentication handler set it
// first (Caddy's map answers a placeholder no handler set; vars sets
// http.auth.user.id outright). The start check (admin's
// checkIdentitySetters) refuses these in any config; this names the line.
func (b *Block) identitySetter() (token, bool) {
	writes := func(t token, vars bool) bool {
		name := strings.Trim(t.text, "{}")
		return GateReads(name) || vars && strings.Contains(t.text, "{")
	}
	matcherArg := func(s string) bool {
		return strings.HasPrefix(s, "@") || strings.HasPrefix(s, "/") || s == "*"
	}
	for _, seg := range b.segments {
		inVars := false
		for i := 0; i < len(seg); {
			j := i + 1
			for j < len(seg) && seg[j].line == seg[i].line && seg[j].file == seg[i].file && seg[j].chain == seg[i].chain {
				j++
			}
			line := seg[i:j]
			i = j
			args := line[1:]
			if len(args) > 0 && matcherArg(args[0].text) {
				args = args[1:]
			}
			switch {
			case inVars:
				if line[0].text == "}" {
					inVars = false
				} else if writes(line[0], true) {
					return line[0], true
				}
			case line[0].text == "map" && len(args) > 1:
				for _, t := range args[1:] { // after the source
					if t.text != "{" && writes(t, false) {
						return t, true
					}
				}
			case line[0].text == "vars":
				if len(args) > 0 && args[0].text == "{" {
					inVars = true
				} else if len(args) > 0 && writes(args[0], true) {
					return args[0], true
				}
			}
		}
	}
	return token{}, false
}

// GateReads reports whether a placeholder name (no braces) lies where a
// gate reads who a request is for or checks it: {http.auth.*} (a first
// factor's user), {http.reverse_proxy.*} (the answer of the forward_auth
// whose header the gate believes: siteblock.Copied), {http.request.*}
// (a header, a TLS client field). A map's output or a vars name there
// answers where Caddy does not (a header or field nobody set, a first
// factor that did not run), so the client would choose whom the gate
// takes the request for (attack40c: a map of the client's X-User into
// {http.reverse_proxy.header.X-User} passed the trusted-hop check).
func GateReads(name string) bool {
	for _, ns := range []string{"http.auth.", "http.reverse_proxy.", "http.request."} {
		if strings.HasPrefix(name, ns) {
			return true
		}
	}
	return false
}
