package providers

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/words"
)

// TwilioLookup checks a number with Twilio Lookup v2 before a code is sent
// to it: its line type (line_type_intelligence) and, if asked, whether
// its SIM was swapped recently (sim_swap). NIST SP 800-63B asks verifiers
// to consider SIM change and number porting before sending to a phone.
type TwilioLookup struct {
	// Line types refused, per channel ("sms", "voice"), by Twilio's names:
	// landline, mobile, fixedVoip, nonFixedVoip, personal, tollFree,
	// premium, sharedCost, uan, voicemail, pager, unknown. Defaults: SMS
	// refuses landline, nonFixedVoip and the non-personal types; voice the
	// same but landline.
	RefuseTypes map[factor.Channel][]string `json:"refuse_types,omitempty"`
	// Refuse a send when the SIM was swapped within this period (e.g.
	// 7d). Default: 0, no SIM-swap check.
	SIMSwapWithin caddy.Duration `json:"sim_swap_within,omitempty"`
	// Also check before each sign-in's send, not only at enrollment.
	EachSend bool `json:"each_send,omitempty"`
	// How long a number's answer is kept. Default: 24h.
	CacheFor caddy.Duration `json:"cache,omitempty"`
	// When Lookup cannot answer: "closed" refuses the send, "open" sends
	// anyway. Defaults: closed at enrollment (a new number must be
	// checked), open at sign-in (an outage must not lock users out).
	OnErrorEnroll string `json:"on_error_enroll,omitempty"`
	OnErrorSignIn string `json:"on_error_sign_in,omitempty"`
	// When Lookup answers but has no SIM-swap data for the number (its
	// carrier gives none: "sim_swap": null, as in the spec's own
	// examples): "open" sends (and logs sim_swap_unknown for the admin),
	// "closed" refuses, telling the user why. Default: open — refusing
	// would shut out every number of such a carrier for good.
	OnNoSIMData string `json:"on_no_sim_data,omitempty"`
	// Where Lookup lives. Default: https://lookups.twilio.com.
	BaseURL string `json:"base_url,omitempty"`

	mu     sync.Mutex
	cache  map[[32]byte]lookupAnswer
	logger *zap.Logger
	now    func() time.Time // the gate's clock (nil: the default one)
	lookupWatch
}

// clock is the time by the gate's clock (clock.From of its context at
// provision): the cache's, the SIM swap's age and the warning's throttle
// go by it, as the rest of the gate does; a Lookup made without
// provision reads the default clock.
func (l *TwilioLookup) clock() time.Time { return nowOf(l.now) }

// clockIn is the clock ctx carries (clock.From), nil for a bare Context
// (a test's, which carries nothing): the default clock then.
func clockIn(ctx caddy.Context) func() time.Time {
	if ctx.Context == nil {
		return nil
	}
	now, _ := clock.From(ctx)
	return now
}

// nowOf is now() where now is not nil, else the default clock.
func nowOf(now func() time.Time) time.Time {
	if now == nil {
		now, _ = clock.From(context.Background())
	}
	return now()
}

var defaultRefused = map[factor.Channel][]string{
	factor.ChannelSMS:   {"landline", "nonFixedVoip", "tollFree", "premium", "sharedCost", "uan", "voicemail", "pager"},
	factor.ChannelVoice: {"nonFixedVoip", "tollFree", "premium", "sharedCost", "uan", "voicemail", "pager"},
}

// lookupAnswer is what Lookup said of a number, and until when to believe it.
type lookupAnswer struct {
	lineType string
	swapped  *time.Time // when the SIM was last swapped, if known
	inPeriod *bool      // or Twilio's own "swapped within its period"
	period   time.Duration
	// noSIMData says Lookup had no SIM-swap data for the number.
	noSIMData bool
	until     time.Time
}

// SIMSwapError refuses a send to a number whose SIM was swapped recently:
// whoever holds it now may not be the user.
type SIMSwapError struct{ Within time.Duration }

func (e *SIMSwapError) Words() words.Text { return words.Text{ID: "provider.sim_swapped"} }
func (e *SIMSwapError) Error() string     { return words.English.Render("en", e.Words()) }

// LookupError is a Lookup outage where the config says to fail closed.
type LookupError struct{ Err error }

