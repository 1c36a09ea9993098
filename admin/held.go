package admin

import (
	"context"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// userKinds are the records under a user's name that make her someone a
// reset or a revocation finds: her phones, apps and passkeys (device),
// recovery codes, the numbers the config gave her (provisioned-number),
// her sessions listed and pushed out of the list, her trusted browsers,
// an invite made for her (invite-latest), an app being set up, and, an
// admin's, the index of the invites she minted at the console
// (invites-minted: one who never enrolled a device of her own is reset or
// revoked, her invites ended and said, not "no such user": invite36).
var userKinds = []string{"device", "recovery", "provisioned-number", "sessions", "sessions-unlisted", "trusted", "invite-latest", "app-setup", "invites-minted"}

// holdsAnything reports whether user holds any record of userKinds in
// realm: a reset or revocation of a name that holds none (a typo of a
// lost phone's owner) is told as such, not answered as done.
func holdsAnything(ctx context.Context, st store.Store, realm, user string) (bool, error) {
	var b store.Batch
	reads := make([]*store.Op, len(userKinds))
	for i, kind := range userKinds {
		reads[i] = b.Get(store.Key(kind, realm, user))
	}
	if err := store.Do(ctx, st, &b); err != nil { // one round trip on Redis, not one a kind
		return false, err
	}
	for _, read := range reads {
		if read.Err == nil {
			return true, nil
		}
	}
	return false, nil
}

// noSuchUser is the answer to a reset or revocation of a name that held
// nothing: a 404 (as a device not there), said once the revocation was
// written all the same (a session from before sessions were listed is
// in no list, and ends with it).
func noSuchUser(user string) error {
	return &adminError{http.StatusNotFound, words.Newf("console.no_such_user", "user", textsafe.Escape(user))}
}

// checkControls refuses a user's name with a control character or
// invalid UTF-8 in any of the admin's changes: no first factor signs such
// a name in, and no record is under it. (Direction marks are left to
// checkName, for a new name: a store from before may hold one, which a
// reset must still reach.)
func checkControls(user string) error {
	if !utf8.ValidString(user) || strings.IndexFunc(user, unicode.IsControl) >= 0 {
		return badRequest("user: a name has no control characters and is valid UTF-8: " + textsafe.Escape(user) + " is not a user's name")
	}
	return nil
}
