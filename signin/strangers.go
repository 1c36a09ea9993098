package signin

import (
	"context"

	"github.com/smsgate/caddy-smsgate/enrollment"
)

// AdmitStranger counts a request that makes the gate keep something for
// someone it does not know yet — a name typed at the login form (a real
// challenge or a decoy), a passkey sign-in begun — against what strangers
// may make it keep (enrollment.Strangers). A browser that signed in as
// name before (known, from its known-browser cookie) is no stranger. A
// challenge counts in the total with its own first store work
// (sc.Stranger, set here), and only behind a login form (a first factor's
// users have send limits of their own); anything else (whole: a passkey
// ceremony) counts here, behind any identity. A whole request of a known
// browser that names nobody (a passkey sign-in at a login form, which
// names its user once answered) counts in the known browsers' tallies of
// its address, apart from strangers' (enrollment.Strangers.AdmitKnown):
// counted with theirs, a stranger at the owner's address (a shared NAT)
// spent her passkey sign-ins, and she spent his; and apart for each known
// user, so that another user's known browser there spends none of hers;
// the known browsers' total, the realm's, takes at most her share
// (known_user), so that her cookie from many addresses spends it for no
// other user.
func (s *Service) AdmitStranger(ctx context.Context, sc *enrollment.Scope, known, name string, whole bool) error {
	if (known != "" && known == name) || (!whole && !s.Identity.NamesThemselves()) {
		return nil
	}
	if whole && known != "" && name == "" {
		return s.Strangers.AdmitKnown(ctx, sc.Realm, sc.IP, known)
	}
	var err error
	if whole {
		err = s.Strangers.Admit(ctx, sc.Realm, sc.IP)
	} else {
		err = s.Strangers.AdmitAddress(sc.Realm, sc.IP)
	}
	if err != nil {
		return err
	}
	sc.Stranger = true
	return nil
}
