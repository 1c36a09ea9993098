package enrollment

import "context"

// Add is AddIn for a phone without a language of its own (""), answering
// its ID only.
func (s *Devices) Add(ctx context.Context, realm, user, e164, name string) (string, error) {
	id, _, err := s.AddIn(ctx, realm, user, e164, name, "")
	return id, err
}
