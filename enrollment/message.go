package enrollment

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"unicode/utf16"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/memo"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/words"
)

// Default message templates. The SMS ends with the origin-bound line
// (`@host #code`) that lets browsers fill the code in (WebOTP); keep it in
// your own template for the same convenience. The call reads the digits
// one by one; the provider says it twice.
const (
	DefaultSMSTemplate   = "Your {{.Site}} verification code is {{.Code}}.\n\n@{{.Host}} #{{.Code}}"
	DefaultVoiceTemplate = "Your {{.Site}} verification code is: {{.Digits}}."
)

// What a message may cost: a text at most MaxSegments SMS segments (each
// billed), a call's text at most MaxVoiceRunes characters (a call is
// billed by the minute). A template is checked against them at load with
// the longest values it can be given; a message over them is not sent.
const (
	MaxSegments   = 3
	MaxVoiceRunes = 300
)

// A user's name in a message is at most UserRunes characters, and holds at
// most UserDigits digits (textsafe.Words): users choose their names, and a
// name must not put a link or a number to call into a text the site sends.
const (
	UserRunes  = 32
	UserDigits = 4
)

// MessageData is what a message template sees.
type MessageData struct {
	// Site is the site's name (by default its host).
	Site string
	// Host is the host the code is for, without port.
	Host string
	// User is who signs in, as safe words (UserWords): letters and
	// marks, a few digits at most, no punctuation, at most UserRunes long.
	User string
	// Code is the code.
	Code string
}

// UserWords is user as a message may say it (see MessageData.User).
func UserWords(user string) string { return textsafe.Words(user, UserRunes, UserDigits) }

// Digits is the code spaced out for speech: "1, 2, 3, 4, 5, 6".
func (d MessageData) Digits() string {
	return strings.Join(strings.Split(d.Code, ""), ", ")
}

// Templates compose the text of each channel.
type Templates struct {
	sms, voice *template.Template
	// defaults: the built-in texts, which speak each language of words'
	// catalogue; an admin's own template speaks its own.
	smsDefault, voiceDefault bool
	fitted                   memo.Map[fitKey, error] // Fit's answers for the built-in words (templatecache.go)
}

// ParseTemplates parses the SMS and voice templates (empty: the default)
// and tries them once, so that a mistake is a config error. Templates
// parsed once are shared (templatecache.go).
func ParseTemplates(sms, voice string) (*Templates, error) {
	if sms == "" {
		sms = DefaultSMSTemplate
	}
	if voice == "" {
		voice = DefaultVoiceTemplate
	}
	return parsed.get(sms, voice)
}

// parseTemplates is ParseTemplates with no template kept.
func parseTemplates(sms, voice string) (*Templates, error) {
	t := &Templates{smsDefault: sms == DefaultSMSTemplate, voiceDefault: voice == DefaultVoiceTemplate, fitted: memo.Map[fitKey, error]{Max: maxKept}}
	var err error
	if t.sms, err = template.New(string(factor.ChannelSMS)).Option("missingkey=error").Parse(sms); err != nil {
		return nil, fmt.Errorf("message_template: %v", err)
	}
	if t.voice, err = template.New(string(factor.ChannelVoice)).Option("missingkey=error").Parse(voice); err != nil {
		return nil, fmt.Errorf("voice_template: %v", err)
	}
	sample := MessageData{Site: "example.com", Host: "example.com", User: "alice", Code: "123456"}
	for _, ch := range factor.Channels {
		text, err := t.Render(ch, sample)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(text, sample.Code) && !strings.Contains(text, sample.Digits()) {
			return nil, fmt.Errorf("%s never says the code ({{.Code}} or {{.Digits}})", optionOf(ch))
		}
	}
	return t, nil
}

// optionOf is the config option of a channel's template.
func optionOf(channel factor.Channel) string {
	if channel == factor.ChannelVoice {
		return "voice_template"
	}
	return "message_template"
}

