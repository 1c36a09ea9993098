package providers

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/words"
)

func init() {
	caddy.RegisterModule(Twilio{})
}

// Twilio sends codes by SMS (Programmable Messaging) and, with Voice set,
// by phone call (Programmable Voice, reading the code aloud twice). With
// VerifyService set it uses Twilio Verify instead: Twilio makes, sends and
// checks the codes.
type Twilio struct {
	Naming

	// The Account SID (AC…). Required.
	AccountSID string `json:"account_sid,omitempty"`
	// The account's auth token. Use `{env.TWILIO_AUTH_TOKEN}`.
	// Required unless APIKey and APISecret are given.
	AuthToken string `json:"auth_token,omitempty"`
	// An API key SID (SK…) and its secret, instead of the auth token.
	APIKey    string `json:"api_key,omitempty"`
	APISecret string `json:"api_secret,omitempty"`

	// The number messages come from (E.164). Needed for voice calls, and
	// for SMS unless MessagingServiceSID is set (with VerifyService too:
	// notices are texts smsgate sends).
	From string `json:"from,omitempty"`
	// A Messaging Service (MG…) to send SMS through instead of From.
	MessagingServiceSID string `json:"messaging_service_sid,omitempty"`
	// Also place voice calls. Default: SMS only.
	Voice bool `json:"voice,omitempty"`

	// A Verify service (VA…): Twilio makes and checks the codes.
	VerifyService string `json:"verify_service,omitempty"`

	// Check numbers with Lookup v2 (line type, SIM swap) before sending.
	// Default: no lookup.
	Lookup *TwilioLookup `json:"lookup,omitempty"`

	// Where the APIs live; for tests and regional endpoints.
	// Defaults: https://api.twilio.com and https://verify.twilio.com.
	BaseURL       string `json:"base_url,omitempty"`
	VerifyBaseURL string `json:"verify_base_url,omitempty"`

	// Limit on one request to Twilio. Default: 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	user, pass string
	// token is the resolved auth token, which signs status callbacks.
	token  string
	client *http.Client
	// blockedUntil (Unix nanoseconds) honours a 429's Retry-After: until
	// then, sends fail at once and the next provider takes over.
	blockedUntil *atomic.Int64
	now          func() time.Time // the gate's clock (nil: the default one)
}

// CaddyModule returns the Caddy module information.
func (Twilio) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "smsgate.providers.twilio",
		New: func() caddy.Module { return new(Twilio) },
	}
}

// Provision resolves placeholders in the credentials.
func (t *Twilio) Provision(ctx caddy.Context) error {
	need, err := resolve(t.needs()) // the account, then auth_token's or api_secret's
	if err != nil {
		return err
	}
	t.AccountSID, t.user, t.pass = need[0], need[0], need[1]
	if t.APIKey != "" {
		t.user = optional(t.APIKey)
	}
	t.token = optional(t.AuthToken)
	if t.Lookup != nil {
		if err := t.Lookup.provision(ctx); err != nil {
			return err
		}
	}
	t.From = optional(t.From)
	t.MessagingServiceSID = optional(t.MessagingServiceSID)
	t.VerifyService = optional(t.VerifyService)
	if t.BaseURL == "" {
		t.BaseURL = "https://api.twilio.com"
	}
	if t.VerifyBaseURL == "" {
		t.VerifyBaseURL = "https://verify.twilio.com"
	}
	t.BaseURL = strings.TrimSuffix(t.BaseURL, "/")
	t.VerifyBaseURL = strings.TrimSuffix(t.VerifyBaseURL, "/")
	t.client = newClient(t.Timeout)
	t.blockedUntil = new(atomic.Int64)
	t.now = clockIn(ctx) // the gate's: a 429's back-off goes by it
	return nil
}

// Validate checks that every channel has what it needs.
func (t *Twilio) Validate() error {
	if !strings.HasPrefix(t.AccountSID, "AC") {
		return fmt.Errorf("twilio: account_sid must start with AC")
	}
	if t.VerifyService != "" {
		if !strings.HasPrefix(t.VerifyService, "VA") {
			return fmt.Errorf("twilio: verify_service must start with VA")
		}
		if t.From == "" && t.MessagingServiceSID == "" {
			return errVerifyWithoutSender
		}
		return nil
	}
	if t.From == "" && t.MessagingServiceSID == "" {
		return fmt.Errorf("twilio: set from (a number) or messaging_service_sid")
	}
	if t.Voice && t.From == "" {
		return fmt.Errorf("twilio: voice calls need a from number, even when SMS uses messaging_service_sid")
	}
	return nil
}

