package pages

import (
	"github.com/nyaruka/phonenumbers"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/phone"
)

// enrollingNumber is the number this flow's first phone's code went to,
// for the enroll page's field when she goes back to change it ("Wrong
// number? Change it"): she corrects a digit, not the whole number
// (walk29, 23). Only her own flow's (the flow cookie, sealed): its pending
// code, which Pending gives only to the user it was sent for; or, once
// that code died of wrong tries, the number the flow kept for a new one
// where she typed it (Flow.EnrollingOf). Never another
// user's, never from the address. "" where there is none.
func (p *Pages) enrollingNumber(req *request) string {
	c, err := p.SignIn.Pending(req.r.Context(), req.realm, &req.flow.Flow, req.user)
	switch {
	case err == nil && c != nil && c.Purpose == enrollment.Enroll && c.User == req.user:
		return c.Phone
	case req.flow.EnrollingOf(req.user) != "":
		return req.flow.Enrolling
	}
	return ""
}

// asTyped is e164 as she knows it, for the enroll page's field: in its
// country's national format ("01512 3456780" for +4915123456780), that
// country chosen in the picker (and its example number), where the gate
// takes numbers of it (presetRegion: the number's country, else the
// gate's default region); else as it is (walk33, 03 and 33: "+4915…" in
// a field whose hint says to type it as she knows it). Only a national
// format the form reads back as e164 (review34 R1: the library writes an
// Argentine mobile, +54 9 11…, as "09 15-…", its area code lost, which
// the form refuses): else the whole number, as the form takes it too.
func (p *Pages) asTyped(req *request, e164 string) string {
	r := phone.Region(e164)
	if e164 == "" || p.presetRegion(r, "") != r {
		return e164
	}
	num, err := phonenumbers.Parse(e164, r)
	if err != nil {
		return e164
	}
	national := phonenumbers.Format(num, phonenumbers.NATIONAL)
	if back, err := phone.Parse(national, r); err != nil || back != e164 {
		return e164
	}
	req.region = r
	if ex := phone.Example(r); ex != "" {
		req.example = ex
	}
	return national
}
