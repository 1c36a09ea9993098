// Package providers delivers verification codes. Each sender is a Caddy
// module in the `smsgate.providers` namespace, so the JSON config documents
// itself and anyone can add a gateway without forking smsgate.
package providers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/words"
)

// Message is one code on its way to a phone.
type Message struct {
	// To is the destination in E.164 form.
	To string
	// Channel is factor.ChannelSMS or factor.ChannelVoice.
	Channel factor.Channel
	// Body is the complete text to deliver or, for Voice, to speak.
	Body string
	// Code is the bare code, for senders that format their own message.
	Code string
	// Host is the site the code is for, without port.
	Host string
	// StatusCallback, if set, is where the gateway reports whether the
	// message arrived (a delivery receipt), for gateways that can.
	StatusCallback string
}

// Receipts is a provider whose gateway reports delivery (Twilio's status
// callbacks), signed so that nobody else can.
type Receipts interface {
	// VerifyReceipt reports whether a callback to url with form was signed
	// by the gateway (signature: its header).
	VerifyReceipt(url string, form url.Values, signature string) bool
	// Receipt reads a callback: "delivered", "failed" or "pending", and
	// the gateway's error code, if any.
	Receipt(form url.Values) (status, errorCode string)
}

// Sender delivers messages. Send returns once the gateway has accepted the
// message, which is not proof that it reached the phone.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// MultiChannel is implemented by senders that deliver on more channels than
// SMS alone.
type MultiChannel interface {
	Channels() []factor.Channel
}

// Supports reports whether s delivers on channel.
func Supports(s Sender, channel factor.Channel) bool {
	mc, ok := s.(MultiChannel)
	if !ok {
		return channel == factor.ChannelSMS
	}
	for _, c := range mc.Channels() {
		if c == channel {
			return true
		}
	}
	return false
}

// UserError is a failure caused by the destination, not the gateway: an
// invalid number, a number that opted out. Another provider would fail the
// same way, so failover stops, and Text is safe to show to the user.
type UserError struct {
	// Text is what the user is told (a message of package words).
	Text words.Text
	Err  error
}

// Words implements words.Worded.
func (e *UserError) Words() words.Text { return e.Text }

func (e *UserError) Error() string { return words.English.Render("en", e.Text) }
func (e *UserError) Unwrap() error { return e.Err }

// Was a message sent? A gateway that answered 2xx took it. One that
// refused it (a 4xx: the number, the credentials, its rate limit), or was
// never reached (no connection made), sent nothing: its error says so
// (NotSent, Unsent), and the user's wait for the code is given back. Any
// other failure — a timeout, a connection cut after the request went out,
// a 5xx, an error nobody classified — may have sent it: the gateway may
// have taken the message and failed only to say so. The code is then
// treated as sent (its wait and counts kept), so that "send again" after
// an unconfirmed send is not one more text for free.

// ErrNotSent marks a provider's failure that surely sent nothing.
var ErrNotSent = errors.New("nothing was sent")

// errMaybeSent marks, in a chain's failure, a provider's failure that may
// have sent the message (Chain.Send), so that one refusal after it does
// not make the whole failure read as nothing sent.
var errMaybeSent = errors.New("the message may have been sent")

// NotSent marks err, a provider's failure, as one that sent nothing: the
// gateway refused the message or was never reached. Its text is err's.
func NotSent(err error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, mark: ErrNotSent}
}

// Unsent reports whether err, a provider's failure, says that nothing was
// sent: every provider tried refused (a UserError, or marked NotSent).
// An unmarked error may have sent the message.
func Unsent(err error) bool {
	if err == nil || errors.Is(err, errMaybeSent) {
		return false
	}
	return errors.Is(err, ErrNotSent) || errors.As(err, new(*UserError))
}

// marked is an error with a mark (ErrNotSent, errMaybeSent) its text does
// not show.
type marked struct{ err, mark error }

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() []error { return []error{m.err, m.mark} }

// Chain tries its senders in order until one accepts the message.
type Chain struct {
	Senders []Named
	Logger  *zap.Logger
	// Observe, if set, hears each provider's result: "delivered",
	// "failed" or "refused" (the number's fault), with the channel and the
	// destination's country (ISO 3166; never the number).
	Observe func(provider string, channel factor.Channel, country, result string)
}

func (c Chain) observe(provider string, m Message, result string) {
	if c.Observe != nil {
		c.Observe(provider, m.Channel, phone.Region(m.To), result)
	}
}

// Naming gives a provider the name that logs, audit events and metrics
// know it by (`name` in its config); embedded by every provider.
type Naming struct {
	// Name of this provider, e.g. "gateway-a". Default: its module name and
	// its place in the chain ("webhook.2").
	Name string `json:"name,omitempty"`
}

// ProviderName is the configured name, or "".
func (n Naming) ProviderName() string { return n.Name }

// Named is a sender with the name it is known by in logs.
type Named struct {
	Name string
	Sender
}

