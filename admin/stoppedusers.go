package admin

import (
	"context"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
)

// settledUsers is what a Badger folder named by --store, with no config,
// knows of the users the config gives a phone in realm: those the last
// settle kept numbers for (provisioned-number/<realm>/<user>, the numbers
// the config gave them at its last start, keyed hashes: a deleted line's
// record goes; signin.SettleProvisioned), as the config's users, so that
// no invite is minted for them or their twins there either
// (configUsers, signin.RefuseInvite; review36's 4).
func settledUsers(ctx context.Context, st store.Store, realm string) ([]User, error) {
	var users []User
	err := st.Scan(ctx, store.Key(enrollment.ProvisionedNumbers, realm, ""), func(key string, _ []byte) error {
		if parts, ok := store.SplitKey(key); ok && len(parts) == 3 && parts[2] != "" {
			users = append(users, User{Name: parts[2]})
		}
		return nil
	})
	return users, err
}
