package admin

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/smsgate/caddy-smsgate/words"
)

// noSuchUser is the answer to a reset or revocation of a name that held
// nothing (signin.Ended's Held false: a typo of a lost phone's owner is
// told as such, not answered as done): a 404 (as a device not there),
// said once the revocation was written all the same (a session from
// before sessions were listed is in no list, and ends with it).
func noSuchUser(user string) error {
	return &adminError{http.StatusNotFound, words.Newf("console.no_such_user", "user", echo(user))}
}

// checkControls refuses a user's name with a control character or
// invalid UTF-8 in any of the admin's changes: no first factor signs such
// a name in, and no record is under it. (Direction marks are left to
// checkName, for a new name: a store from before may hold one, which a
// reset must still reach.)
func checkControls(user string) error {
	if !utf8.ValidString(user) || strings.IndexFunc(user, unicode.IsControl) >= 0 {
		return badRequest("user: a name has no control characters and is valid UTF-8: " + echo(user) + " is not a user's name")
	}
	return nil
}