// errVerifyWithoutSender refuses a Verify provider that could send no
// notice: those go through the Messages API, which Twilio refuses without
// a sender (error 21603), so every one was lost, unseen.
var errVerifyWithoutSender = fmt.Errorf("twilio: verify_service sends the codes, but the notices to a user's phones (a lock, a swapped SIM, a device added or removed) are texts sent through the Messages API, which needs a sender: add from (a number) or messaging_service_sid")

// Channels implements MultiChannel.
func (t *Twilio) Channels() []factor.Channel {
	if t.Voice {
		return []factor.Channel{factor.ChannelSMS, factor.ChannelVoice}
	}
	return []factor.Channel{factor.ChannelSMS}
}

// Send implements Sender.
func (t *Twilio) Send(ctx context.Context, m Message) error {
	if err := t.checkBlocked(); err != nil {
		return NotSent(err)
	}
	form := url.Values{"To": {m.To}}
	endpoint := "Messages.json"
	if m.Channel == factor.ChannelVoice {
		endpoint = "Calls.json"
		form.Set("From", t.From)
		twiml, err := sayTwice(m.Body)
		if err != nil {
			return NotSent(err)
		}
		form.Set("Twiml", twiml)
	} else {
		if t.MessagingServiceSID != "" {
			form.Set("MessagingServiceSid", t.MessagingServiceSID)
		} else {
			form.Set("From", t.From)
		}
		form.Set("Body", m.Body)
	}
	if m.StatusCallback != "" && t.token != "" {
		form.Set("StatusCallback", m.StatusCallback) // only the auth token can check its signature
	}
	res, err := postForm(ctx, t.client, t.BaseURL+"/2010-04-01/Accounts/"+url.PathEscape(t.AccountSID)+"/"+endpoint, form, t.auth())
	if err != nil {
		return err
	}
	if res.status == http.StatusCreated || res.status == http.StatusOK {
		return nil
	}
	return t.failure(res)
}

// Verifies implements Verifier: true with a Verify service.
func (t *Twilio) Verifies() bool { return t.VerifyService != "" }

// StartVerification implements Verifier (Twilio Verify).
func (t *Twilio) StartVerification(ctx context.Context, m Message) error {
	if err := t.checkBlocked(); err != nil {
		return NotSent(err)
	}
	channel := string(m.Channel) // Twilio Verify's words (its wire, not smsgate's): a text's is sms, as smsgate's; a call's, call
	if m.Channel == factor.ChannelVoice {
		channel = "call"
	}
	res, err := postForm(ctx, t.client, t.verifyURL("Verifications"), url.Values{"To": {m.To}, "Channel": {channel}}, t.auth())
	if err != nil {
		return err
	}
	if res.status == http.StatusCreated || res.status == http.StatusOK {
		return nil
	}
	return t.failure(res)
}

// CheckVerification implements Verifier (Twilio Verify).
func (t *Twilio) CheckVerification(ctx context.Context, to, code string) (bool, error) {
	res, err := postForm(ctx, t.client, t.verifyURL("VerificationCheck"), url.Values{"To": {to}, "Code": {code}}, t.auth())
	if err != nil {
		return false, err
	}
	switch res.status {
	case http.StatusOK, http.StatusCreated:
		var v struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(res.body, &v); err != nil {
			return false, fmt.Errorf("twilio verify: an unreadable answer of %d bytes", len(res.body))
		}
		return v.Status == "approved", nil
	case http.StatusNotFound:
		// Twilio forgets a verification once it is approved, expired or
		// has had too many attempts.
		return false, ErrNoVerification
	}
	return false, t.failure(res)
}

func (t *Twilio) verifyURL(endpoint string) string {
	return t.VerifyBaseURL + "/v2/Services/" + url.PathEscape(t.VerifyService) + "/" + endpoint
}

func (t *Twilio) auth() http.Header {
	req := http.Request{Header: http.Header{}}
	req.SetBasicAuth(t.user, t.pass)
	return req.Header
}

func (t *Twilio) checkBlocked() error {
	if until := t.blockedUntil.Load(); until != 0 {
		if wait := time.Unix(0, until).Sub(nowOf(t.now)); wait > 0 {
			return fmt.Errorf("twilio: rate limited (429) for another %s", wait.Round(time.Second))
		}
	}
	return nil
}

// twilioError is the body of every Twilio error answer.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// What users are told when Twilio says the number is the problem.
var twilioUserErrors = map[int]string{
	21211: "provider.invalid",
	21214: "provider.unreachable",
	21217: "provider.invalid",
	21408: "provider.country",
	21610: "provider.opted_out",
	21612: "provider.refused",
	21614: "provider.not_mobile",
	60200: "provider.invalid",
	60205: "provider.not_mobile",
	60410: "provider.refused",
}

