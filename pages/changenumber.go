package pages

import (
	"github.com/smsgate/caddy-smsgate/enrollment"
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
