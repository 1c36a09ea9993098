package enrollment

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/smsgate/caddy-smsgate/providers"
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

// MessageData is what a message template sees.
type MessageData struct {
	// Site is the site's name (by default its host).
	Site string
	// Host is the host the code is for, without port.
	Host string
	// User is who signs in.
	User string
	// Code is the code.
	Code string
}

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
}

// ParseTemplates parses the SMS and voice templates (empty: the default)
// and tries them once, so that a mistake is a config error.
func ParseTemplates(sms, voice string) (*Templates, error) {
	if sms == "" {
		sms = DefaultSMSTemplate
	}
	if voice == "" {
		voice = DefaultVoiceTemplate
	}
	t := &Templates{smsDefault: sms == DefaultSMSTemplate, voiceDefault: voice == DefaultVoiceTemplate}
	var err error
	if t.sms, err = template.New("sms").Option("missingkey=error").Parse(sms); err != nil {
		return nil, fmt.Errorf("message template: %v", err)
	}
	if t.voice, err = template.New("voice").Option("missingkey=error").Parse(voice); err != nil {
		return nil, fmt.Errorf("voice template: %v", err)
	}
	sample := MessageData{Site: "example.com", Host: "example.com", User: "alice", Code: "123456"}
	for _, ch := range []string{providers.SMS, providers.Voice} {
		text, err := t.Render(ch, sample)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(text, sample.Code) && !strings.Contains(text, sample.Digits()) {
			return nil, fmt.Errorf("the %s template never says the code ({{.Code}} or {{.Digits}})", ch)
		}
	}
	return t, nil
}

// RenderIn composes the message for channel in lang, from cat: the
// built-in texts are translated (sms.code, voice.code; the WebOTP line
// stays as it must be), an admin's own template is used as it is.
func (t *Templates) RenderIn(cat *words.Catalogue, lang, channel string, d MessageData) (string, error) {
	builtin := t.smsDefault
	id := "sms.code"
	if channel == providers.Voice {
		builtin, id = t.voiceDefault, "voice.code"
	}
	if !builtin || cat == nil || lang == "" || lang == "en" {
		return t.Render(channel, d)
	}
	text := cat.Render(lang, words.Text{ID: id, Args: map[string]any{"site": d.Site, "code": d.Code, "digits": d.Digits()}})
	if channel == providers.SMS {
		text += "\n\n@" + d.Host + " #" + d.Code
	}
	return text, nil
}

// Render composes the message for channel.
func (t *Templates) Render(channel string, d MessageData) (string, error) {
	tpl := t.sms
	if channel == providers.Voice {
		tpl = t.voice
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, d); err != nil {
		return "", fmt.Errorf("%s template: %v", tpl.Name(), err)
	}
	return b.String(), nil
}
