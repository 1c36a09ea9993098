package session

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
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
func replacedKey(realm, sid string) string { return endkeys.ReplacedBy(realm, sid) }

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
	return endFollowed(ctx, st, realm, user, next, now, endInvites, hops-1)
}

// endFollowed is endWith of next, a session that replaced one ended
// (replacedBy), and where her index does not hold next at all, nor has
// next ended by its own end, its end all the same (endUnlisted): an
// import carries the record of the replacement (endkeys.Carried), not
// her index (endrace41: the admin's end of the old session after a move
// ended nothing, and the new one lived); a sign-in whose listing failed
// (note) leaves it unlisted too.
func endFollowed(ctx context.Context, st store.Store, realm, user, next string, now time.Time, endInvites func(Info) error, hops int) (*Info, error) {
	ended, err := endWith(ctx, st, realm, user, next, now, endInvites, hops)
	if !errors.Is(err, ErrNoSession) {
		return ended, err
	}
	return endUnlisted(ctx, st, realm, user, next, now, endInvites)
}

// endUnlisted ends sid, which followed an end (endFollowed), where its
// user's index has no entry of it and it has no record of its own end:
// its own end's mark, for as long as any session can last
// (LongestLifetime: its expiry is in its index entry alone), announced,
// and the invites minted in it (endInvites). What it came from (a trust,
// a device) is not known without its entry, and stays. ErrNoSession
// where it is listed (ended with all hers: endedAgain) or has ended.
func endUnlisted(ctx context.Context, st store.Store, realm, user, sid string, now time.Time, endInvites func(Info) error) (*Info, error) {
	var b store.Batch
	own, index := b.Get(endkeys.Session(realm, sid)), b.Get(sessionsKey(realm, user))
	if err := store.Do(ctx, st, &b); err != nil {
		return nil, err
	}
	if !errors.Is(own.Err, store.ErrNotFound) {
		if own.Err != nil {
			return nil, own.Err
		}
		return nil, ErrNoSession // ended
	}
	if index.Err == nil {
		var list []Info
		if err := json.Unmarshal(index.Value, &list); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(list, func(s Info) bool { return s.SID == sid }) {
			return nil, ErrNoSession
		}
	} else if !errors.Is(index.Err, store.ErrNotFound) {
		return nil, index.Err
	}
	s := Info{SID: sid, Issued: now, Expires: now.Add(LongestLifetime)}
	if err := revokeListed(ctx, st, realm, []Info{s}, now, func(Info) bool { return true }, sid); err != nil {
		return nil, err
	}
	if endInvites != nil {
		if err := endInvites(s); err != nil {
			return nil, err
		}
	}
	return &s, nil
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
	if _, err := endFollowed(ctx, st, realm, user, next, now, endInvites, hops-1); err != nil && !errors.Is(err, ErrNoSession) {
		return err
	}
	return nil
}
