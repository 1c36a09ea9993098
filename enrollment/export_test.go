package enrollment

import "context"

// Add is AddIn for a phone without a language of its own (""), answering
// its ID only.
func (s *Devices) Add(ctx context.Context, realm, user, e164, name string) (string, error) {
	id, _, err := s.AddIn(ctx, realm, user, e164, name, "")
	return id, err
}

// UseRecoveryCode is UseRecoveryCodeOf, answering its error only.
func (s *Devices) UseRecoveryCode(ctx context.Context, sc Scope, flow, user, code string) error {
	_, err := s.UseRecoveryCodeOf(ctx, sc, flow, user, code)
	return err
}
