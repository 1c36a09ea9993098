package admin

import (
	"context"
	"time"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
)

// SignedOutSessions lists user's sessions that signed out while console
// invites she minted through them are still open (signin.Ends.SignedOut,
// logout39), the newest first: the admin API's (sessions/signed-out) and
// the console's, beside her live sessions. sessions/end of one's SID ends
// those invites.
func (s *Site) SignedOutSessions(ctx context.Context, user string) ([]session.SignedOut, error) {
	if user == "" {
		return nil, badRequest("user is required")
	}
	list, err := signin.Ends{Store: s.Store, Realm: s.Realm, Now: s.now, Lifetime: s.lifetime()}.SignedOut(ctx, user)
	if list == nil && err == nil {
		list = []session.SignedOut{} // [] in JSON, not null
	}
	return list, err
}

// lifetime is the gate's session lifetime, where it runs (0: not known).
func (s *Site) lifetime() time.Duration {
	if s.Sessions == nil {
		return 0
	}
	return s.Sessions.Lifetime()
}
