package enrollment

import (
	"context"
	"errors"

	"github.com/smsgate/caddy-smsgate/providers"
)

// What happens to a code once its challenge is made and written with its
// cooldown (writeChallenge, record.go): it is delivered (or its failure
// answered blind, or the send taken back: takeback.go), and resent.

// blind answers a Blind send that failed as a decoy's is answered: its
// records and the limits it counted stay (a decoy's are not given back
// either), and no code went out.
func blind(c *Challenge, err error) (*Challenge, error) {
	c.Undelivered = err
	return c, nil
}

// MaybeSent says whether err, a delivery's failure, may have sent the
// code all the same: the gateway was reached and did not refuse it (a
// timeout, a connection cut after the request, a 5xx), so that it may
// have taken the text and failed only to say so (providers.Unsent).
func MaybeSent(err error) bool {
	var send *SendError
	return errors.As(err, &send) && !providers.Unsent(send.Err)
}

// unconfirmed answers a send that may have gone out (MaybeSent) as a
// send: its challenge, its cooldown and the number's waits, and the
// sends it counted (the pumping guard's too) all stay, so that "send
// again" before its wait is refused — an attacker who can make the
// gateway fail after it took the text gets no text more than the
// schedule allows. The page says that the text could not be confirmed
// (Unconfirmed), and when to ask again.
func unconfirmed(s *Challenges, c *Challenge, err error) (*Challenge, error) {
	c.Unconfirmed = err
	s.observe(CodeSent, c.Phone, c.Channel)
	return c, nil
}

// deliver sends code for challenge c, or has the Verifier send its own.
func (s *Challenges) deliver(ctx context.Context, host string, c *Challenge, code string) error {
	m := providers.Message{To: c.Phone, Channel: c.Channel, Code: code, Host: host}
	if c.Receipt != "" {
		m.StatusCallback = s.ReceiptURL(c.Receipt)
	}
	var err error
	if s.Verifier != nil {
		err = providers.Redact(s.Verifier.StartVerification(ctx, m), m.To, m.Code)
	} else {
		site := s.Site
		if site == "" {
			site = host
		}
		if m.Body, err = s.Templates.RenderIn(s.Words, c.Lang, c.Channel, MessageData{Site: site, Host: host, User: c.User, Code: code}); err != nil {
			return err
		}
		err = s.Sender.Send(ctx, m)
	}
	if err != nil {
		return &SendError{Err: err}
	}
	return nil
}

// matches checks code against c, here or at the Verifier.
func (s *Challenges) matches(ctx context.Context, c *Challenge, code string) (bool, error) {
	if s.Verifier == nil {
		return codeMatches(s.codeKey(), c.ID, code, c.Hash), nil
	}
	ok, err := s.Verifier.CheckVerification(ctx, c.Phone, code)
	if errors.Is(err, providers.ErrNoVerification) {
		return false, ErrExpired
	}
	return ok, providers.Redact(err, c.Phone, code)
}

// Resend replaces challenge id with a new one for the same user and phone,
// once its cooldown has passed. The old code stops working.
func (s *Challenges) Resend(ctx context.Context, sc Scope, id string) (*Challenge, error) {
	c, err := s.Challenge(ctx, sc.Realm, id)
	if err != nil {
		return nil, err
	}
	if !s.Now().Before(c.Expires) {
		return nil, ErrExpired // an expired challenge is over: never revived
	}
	if wait := c.ResendAt.Sub(s.Now()); wait > 0 {
		return nil, &CooldownError{Wait: wait}
	}
	nc, err := s.start(ctx, sc, &Challenge{User: c.User, Phone: c.Phone, Masked: c.Masked, Purpose: c.Purpose, Channel: c.Channel,
		DeviceID: c.DeviceID, DeviceName: c.DeviceName, LimitKey: c.LimitKey, Lang: c.Lang}, c.Resends+1)
	if err != nil {
		return nil, err // the old code still works
	}
	return nc, s.Discard(ctx, sc.Realm, id)
}
