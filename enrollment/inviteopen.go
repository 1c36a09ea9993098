package enrollment

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// OpenInvite reports whether user holds an invite still open: the one her
// record of the newest names (latestInvite), still stored (neither used,
// expired nor ended: a revocation names endkeys.NoInvite). The console
// reads it before minting another, to say "Earlier invite links … no
// longer work" only where one did (walk34's 61: said of bob's first). An
// invite of a release with no record is not seen.
func OpenInvite(ctx context.Context, st store.Store, realm, user string) (bool, error) {
	raw, err := st.Get(ctx, latestInviteKey(realm, user))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	var latest latestInvite
	if json.Unmarshal(raw, &latest) != nil || latest.ID == "" || latest.ID == endkeys.NoInvite {
		return false, nil
	}
	_, err = st.Get(ctx, store.Key("invite", realm, latest.ID))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
