package providers

import (
	"context"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/localhost"
	"github.com/smsgate/caddy-smsgate/phone"
)

func init() {
	caddy.RegisterModule(Log{})
}

// Log is the development provider: it writes each message, code included, to
// Caddy's log (fields `to`, masked, and `body`) instead of sending it: a
// code under the message "verification code", a notice under "notice".
// Because anyone who can read the log can then sign in, it refuses to
// send for a site that is not on localhost unless AllowPublic is set.
type Log struct {
	Naming

	// Send codes to the log even for sites that are not localhost.
	// Default: false. Only for testing a deployment; never in production.
	AllowPublic bool `json:"allow_public,omitempty"`

	logger *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Log) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "smsgate.providers.log",
		New: func() caddy.Module { return new(Log) },
	}
}

// Provision sets up the logger.
func (l *Log) Provision(ctx caddy.Context) error {
	l.logger = ctx.Logger()
	if l.AllowPublic {
		l.logger.Warn("the log provider may write sign-in codes for public sites to the log; use it only for testing")
	}
	return nil
}

// Channels implements MultiChannel: the log "delivers" calls too.
func (l *Log) Channels() []factor.Channel {
	return []factor.Channel{factor.ChannelSMS, factor.ChannelVoice}
}

// Send implements Sender.
func (l *Log) Send(_ context.Context, m Message) error {
	if !l.AllowPublic && !localhost.Is(m.Host) {
		return NotSent(fmt.Errorf("the log provider sends only for localhost sites, not %q (set allow_public to override, for testing only)", m.Host))
	}
	msg := "verification code"
	if m.Code == "" {
		msg = "notice" // to a user's phones (a phone added, a lockout…): no code in it
	}
	l.logger.Info(msg, zap.String("to", phone.Mask(m.To)), zap.String("channel", string(m.Channel)), zap.String("body", m.Body))
	return nil
}

// UnmarshalCaddyfile sets up the provider from Caddyfile tokens. Syntax:
//
//	provider log {
//	    name     <name>
//	    allow_public
//	}
func (l *Log) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // provider name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "name":
			if !d.AllArgs(&l.Name) {
				return d.ArgErr()
			}
		case "allow_public":
			if d.NextArg() {
				return d.ArgErr()
			}
			l.AllowPublic = true
		default:
			return d.Errf("unrecognized log provider option '%s'", d.Val())
		}
	}
	return nil
}

// Interface guards
var (
	_ Sender                = (*Log)(nil)
	_ MultiChannel          = (*Log)(nil)
	_ caddy.Provisioner     = (*Log)(nil)
	_ caddyfile.Unmarshaler = (*Log)(nil)
)
