package pages

import (
	"time"
	"unicode/utf8"

	"github.com/smsgate/caddy-smsgate/session"
)

// A devices-page change that needs a fresh code is kept, sealed in the
// flow cookie, while the user enters one (the step-up); the devices page
// then finishes it instead of showing an empty form.

// pendingChange is a devices-page form waiting for its step-up.
type pendingChange struct {
	User string            `json:"u"`
	At   int64             `json:"at"` // when it was asked for (unix seconds)
	Form map[string]string `json:"f"`
}

// pendingFields are the devices form's fields a change keeps.
var pendingFields = []string{"action", "device", "name", "phone", "region", "trust", "confirm"}

// keepChange keeps the devices form of req for after the step-up.
func (p *Pages) keepChange(req *request, user string) {
	form := make(map[string]string)
	for _, k := range pendingFields {
		if v := req.form[k]; v != "" {
			form[k] = trimField(v)
		}
	}
	req.flow.Pending = &pendingChange{User: user, At: p.Now().Unix(), Form: form}
}

// resumeChange takes the change kept for user, when the session's code is
// newer than the change (the step-up was passed), into req's form: the
// devices page then carries it out. A change left waiting is dropped.
func (p *Pages) resumeChange(req *request, cl *session.Claims) bool {
	pc := req.flow.Pending
	req.flow.Pending = nil
	if pc == nil || pc.User != cl.Subject || cl.AuthTime < pc.At || p.Now().Sub(time.Unix(pc.At, 0)) > flowLifetime {
		return false
	}
	req.form = pc.Form
	if r := pc.Form["region"]; r != "" {
		req.region = p.presetRegion(r, "")
	}
	return true
}

// trimField keeps a kept field short: the flow cookie has room for little.
// It cuts between characters, never inside one (a name in any script).
func trimField(s string) string {
	if len(s) <= 64 {
		return s
	}
	s = s[:64]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