func (e *LookupError) Words() words.Text { return words.Text{ID: "provider.lookup_failed"} }
func (e *LookupError) Error() string {
	return words.English.Render("en", e.Words()) + ": " + e.Err.Error()
}
func (e *LookupError) Unwrap() error { return e.Err }

// Checker is a provider that checks a number before a code is sent to it.
type Checker interface {
	// CheckNumber returns nil to send, a UserError for a line type that
	// cannot get codes, a SIMSwapError, or a LookupError.
	CheckNumber(ctx context.Context, e164 string, channel factor.Channel, enrolling bool) error
}

// CheckNumber implements Checker.
func (t *Twilio) CheckNumber(ctx context.Context, e164 string, channel factor.Channel, enrolling bool) error {
	l := t.Lookup
	if l == nil || (!enrolling && !l.EachSend) {
		return nil
	}
	a, err := t.lookup(ctx, e164)
	if err != nil {
		open := l.OnErrorSignIn != "closed"
		if enrolling {
			open = l.OnErrorEnroll == "open"
		}
		l.failed(err, e164, enrolling, open)
		if open {
			return nil
		}
		return &LookupError{Err: Redact(err, e164)} // its text may name the number (Twilio's 20404 names the resource)
	}
	refused, ok := l.RefuseTypes[channel]
	if !ok {
		refused = defaultRefused[channel]
	}
	if slices.Contains(refused, a.lineType) {
		return &UserError{Text: words.Text{ID: "phone.type"}, Err: fmt.Errorf("twilio lookup: line type %s", a.lineType)}
	}
	if within := time.Duration(l.SIMSwapWithin); within > 0 {
		switch {
		case a.noSIMData && l.OnNoSIMData == "closed":
			return &UserError{Text: words.Text{ID: "provider.sim_unknown"}, Err: errors.New("twilio lookup: no SIM-swap data for this number")}
		case a.noSIMData:
			l.logger.Info("no SIM-swap data for this number; the code is sent (on_no_sim_data open)",
				zap.String("event", "sim_swap_unknown"), zap.String("to", phone.Mask(e164)))
		case a.swapped != nil && l.clock().Sub(*a.swapped) < within:
			return &SIMSwapError{Within: within}
		case a.swapped == nil && a.inPeriod != nil && *a.inPeriod && a.period <= within:
			return &SIMSwapError{Within: within}
		}
	}
	return nil
}

