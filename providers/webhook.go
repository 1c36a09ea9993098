package providers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"text/template"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

func init() {
	caddy.RegisterModule(Webhook{})
}

// DefaultWebhookBody is authentik's generic provider payload, exactly as
// authentik sends it (send_generic in stages/authenticator_sms/models.py:
// From, To, Body, Message; its documentation lists only the first three):
// "Body" is the code itself (gateways written for authentik make their own
// text around it), and "Message" the whole text smsgate would send. A
// notice, which has no code, puts its text in both.
const DefaultWebhookBody = `{"From": "{{.From}}", "To": "{{.To}}", "Body": "{{if .Code}}{{.Code}}{{else}}{{.Body}}{{end}}", "Message": "{{.Body}}"}`

// Webhook POSTs each message as JSON to a URL: authentik's generic
// provider, and, with a body template, any gateway or chat service that
// takes JSON (ntfy, Telegram, Matrix hooks, an in-house SMS gateway). An
// answer other than 2xx (a redirect is not followed), a timeout or a
// connection error is a failure.
type Webhook struct {
	Naming

	// Where to POST. Required.
	URL string `json:"url,omitempty"`
	// HTTP basic auth.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// A bearer token (`Authorization: Bearer <token>`).
	Token string `json:"token,omitempty"`
	// More headers, e.g. an API key header. Values may be `{env.X}`.
	Headers map[string]string `json:"headers,omitempty"`
	// The sender, available to the body as {{.From}}.
	From string `json:"from,omitempty"`
	// A Go text/template of the JSON body. Fields: .From .To .ToDigits
	// .Body .Code .Channel .Host, each already JSON-escaped, so write them
	// inside quotes. A notice has no .Code: it must say .Body (checkBody).
	// Default: authentik's {"From","To","Body","Message"} with the code in
	// Body and the whole text in Message.
	Body string `json:"body,omitempty"`
	// The channels this hook delivers on. Default: ["sms"].
	ChannelList []factor.Channel `json:"channels,omitempty"`
	// Limit on one request. Default: 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	body   *template.Template
	header http.Header
	client *http.Client
}

// CaddyModule returns the Caddy module information.
func (Webhook) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "smsgate.providers.webhook",
		New: func() caddy.Module { return new(Webhook) },
	}
}

// Provision resolves placeholders and parses the body template.
func (w *Webhook) Provision(caddy.Context) error {
	need, err := resolve(w.needs())
	if err != nil {
		return err
	}
	w.URL = need[0]
	w.header = http.Header{}
	switch {
	case w.Token != "":
		tok, err := secret("webhook token", w.Token)
		if err != nil {
			return err
		}
		w.header.Set("Authorization", "Bearer "+tok)
	case w.Username != "":
		pass, err := secret("webhook password", w.Password)
		if err != nil {
			return err
		}
		req := http.Request{Header: w.header}
		req.SetBasicAuth(optional(w.Username), pass)
	}
	for k, v := range w.Headers {
		val, err := secret("webhook header "+k, v)
		if err != nil {
			return err
		}
		w.header.Set(k, val)
	}
	w.From = optional(w.From)
	if err := w.checkBody(); err != nil {
		return err
	}
	w.client = newClient(w.Timeout)
	return nil
}

// checkBody parses the body template and renders with it what the gate
// sends: a code with a leading zero (one code in ten has one) and a notice
// (a lock, a swapped SIM, a device added or removed), which has no code,
// as texts, and a code on each other channel the hook serves (a call's).
// Each must make JSON that says what it carries, the code or the notice's
// text, or the template is a config error (CheckConfig, at the provider's
// line), not a send lost at a sign-in: `"code": {{.Code}}` unquoted made
// no JSON for 012345 nor for a notice, and `"Body": "{{.Code}}"` sent
// every notice empty.
func (w *Webhook) checkBody() (err error) {
	body := cmp.Or(w.Body, DefaultWebhookBody)
	if w.body, err = template.New("body").Option("missingkey=error").Parse(body); err != nil {
		return fmt.Errorf("webhook body template: %v", err)
	}
	samples := []bodySample{
		{Message{Body: `a "quoted" line\nand another: 012345`, Code: "012345", Channel: factor.ChannelSMS}, "012345", "a code with a leading zero (012345)",
			"webhook body template never says the code: write {{.Body}} (the whole text) or {{.Code}} in it", ""},
		{Message{Body: "example.com: a \"notice\",\nno code in it", Channel: factor.ChannelSMS}, "example.com: a \"notice\",\nno code in it", "a notice (no code)",
			"webhook body template never says a notice's text (a lock, a swapped SIM, a device added or removed: no code in it): write {{.Body}} in it, or {{if .Code}}{{.Code}}{{else}}{{.Body}}{{end}} where the code goes", ""},
	}
	for _, ch := range w.Channels() {
		if ch != factor.ChannelSMS { // a call's code too (review39 R2: a branch on .Channel that only a call takes)
			said := `Your "code" is: 0, 1, 2, 3, 4, 5.`
			samples = append(samples, bodySample{Message{Body: said, Code: "012345", Channel: ch}, "012345", fmt.Sprintf("a code on channel %s (012345)", ch),
				fmt.Sprintf("webhook body template never says the code on channel %s: write {{.Body}} (what a call says) or {{.Code}} in it", ch), said})
		}
	}
	for _, sample := range samples {
		sample.m.To, sample.m.Host = "+10000000000", "example.com"
		out, err := w.execute(sample.m)
		switch {
		case err != nil:
			return err
		case !json.Valid(out):
			return fmt.Errorf("webhook body template does not make valid JSON for %s: write each field inside quotes (\"{{.Code}}\" too): %s", sample.as, snippet(out))
		case !saysIn(out, sample.says) && (sample.orSays == "" || !saysIn(out, sample.orSays)):
			return errors.New(sample.not)
		}
	}
	return nil
}

