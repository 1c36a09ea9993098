package session

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// endedAgain is EndWith asked again for a session it ended whose invites
// failed: still in user's index, its own revocation written (or one whose
// own end's tidying failed: a logout's, a device's; its invites end all
// the same, as the admin asked). Anything else is ErrNoSession. Those of
// its trust its end ended stay in the index, left out of every list by
// their trust's end, until they expire (dropSessions: tidying only).
func endedAgain(ctx context.Context, st store.Store, realm, user, sid string, now time.Time, endInvites func(Info) error) (*Info, error) {
	raw, err := st.Get(ctx, sessionsKey(realm, user))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	list, err := liveSessions(raw, now)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list, func(s Info) bool { return s.SID == sid })
	if i < 0 {
		return nil, ErrNoSession
	}
	if _, err := st.Get(ctx, endkeys.Session(realm, sid)); errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession // not ended by its own end: by a revocation of all hers, which ends her invites its own way
	} else if err != nil {
		return nil, err
	}
	ended := list[i]
	if err := endInvites(ended); err != nil {
		return nil, err
	}
	dropSessions(ctx, st, realm, user, now, func(s Info) bool { return s.SID == sid })
	return &ended, nil
}