// Send implements Sender. A provider that fails for its own reasons (down,
// slow, misconfigured, rate-limited) hands the message to the next; a
// UserError ends the attempt. The returned error is for the admin's log;
// it is Unsent only when every provider tried sent nothing.
func (c Chain) Send(ctx context.Context, m Message) error {
	logger := c.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	var errs []error
	tried := 0
	for _, s := range c.Senders {
		if !Supports(s.Sender, m.Channel) {
			continue
		}
		tried++
		err := Redact(s.Send(ctx, m), m.To, m.Code)
		if err == nil {
			c.observe(s.Name, m, "delivered")
			logger.Info("delivered", zap.String("provider", s.Name), zap.String("channel", string(m.Channel)))
			return nil
		}
		var ue *UserError
		if errors.As(err, &ue) {
			c.observe(s.Name, m, "refused")
			logger.Info("provider refused the number", zap.String("provider", s.Name), zap.Error(Redact(ue.Err, m.To, m.Code)))
			if len(errs) > 0 {
				return errors.Join(append(errs, err)...) // what the ones before did stays
			}
			return err
		}
		c.observe(s.Name, m, "failed")
		logger.Warn("provider_failed", zap.String("provider", s.Name), zap.String("channel", string(m.Channel)),
			zap.Bool("unsent", Unsent(err)), zap.Error(err))
		err = fmt.Errorf("%s: %w", s.Name, err)
		if !Unsent(err) {
			err = &marked{err: err, mark: errMaybeSent}
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if tried == 0 {
		return NotSent(fmt.Errorf("no provider delivers on channel %q", m.Channel)) // none was asked
	}
	return errors.Join(errs...)
}

// Verifier is a provider that makes and checks codes itself, such as
// Twilio Verify: smsgate then stores no code, and asks it instead.
type Verifier interface {
	// Verifies reports whether this provider is configured to verify.
	Verifies() bool
	// StartVerification has the provider send its own code to m.To on m.Channel.
	StartVerification(ctx context.Context, m Message) error
	// CheckVerification reports whether code is right for to.
	// ErrNoVerification means the provider has no pending code for to.
	CheckVerification(ctx context.Context, to, code string) (bool, error)
}

// Verifying is v with its sends heard by c's Observe under name, as the
// chain's own are (a Verifier sends its codes itself, not through the chain).
func (c Chain) Verifying(v Verifier, name string) Verifier {
	if v == nil || c.Observe == nil {
		return v
	}
	return observedVerifier{Verifier: v, chain: c, name: name}
}

type observedVerifier struct {
	Verifier
	chain Chain
	name  string
}

func (o observedVerifier) StartVerification(ctx context.Context, m Message) error {
	err := o.Verifier.StartVerification(ctx, m)
	result := "delivered"
	switch {
	case errors.As(err, new(*UserError)):
		result = "refused"
	case err != nil:
		result = "failed"
	}
	o.chain.observe(o.name, m, result)
	return err
}

// ErrNoVerification is returned by CheckVerification when the provider has
// no pending code (it expired, was used, or was never sent).
var ErrNoVerification = errors.New("no pending verification")

// Redact masks the number to, in any format (+14155552671, 14155552671,
// 4155552671, (415) 555-2671), and the codes in err's text: gateways like
// to repeat the number ("The 'To' number +1… is not valid"), and some echo
// the whole request, code included, while the next provider delivers that
// code. The text goes to logs, which must never hold either. The error's
// chain (UserError and all) is kept.
func Redact(err error, to string, codes ...string) error {
	if err == nil {
		return nil
	}
	msg := redactNumber(err.Error(), to)
	for _, c := range codes {
		switch {
		case len(c) >= 4 && digitsOf(c) == c:
			msg = redactCode(msg, c) // in any grouping: "987 654", "9-8-7-6-5-4"
		case len(c) >= 4:
			msg = strings.ReplaceAll(msg, c, "[code]")
		}
	}
	return &redacted{msg: msg, err: err}
}

// digitRun is a run of digits as numbers are written: with spaces, dots,
// dashes and brackets between them, perhaps after a +.
var digitRun = regexp.MustCompile(`\+?\(?\d[\d\s().-]*\d`)

// redactNumber replaces every run of digits in msg that spells e164's
// national number (with or without the country code) by its mask.
func redactNumber(msg, e164 string) string {
	if e164 == "" {
		return msg
	}
	national := phone.National(e164)
	if len(national) < 5 {
		return strings.ReplaceAll(msg, e164, phone.Mask(e164))
	}
	return digitRun.ReplaceAllStringFunc(msg, func(run string) string {
		if strings.Contains(digitsOf(run), national) {
			return phone.Mask(e164)
		}
		return run
	})
}

// RedactURL is u without what may be a secret (user info, query): for
// errors that name a gateway's address.
func RedactURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "(an unreadable URL)"
	}
	parsed.User, parsed.RawQuery, parsed.Fragment = nil, "", ""
	if parsed.Host == "" {
		return "(a URL)"
	}
	return parsed.Scheme + "://" + parsed.Host + parsed.EscapedPath()
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
