package signin

import "context"

// TwinRefusal is what the enroll page asks before it shows its form: the
// refusal user's own first enrollment would meet as she posts a number
// (ErrCaseTwin, ErrTwinClaimed: caseTwin where the enrollment begins, on
// the realm's snapshot of enrolled names and the claims), else nil; any
// other error is the store's. Nothing is sent and no code started, and
// the words say no more than the POST's refusal does; a twin that
// appears between the page and the POST is refused by the POST
// (Enroll), as before.
func (s *Service) TwinRefusal(ctx context.Context, realm string, f *Flow, user string) error {
	return s.caseTwin(ctx, realm, f, user, false)
}