// bodySample is a message checkBody renders, what the JSON must say of
// it (says, or orSays where set), how the error names it and the error
// where the JSON says neither.
type bodySample struct {
	m                     Message
	says, as, not, orSays string
}

// saysIn reports whether a string of the JSON document doc holds text.
func saysIn(doc []byte, text string) bool {
	var v any
	_ = json.Unmarshal(doc, &v)
	var says func(any) bool
	says = func(v any) bool {
		switch v := v.(type) {
		case string:
			return strings.Contains(v, text)
		case []any:
			return slices.ContainsFunc(v, says)
		case map[string]any:
			for _, e := range v {
				if says(e) {
					return true
				}
			}
		}
		return false
	}
	return says(v)
}

// Channels implements MultiChannel.
func (w *Webhook) Channels() []factor.Channel {
	if len(w.ChannelList) == 0 {
		return []factor.Channel{factor.ChannelSMS}
	}
	return w.ChannelList
}

// webhookData is what a body template sees: JSON-escaped strings.
// ToDigits is To without its "+", for APIs that take only digits.
type webhookData struct {
	From, To, ToDigits, Body, Code, Channel, Host string
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func (w *Webhook) render(m Message) ([]byte, error) {
	out, err := w.execute(m)
	if err == nil && !json.Valid(out) {
		return nil, fmt.Errorf("webhook body template does not make valid JSON: %s", snippet(out))
	}
	return out, err
}

// execute renders m with the body template, its fields JSON-escaped.
func (w *Webhook) execute(m Message) ([]byte, error) {
	var buf bytes.Buffer
	err := w.body.Execute(&buf, webhookData{
		From: jsonEscape(w.From), To: jsonEscape(m.To), ToDigits: jsonEscape(strings.TrimPrefix(m.To, "+")), Body: jsonEscape(m.Body),
		Code: jsonEscape(m.Code), Channel: jsonEscape(string(m.Channel)), Host: jsonEscape(m.Host),
	})
	if err != nil {
		return nil, fmt.Errorf("webhook body template: %v", err)
	}
	return buf.Bytes(), nil
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	body, err := w.render(m)
	if err != nil {
		return NotSent(err)
	}
	res, err := post(ctx, w.client, w.URL, "application/json", body, w.header)
	if err != nil {
		return err
	}
	if res.status < 200 || res.status >= 300 { // a 3xx too: not followed, it may have been acted on (a 303 after a POST)
		return refused(res.status, fmt.Errorf("webhook: HTTP %d: %s", res.status, res.said()))
	}
	return nil
}

// UnmarshalCaddyfile sets up the provider from Caddyfile tokens. Syntax:
//
//	provider webhook <url> {
//	    name     <name>
//	    url      <url>
//	    basic    <username> <password>
//	    bearer   <token>
//	    header   <name> <value>
//	    from     <sender>
//	    body     <template>
//	    channels sms|voice...
//	    timeout  <duration>
//	}
//
// A long body template reads best as a heredoc (`body <<JSON … JSON`).
func (w *Webhook) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // provider name
	d.Args(&w.URL)
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch opt := d.Val(); opt {
		case "name":
			if !d.AllArgs(&w.Name) {
				return d.ArgErr()
			}
		case "url", "from", "body", "bearer":
			field := map[string]*string{"url": &w.URL, "from": &w.From, "body": &w.Body, "bearer": &w.Token}[opt]
			if !d.AllArgs(field) {
				return d.ArgErr()
			}
		case "basic":
			if !d.AllArgs(&w.Username, &w.Password) {
				return d.Errf("basic takes a username and a password")
			}
		case "header":
			var k, v string
			if !d.AllArgs(&k, &v) {
				return d.Errf("header takes a name and a value")
			}
			if w.Headers == nil {
				w.Headers = map[string]string{}
			}
			w.Headers[k] = v
		case "channels":
			w.ChannelList = nil // the last line's, as before they were typed (its lines were not added up)
			if err := cfutil.Channels(d, &w.ChannelList); err != nil {
				return err
			}
		case "timeout":
			dur, err := cfutil.DurationArg(d)
			if err != nil {
				return err
			}
			w.Timeout = dur
		default:
			return d.Errf("unrecognized webhook option '%s'", opt)
		}
	}
	return nil // a missing url: CheckConfig, at the provider's line
}

// Interface guards
var (
	_ Sender                = (*Webhook)(nil)
	_ MultiChannel          = (*Webhook)(nil)
	_ caddy.Provisioner     = (*Webhook)(nil)
	_ caddyfile.Unmarshaler = (*Webhook)(nil)
)
