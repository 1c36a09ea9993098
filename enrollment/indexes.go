package enrollment

import (
	"context"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// The users' indexes of sessions an export carries (movesess41): each
// user's list of sessions (session.IndexKind) and what it pushed out
// (session.UnlistedKind), the live entries, each with its expiry. Without
// them, after a move with the signing keys the sessions signed before it
// still admitted but the console and the admin API listed none, and an
// end of one by its SID answered "no such session" (a revoke or a reset
// alone ended them). An import merges each into what the store holds
// (session.ImportIndex, session.ImportUnlisted), never in its place.
//
// Not carried: a user's trusted browsers (trusted/) and the invites
// (invite/, invite-latest/, invites-minted/). Each of those is its own
// truth: a trust or an invite is live while its record is there, and
// ended (untrusted on the devices page, used, withdrawn) by its removal,
// so a file taken before an end would bring it back on a restore. A move
// ends them instead: a trusted browser enters a code again, and an invite
// minted before the move does not open after it (TestAMoveKeepsTheAdminsHoldOnLiveSessions).

// indexKinds are the kinds of those records.
var indexKinds = []string{session.IndexKind, session.UnlistedKind}

// isIndex reports whether key is one of those records.
func isIndex(key string) bool {
	for _, kind := range indexKinds {
		if strings.HasPrefix(key, kind+"/") {
			return true
		}
	}
	return false
}

// exportIndexes appends realm's indexes of sessions (every realm's when
// realm is "") to out.
func exportIndexes(ctx context.Context, st store.Store, realm string, out []Record) ([]Record, error) {
	for _, kind := range indexKinds {
		prefix := kind + "/"
		if realm != "" {
			prefix = store.Key(kind, realm, "")
		}
		err := st.Scan(ctx, prefix, func(key string, value []byte) error {
			out = append(out, record(key, value))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkIndex refuses an index no gate would read as the file has it: a key
// store.Key does not make, a value that is not the record a gate writes
// (session.IndexRecordProblem, session.UnlistedRecordProblem: its
// sessions' expiries within the longest lifetime from now).
func checkIndex(key string, value []byte, now time.Time) error {
	parts, ok := store.SplitKey(key)
	if !ok || len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return &ImportError{Key: key}
	}
	why := session.IndexRecordProblem(value, now)
	if parts[0] == session.UnlistedKind {
		why = session.UnlistedRecordProblem(value, now)
	}
	if why != "" {
		return &ImportError{Key: key, Why: why}
	}
	return nil
}

// mergeIndexes merges the indexes an import carries into the store's,
// each with a request's store budget of its own, and says how many it
// merged.
func (s *Admin) mergeIndexes(ctx context.Context, list []end) (int, error) {
	now := s.clock()
	for i, e := range list {
		parts, _ := store.SplitKey(e.key) // checked: checkIndex
		merge := session.ImportIndex
		if parts[0] == session.UnlistedKind {
			merge = session.ImportUnlisted
		}
		if err := merge(store.WithBudget(ctx, store.RequestTime()), s.Store, parts[1], parts[2], e.value, now); err != nil {
			return i, err
		}
	}
	return len(list), nil
}

// clock is Now, or the real time where none is set.
func (s *Admin) clock() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