// lookup asks Lookup v2 about e164, or answers from the cache.
func (t *Twilio) lookup(ctx context.Context, e164 string) (lookupAnswer, error) {
	l := t.Lookup
	key := sha256.Sum256([]byte(e164)) // the cache holds no numbers
	now := l.clock()
	l.mu.Lock()
	a, ok := l.cache[key]
	l.mu.Unlock()
	if ok && now.Before(a.until) {
		return a, nil
	}
	fields := "line_type_intelligence"
	if l.SIMSwapWithin > 0 {
		fields += ",sim_swap"
	}
	u := l.BaseURL + "/v2/PhoneNumbers/" + url.PathEscape(e164) + "?Fields=" + url.QueryEscape(fields)
	res, err := get(ctx, t.client, u, t.auth())
	if err != nil {
		return a, err
	}
	if res.status != http.StatusOK {
		return a, fmt.Errorf("twilio lookup: HTTP %d: %s", res.status, res.said())
	}
	var body struct {
		LineType *struct {
			Type string `json:"type"`
		} `json:"line_type_intelligence"`
		SIMSwap *struct {
			Last *struct {
				Date     *time.Time `json:"last_sim_swap_date"`
				Period   string     `json:"swapped_period"`
				InPeriod *bool      `json:"swapped_in_period"`
			} `json:"last_sim_swap"`
			ErrorCode *int `json:"error_code"`
		} `json:"sim_swap"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		return a, fmt.Errorf("twilio lookup: %v", err)
	}
	a = lookupAnswer{lineType: "unknown", until: now.Add(time.Duration(l.CacheFor))}
	if body.LineType != nil && body.LineType.Type != "" {
		a.lineType = body.LineType.Type
	}
	if l.SIMSwapWithin > 0 {
		// No data (null, or the carrier's error) is an answer, not an
		// outage: asking again will not bring any.
		if body.SIMSwap == nil || body.SIMSwap.Last == nil || body.SIMSwap.ErrorCode != nil {
			a.noSIMData = true
		} else {
			a.swapped, a.inPeriod = body.SIMSwap.Last.Date, body.SIMSwap.Last.InPeriod
			a.period = isoHours(body.SIMSwap.Last.Period)
		}
	}
	l.mu.Lock()
	if len(l.cache) >= 10000 {
		clear(l.cache)
	}
	l.cache[key] = a
	l.mu.Unlock()
	return a, nil
}

var isoPeriod = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?)?$`)

// isoHours reads Twilio's swapped_period (an ISO 8601 duration: PT24H, P7D).
func isoHours(p string) time.Duration {
	m := isoPeriod.FindStringSubmatch(p)
	if m == nil {
		return 0
	}
	days, _ := strconv.Atoi(m[1])
	hours, _ := strconv.Atoi(m[2])
	return time.Duration(days)*24*time.Hour + time.Duration(hours)*time.Hour
}

// provision sets the Lookup's defaults and checks its settings; its
// failures are told on ctx's logger and counted on its metrics registry
// (watch), where the gate's counters are.
func (l *TwilioLookup) provision(ctx caddy.Context) error {
	if l.logger = ctx.Logger(); l.logger == nil {
		l.logger = zap.NewNop()
	}
	l.now = clockIn(ctx)
	var reg prometheus.Registerer // none in a bare Context (a test's)
	if r := ctx.GetMetricsRegistry(); r != nil {
		reg = r
	}
	l.watch(reg)
	if l.BaseURL == "" {
		l.BaseURL = "https://lookups.twilio.com"
	}
	if l.CacheFor == 0 {
		l.CacheFor = caddy.Duration(24 * time.Hour)
	}
	for name, v := range map[string]string{"on_error_enroll": l.OnErrorEnroll, "on_error_sign_in": l.OnErrorSignIn, "on_no_sim_data": l.OnNoSIMData} {
		if v != "" && v != "open" && v != "closed" {
			return fmt.Errorf("lookup %s must be open or closed, not %q", name, v)
		}
	}
	for ch := range l.RefuseTypes {
		if !ch.Known() {
			return fmt.Errorf("lookup refuse_types: unknown channel %q", ch)
		}
	}
	l.cache = map[[32]byte]lookupAnswer{}
	return nil
}

// unmarshalLookup parses a twilio provider's `lookup { … }` block:
//
//	lookup {
//	    refuse_types     sms|voice <types...>
//	    sim_swap_within  <duration>
//	    each_send
//	    cache            <duration>
//	    on_error_enroll  open|closed
//	    on_error_sign_in open|closed
//	    on_no_sim_data   open|closed
//	    base_url         <url>
//	}
func unmarshalLookup(d *caddyfile.Dispenser) (*TwilioLookup, error) {
	l := &TwilioLookup{}
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch opt := d.Val(); opt {
		case "refuse_types":
			args := d.RemainingArgs()
			if len(args) < 2 {
				return nil, d.Errf("refuse_types takes a channel and line types: refuse_types sms landline nonFixedVoip")
			}
			ch, err := factor.ParseChannel(args[0])
			if err != nil {
				return nil, d.Errf("lookup refuse_types: %v", err)
			}
			if l.RefuseTypes == nil {
				l.RefuseTypes = map[factor.Channel][]string{}
			}
			l.RefuseTypes[ch] = args[1:]
		case "sim_swap_within":
			l.SIMSwapWithin, err = cfutil.DurationArg(d)
		case "cache":
			l.CacheFor, err = cfutil.DurationArg(d)
		case "each_send":
			if d.NextArg() {
				return nil, d.ArgErr()
			}
			l.EachSend = true
		case "on_error_enroll", "on_error_sign_in", "on_no_sim_data", "base_url":
			var v string
			if !d.AllArgs(&v) {
				return nil, d.ArgErr()
			}
			*map[string]*string{"on_error_enroll": &l.OnErrorEnroll, "on_error_sign_in": &l.OnErrorSignIn,
				"on_no_sim_data": &l.OnNoSIMData, "base_url": &l.BaseURL}[opt] = v
		default:
			return nil, d.Errf("unrecognized lookup option '%s'", opt)
		}
		if err != nil {
			return nil, err
		}
	}
	return l, nil
}

var _ Checker = (*Twilio)(nil)
