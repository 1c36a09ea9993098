package providers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

func init() {
	caddy.RegisterModule(Signal{})
}

// Signal sends codes as Signal messages through signal-cli-rest-api's
// `POST /v2/send`, directly or behind the Secured Signal API.
type Signal struct {
	Naming

	// The API's base URL, e.g. http://signal-api:8080, or its send
	// endpoint (http://signal-api:8080/v2/send) as the Secured Signal API's
	// guide writes it. Required.
	URL string `json:"url,omitempty"`
	// The Signal number messages come from. Required.
	Number string `json:"number,omitempty"`
	// A bearer token (the Secured Signal API's API token). Use `{env.X}`.
	Token string `json:"token,omitempty"`
	// Limit on one request. Default: 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	header http.Header
	client *http.Client
}

// CaddyModule returns the Caddy module information.
func (Signal) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "smsgate.providers.signal",
		New: func() caddy.Module { return new(Signal) },
	}
}

// Provision resolves placeholders.
func (s *Signal) Provision(caddy.Context) error {
	need, err := resolve(s.needs())
	if err != nil {
		return err
	}
	// The Secured Signal API's guide writes the whole endpoint
	// (…/v2/send): take it as the base it ends in.
	s.URL, s.Number = strings.TrimSuffix(strings.TrimSuffix(need[0], "/"), "/v2/send"), need[1]
	s.header = http.Header{}
	if s.Token != "" {
		tok, err := secret("signal token", s.Token)
		if err != nil {
			return err
		}
		s.header.Set("Authorization", "Bearer "+tok)
	}
	s.client = newClient(s.Timeout)
	return nil
}

// Send implements Sender.
func (s *Signal) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(map[string]any{"number": s.Number, "recipients": []string{m.To}, "message": m.Body})
	if err != nil {
		return NotSent(err)
	}
	res, err := post(ctx, s.client, s.URL+"/v2/send", "application/json", body, s.header)
	if err != nil {
		return err
	}
	if res.status >= 300 {
		return refused(res.status, fmt.Errorf("signal: HTTP %d: %s", res.status, res.said()))
	}
	return nil
}

// UnmarshalCaddyfile sets up the provider from Caddyfile tokens. Syntax:
//
//	provider signal [<url>] {
//	    name     <name>
//	    url     <url>
//	    number  <sender number>
//	    token   <bearer token>
//	    timeout <duration>
//	}
func (s *Signal) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // provider name
	d.Args(&s.URL)
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch opt := d.Val(); opt {
		case "name":
			if !d.AllArgs(&s.Name) {
				return d.ArgErr()
			}
		case "url", "number", "token":
			if !d.AllArgs(map[string]*string{"url": &s.URL, "number": &s.Number, "token": &s.Token}[opt]) {
				return d.ArgErr()
			}
		case "timeout":
			dur, err := cfutil.DurationArg(d)
			if err != nil {
				return err
			}
			s.Timeout = dur
		default:
			return d.Errf("unrecognized signal option '%s'", opt)
		}
	}
	return nil
}

// Interface guards
var (
	_ Sender                = (*Signal)(nil)
	_ caddy.Provisioner     = (*Signal)(nil)
	_ caddyfile.Unmarshaler = (*Signal)(nil)
)
