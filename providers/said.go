package providers

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// said is what a gateway's error answer says, for the admin's log: the
// message of a JSON error (its "message", "error", "error.message",
// "detail" or "error_description" field), cut short, with every secret
// the request carried masked (secrets). The rest of the body is never
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
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// secrets lists what a request to u with header may carry that is a
// secret: every header value and each of its words (a bearer token; a
// basic auth's user:password, decoded, and its password), the URL's user
// info and its query's values. Only those of 4 bytes or more: shorter
// ones would mask ordinary words.
func secrets(u *url.URL, header http.Header) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 4 {
			out = append(out, s)
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
	for _, vs := range u.Query() {
		for _, v := range vs {
			add(v)
		}
	}
	// The longest first: a secret that holds another is masked whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// codeRun is a run of digits with at most two spaces, dashes, dots,
// commas, slashes or underscores between each two: how a code may be
// written back.
var codeRun = regexp.MustCompile(`\d(?:[\s.,/_-]{0,2}\d)*`)

// redactCode replaces every run of digits in msg that spells code, in any
// grouping ("987654", "987 654", "9-8-7-6-5-4"), by "[code]".
func redactCode(msg, code string) string {
	msg = strings.ReplaceAll(msg, code, "[code]")
	return codeRun.ReplaceAllStringFunc(msg, func(run string) string {
		if strings.Contains(digitsOf(run), code) {
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
