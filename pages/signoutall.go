package pages

import (
	"context"

	"github.com/smsgate/caddy-smsgate/session"
)

// signOutEverywhere ends every session and every trusted browser of user,
// here and (within the revocation poll) at every instance. Trusts first,
// as session.EndUser: a trusted browser signing in again between the two
// gets a session the revocation ends. Then the invites she minted as an
// admin at the console (session.EndMinted, attack34b): a sign-out
// everywhere is what she does when she fears another holds her account,
// and the invites that other minted end with its sessions (one of her own
// she still wants, she mints again). It returns what it ended, and who
// used one (their names: audited).
func (p *Pages) signOutEverywhere(ctx context.Context, realm, user string) (session.MintedEnd, error) {
	if err := session.UntrustAll(ctx, p.Store, realm, user); err != nil {
		return session.MintedEnd{}, err
	}
	if err := p.Sessions.RevokeUser(ctx, user); err != nil {
		return session.MintedEnd{}, err
	}
	return session.EndMinted(ctx, p.Store, realm, user, p.Now(), p.Logger)
}
