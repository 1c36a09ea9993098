package session

import (
	"context"
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// What a session became (review39 R1): a step-up, or a phone's
// confirmation, replaces a browser's session by a new one of the same user
// (signin.Ends.EndReplaced), and the console invites minted in the old one
// move to the new one. An admin's end of the old session at that moment
// (the console's, the admin API's, the CLI's: EndWith) ended the old one
// alone, and nothing where the invites had moved: the link and the new
// session lived, the end answered "ended". The replacement now writes,
// before it moves anything, which session replaced the old one
// (NoteReplaced), and an end of the old one follows it there, to the end
// (EndWith): what the old session became ends with it, though the end
// lands after the whole replacement. The end writes its own mark
// (revokeListed) before it reads this record, and the replacement reads
// that mark (EndedAt) once it has revoked the old session, so one of the
// two sees the other, in any order of their steps.

// replacedKey is the record of which session replaced sid in its browser.
func replacedKey(realm, sid string) string { return store.Key("replaced-by", realm, sid) }

// maxFollowed bounds how many replacements an end follows (each step-up
// of one browser is one): past it, the rest stands as before.
const maxFollowed = MaxListed

// NoteReplaced records that session to replaced session from (of the same
// user, in the same browser), for as long as from could have lasted
// (until expires, its exp): an end of from then ends to (EndWith).
func NoteReplaced(ctx context.Context, st store.Store, realm, from string, expires time.Time, to string, now time.Time) error {
	ttl := expires.Sub(now) + Leeway
	if from == "" || to == "" || ttl <= 0 {
		return nil
	}
	return st.Put(store.Lasting(ctx), replacedKey(realm, from), []byte(to), ttl)
}

// replacedBy is the session that replaced sid, "" for none.
func replacedBy(ctx context.Context, st store.Store, realm, sid string) (string, error) {
	raw, err := st.Get(ctx, replacedKey(realm, sid))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return string(raw), err
}
