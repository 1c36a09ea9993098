package enrollment

import "context"

// The phone policy (Challenges.Policy: allowed regions and prefixes, the
// number types each channel may reach) decides in this file only, and it
// decides twice: before every send (start), and when a code that would
// record its number (a first phone, an added phone) comes back (Check).
// Both ask the config that is running then: a reload that narrows the
// policy (against SMS pumping, say) stops the codes already texted from
// enrolling what it no longer allows, as it stops the next send.

// sendRefused applies the policy to c's number before anything is sent or
// counted. A refused number is an answer (RefusedError), except at a page
// that must not tell (sc.Blind): there c becomes a decoy, the refusal kept
// in c.Undelivered for the log.
func (s *Challenges) sendRefused(sc Scope, c *Challenge) error {
	err := s.refused(c)
	if err == nil {
		return nil
	}
	if !sc.Blind {
		return err
	}
	c.Phone, c.Undelivered = "", err // a decoy, then
	return nil
}

// recordRefused ends c when the policy of this config no longer allows
// the number its code would record (Enroll, Add): its challenge is
// discarded, so that the number is enrolled nowhere, and the answer says
// the number is not accepted. A code that signs in with a phone already
// the user's (Verify) is not refused so: the policy guards what is sent,
// that phone is enrolled already, and the next send to it is refused.
// A store that cannot discard the challenge answers its error instead.
func (s *Challenges) recordRefused(ctx context.Context, realm string, c *Challenge) error {
	if c.Purpose != Enroll && c.Purpose != Add {
		return nil
	}
	err := s.refused(c)
	if err == nil {
		return nil
	}
	return cmpErr(s.Discard(ctx, realm, c.ID), err)
}

// refused is the policy's word on c's number and channel: nil for a decoy
// (no number) or where no policy is set.
func (s *Challenges) refused(c *Challenge) error {
	if c.Phone == "" || s.Policy == nil {
		return nil
	}
	if err := s.Policy.Check(c.Phone, c.Channel); err != nil {
		return &RefusedError{Err: err}
	}
	return nil
}
