package providers

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// said is what a gateway's error answer says, for the admin's log: the
// message of a JSON error (its "message", "error", "error.message",
// "detail" or "error_description" field), cut short, with the secrets
// the request carried in its header and address masked (secrets: not its
// path's or body's, which a config should not hold). The rest of the body is never
// quoted: a gateway may echo the request, and with it the code in any
// form, its key and the Authorization header.
func (r *response) said() string {
	var v map[string]any
	if json.Unmarshal(r.body, &v) == nil {
		if e, ok := v["error"].(map[string]any); ok {
			v = e
		}
		for _, k := range []string{"message", "error", "detail", "error_description"} {
			if s, ok := v[k].(string); ok && strings.TrimSpace(s) != "" {
				return r.mask(s)
			}
		}
	}
	return fmt.Sprintf("an answer of %d bytes, not quoted", len(r.body))
}

// mask is s, one line, at most 200 bytes, without any of r.secrets.
func (r *response) mask(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "[secret]")
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		// Cut where no run of digits is split: Redact masks the code and
		// the number later, and a part of either would escape it.
		s = cutRun.ReplaceAllString(strings.ToValidUTF8(s[:200], ""), "") + "…"
	}
	return s
}

// cutRun is a run of digits at the end of a message cut short, with what
// codeRun and digitRun allow between them (an escape perhaps cut too).
var cutRun = regexp.MustCompile(`(?:\d|[\s.,/_+()-]|%[0-9A-Fa-f]{0,2})*\d(?:[\s.,/_+()-]|%[0-9A-Fa-f]{0,2})*$`)

// secrets lists what a request to u with header may carry that is a
// secret: every header value and each of its words (a bearer token; a
// basic auth's user:password, decoded, and its password), the URL's user
// info and its query's values, each in every form a gateway may echo it
// (secretForms), and a query value also as the URL wrote it (the address
// as sent: "%2B", "%2b" or a raw "+") and with its escapes alone decoded
// (its "+" kept). Only those of 4 bytes or more, decoded: shorter ones
// would mask ordinary words.
func secrets(u *url.URL, header http.Header) []string {
	var out []string
	add := func(s string, as ...string) {
		if len(s) >= 4 {
			out = append(out, secretForms(s)...)
			out = append(out, as...)
		}
	}
	for k, vs := range header {
		if k == "Content-Type" || k == "User-Agent" {
			continue
		}
		for _, v := range vs {
			add(v)
			for _, w := range strings.Fields(v) {
				add(w)
				if b, err := base64.StdEncoding.DecodeString(w); err == nil && strings.Contains(string(b), ":") {
					add(string(b))
					_, pass, _ := strings.Cut(string(b), ":")
					add(pass)
				}
			}
		}
	}
	if u.User != nil {
		add(u.User.String())
		pass, _ := u.User.Password()
		add(pass)
	}
	for _, pair := range strings.Split(u.RawQuery, "&") {
		_, raw, _ := strings.Cut(pair, "=")
		if v, err := url.QueryUnescape(raw); err == nil {
			escapesOnly, _ := url.PathUnescape(raw)
			add(v, raw, escapesOnly)
		}
	}
	// The longest first: a secret that holds another is masked whole.
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	return slices.Compact(out)
}

// secretForms is s as a gateway may echo it: as is, %-escaped as a query
// writes it (a space as "+") and as a path does ("%20"), the escapes' hex
// in capitals or not.
func secretForms(s string) []string {
	forms := []string{s}
	for _, esc := range []string{url.QueryEscape(s), url.PathEscape(s)} {
		if esc != s {
			forms = append(forms, esc, lowerEscapes.ReplaceAllStringFunc(esc, strings.ToLower))
		}
	}
	return forms
}

// lowerEscapes is a %-escape, its hex to write in small letters.
var lowerEscapes = regexp.MustCompile(`%[0-9A-F]{2}`)

// codeRun is a run of digits with at most three spaces, dashes, dots,
// commas, slashes, underscores or pluses (a form-encoded space), or
// their %-escapes, between each two: how a code may be written back.
var codeRun = regexp.MustCompile(`\d(?:(?:[\s.,/_+-]|%2[0-9A-Fa-f]){0,3}\d)*`)

// escapedSeparator is a %-escape codeRun allows between digits.
var escapedSeparator = regexp.MustCompile(`%2[0-9A-Fa-f]`)

// redactCode replaces every run of digits in msg that spells code, in any
// grouping ("987654", "987 654", "9-8-7-6-5-4"), by "[code]".
func redactCode(msg, code string) string {
	msg = strings.ReplaceAll(msg, code, "[code]")
	return codeRun.ReplaceAllStringFunc(msg, func(run string) string {
		if strings.Contains(digitsOf(escapedSeparator.ReplaceAllString(run, "")), code) {
			return "[code]"
		}
		return run
	})
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
