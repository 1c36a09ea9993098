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

// endNotListed is EndWith (endWith) of a session sid user's list does not
// hold unended: one a step-up replaced (the replacement revoked it) is
// followed to the session that replaced it, which ends (after endedAgain
// of sid, for what still names it where its own end is asked again);
// any other, endedAgain, or ErrNoSession.
func endNotListed(ctx context.Context, st store.Store, realm, user, sid string, now time.Time, endInvites func(Info) error, hops int) (*Info, error) {
	next, err := replacedBy(ctx, st, realm, sid)
	if err != nil {
		return nil, err
	}
	if next == "" || hops <= 0 {
		if endInvites == nil {
			return nil, ErrNoSession
		}
		return endedAgain(ctx, st, realm, user, sid, now, endInvites)
	}
	if endInvites != nil {
		if _, err := endedAgain(ctx, st, realm, user, sid, now, endInvites); err != nil && !errors.Is(err, ErrNoSession) {
			return nil, err
		}
	}
	return endWith(ctx, st, realm, user, next, now, endInvites, hops-1)
}

// endWhatItBecame ends the session that replaced sid, if any, once sid's
// end is written (revokeListed): a replacement that wrote its record
// after this read reads that end (signin's EndReplaced) and ends what sid
// became itself. One ended already is no error.
func endWhatItBecame(ctx context.Context, st store.Store, realm, user, sid string, now time.Time, endInvites func(Info) error, hops int) error {
	next, err := replacedBy(ctx, st, realm, sid)
	if err != nil || next == "" || hops <= 0 {
		return err
	}
	if _, err := endWith(ctx, st, realm, user, next, now, endInvites, hops-1); err != nil && !errors.Is(err, ErrNoSession) {
		return err
	}
	return nil
}