// Fit checks that every message fits its caps for this site, in every
// language of cat, with the longest values a template can be given: a
// code of codeLength digits and a user name of UserRunes characters that
// each take two UTF-16 units.
func (t *Templates) Fit(cat *words.Catalogue, site, host string, codeLength int) error {
	if cat != nil && cat != words.English { // loaded from a folder: a catalogue of its own
		return t.fit(cat, site, host, codeLength)
	}
	return t.fitted.Get(fitKey{site, host, codeLength, cat == nil}, func() error { return t.fit(cat, site, host, codeLength) })
}

// fit is Fit with no answer kept.
func (t *Templates) fit(cat *words.Catalogue, site, host string, codeLength int) error {
	longest := MessageData{Site: site, Host: host, User: strings.Repeat("\U00020000", UserRunes) + "…", Code: strings.Repeat("8", codeLength)}
	langs := []string{"en"}
	if cat != nil {
		langs = cat.Langs()
	}
	for _, ch := range factor.Channels {
		for _, lang := range langs {
			text, err := t.render(cat, lang, ch, longest)
			if err != nil {
				return err
			}
			if err := fits(ch, text); err != nil {
				return fmt.Errorf("%s (%s): %v: shorten it, or the site_name", optionOf(ch), lang, err)
			}
		}
	}
	return nil
}

// fits checks text against its channel's cap.
func fits(channel factor.Channel, text string) error {
	if channel == factor.ChannelVoice {
		if n := len([]rune(text)); n > MaxVoiceRunes {
			return fmt.Errorf("a call would say %d characters, more than %d", n, MaxVoiceRunes)
		}
		return nil
	}
	if n := Segments(text); n > MaxSegments {
		return fmt.Errorf("a text would take %d SMS segments, more than %d", n, MaxSegments)
	}
	return nil
}

// RenderIn composes the message for channel in lang, from cat: the
// built-in texts are translated (sms.code, voice.code; the WebOTP line
// stays as it must be), an admin's own template is used as it is. The
// user's name goes in as UserWords; a message over its cap is an error.
func (t *Templates) RenderIn(cat *words.Catalogue, lang string, channel factor.Channel, d MessageData) (string, error) {
	d.User = UserWords(d.User)
	text, err := t.render(cat, lang, channel, d)
	if err != nil {
		return "", err
	}
	if err := fits(channel, text); err != nil {
		return "", fmt.Errorf("%s: %v", optionOf(channel), err)
	}
	return text, nil
}

func (t *Templates) render(cat *words.Catalogue, lang string, channel factor.Channel, d MessageData) (string, error) {
	builtin := t.smsDefault
	id := "sms.code"
	if channel == factor.ChannelVoice {
		builtin, id = t.voiceDefault, "voice.code"
	}
	if !builtin || cat == nil || lang == "" || lang == "en" {
		return t.Render(channel, d)
	}
	text := cat.Render(lang, words.Text{ID: id, Args: map[string]any{"site": d.Site, "code": d.Code, "digits": d.Digits()}})
	if channel == factor.ChannelSMS {
		text += "\n\n@" + d.Host + " #" + d.Code
	}
	return text, nil
}

// Render composes the message for channel from d as it is.
func (t *Templates) Render(channel factor.Channel, d MessageData) (string, error) {
	tpl := t.sms
	if channel == factor.ChannelVoice {
		tpl = t.voice
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, d); err != nil {
		return "", fmt.Errorf("%s: %v", optionOf(channel), err)
	}
	return b.String(), nil
}

// Segments is how many SMS segments text is billed as: up to 160
// characters of the GSM 7-bit alphabet in one (153 each when split; an
// extension character counts twice), else up to 70 UTF-16 units in one
// (67 each when split).
func Segments(text string) int {
	septets, gsm := 0, true
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			septets++
		case strings.ContainsRune(gsmExtension, r):
			septets += 2
		default:
			gsm = false
		}
	}
	if gsm {
		return split(septets, 160, 153)
	}
	return split(len(utf16.Encode([]rune(text))), 70, 67)
}

func split(n, single, part int) int {
	if n <= single {
		return 1
	}
	return (n + part - 1) / part
}

// The GSM 03.38 alphabet: the basic set, and the extension table's
// characters (sent as an escape and a character).
const (
	gsmBasic     = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)