// failure turns an error answer into an error: a UserError when the number
// is at fault, otherwise a message for the admin naming Twilio's code; a
// 4xx sent nothing (NotSent), a 5xx may have (Twilio may have queued the
// message and failed to say so).
func (t *Twilio) failure(res *response) error {
	return refused(res.status, t.failed(res))
}

func (t *Twilio) failed(res *response) error {
	var te twilioError
	_ = json.Unmarshal(res.body, &te)
	admin := fmt.Errorf("twilio: HTTP %d, error %d: %s (%s)", res.status, te.Code, res.mask(te.Message), res.mask(te.MoreInfo))
	if te.Code == 0 && te.Message == "" {
		admin = fmt.Errorf("twilio: HTTP %d: %s", res.status, res.said())
	}
	switch {
	case twilioUserErrors[te.Code] != "":
		return &UserError{Text: words.Text{ID: twilioUserErrors[te.Code]}, Err: admin}
	case res.status == http.StatusTooManyRequests || te.Code == 20429:
		now := nowOf(t.now)
		wait := retryAfter(res.header, now, time.Minute)
		t.blockedUntil.Store(now.Add(wait).UnixNano())
		return fmt.Errorf("%w; backing off for %s", admin, wait)
	case te.Code == 20003 || res.status == http.StatusUnauthorized:
		return fmt.Errorf("%w: Twilio refused the credentials: check account_sid and auth_token (or api_key and api_secret)", admin)
	}
	return admin
}

// sayTwice builds the TwiML of a call that reads text twice, slowly. It is
// built with encoding/xml from <Say> and <Pause> only, so no text (a site
// or user name in a template) can inject other verbs such as <Dial>.
func sayTwice(text string) (string, error) {
	type say struct {
		XMLName xml.Name `xml:"Say"`
		Text    string   `xml:",chardata"`
	}
	type pause struct {
		XMLName xml.Name `xml:"Pause"`
		Length  int      `xml:"length,attr"`
	}
	doc := struct {
		XMLName xml.Name `xml:"Response"`
		Verbs   []any
	}{Verbs: []any{pause{Length: 1}, say{Text: text}, pause{Length: 2}, say{Text: text}}}
	b, err := xml.Marshal(doc)
	if err != nil {
		return "", err
	}
	return xml.Header + string(b), nil
}

// UnmarshalCaddyfile sets up the provider from Caddyfile tokens. Syntax:
//
//	provider twilio {
//	    name     <name>
//	    account_sid           <AC…>
//	    auth_token            <token>
//	    api_key               <SK…>
//	    api_secret            <secret>
//	    from                  <number>
//	    messaging_service_sid <MG…>
//	    voice
//	    verify_service        <VA…>
//	    base_url              <url>
//	    verify_base_url       <url>
//	    lookup { … }          (see unmarshalLookup)
//	    timeout               <duration>
//	}
func (t *Twilio) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // provider name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		opt := d.Val()
		switch opt {
		case "lookup":
			l, err := unmarshalLookup(d)
			if err != nil {
				return err
			}
			t.Lookup = l
		case "name":
			if !d.AllArgs(&t.Name) {
				return d.ArgErr()
			}
		case "voice":
			if d.NextArg() {
				return d.ArgErr()
			}
			t.Voice = true
		case "timeout":
			dur, err := cfutil.DurationArg(d)
			if err != nil {
				return err
			}
			t.Timeout = dur
		default:
			field, ok := map[string]*string{
				"account_sid": &t.AccountSID, "auth_token": &t.AuthToken, "api_key": &t.APIKey, "api_secret": &t.APISecret,
				"from": &t.From, "messaging_service_sid": &t.MessagingServiceSID, "verify_service": &t.VerifyService,
				"base_url": &t.BaseURL, "verify_base_url": &t.VerifyBaseURL,
			}[opt]
			if !ok {
				return d.Errf("unrecognized twilio option '%s'", opt)
			}
			if !d.AllArgs(field) {
				return d.ArgErr()
			}
		}
	}
	return nil
}

// Interface guards
var (
	_ Sender                = (*Twilio)(nil)
	_ Verifier              = (*Twilio)(nil)
	_ Receipts              = (*Twilio)(nil)
	_ MultiChannel          = (*Twilio)(nil)
	_ caddy.Provisioner     = (*Twilio)(nil)
	_ caddy.Validator       = (*Twilio)(nil)
	_ caddyfile.Unmarshaler = (*Twilio)(nil)
)
