package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// The admin's operations: listing users, export and import (invites:
// invite.go).

// UserInfo is one user as the admin sees them.
type UserInfo struct {
	User         string   `json:"user"`
	Devices      []Device `json:"devices"`
	RecoveryLeft int      `json:"recovery_left"`
}

// Users lists the users with devices in realm. The list is as long as the
// realm is large: as its scan is not held to a request's store budget
// (store.WithBudget), neither is the whole of its lookups, but each user's
// are (a budget of their own), so that a store that stops answering
// half-way ends the list soon.
func (s *Admin) Users(ctx context.Context, realm string) ([]UserInfo, error) {
	prefix := store.Key("device", realm, "")
	var users []UserInfo
	err := s.Store.Scan(ctx, prefix, func(key string, _ []byte) error {
		// Not store.SplitKey: a key Key would not write that a store holds (an
		// import before checkImported wrote its file's as they were) is listed
		// as it always was.
		user, err := url.PathUnescape(strings.TrimPrefix(key, prefix))
		if err != nil {
			return nil
		}
		ctx := store.WithBudget(ctx, store.RequestTime())
		devices, err := s.Devices.List(ctx, realm, user)
		if err != nil {
			return err
		}
		left, _ := s.Devices.RecoveryCodesLeft(ctx, realm, user)
		users = append(users, UserInfo{User: user, Devices: devices, RecoveryLeft: left})
		return nil
	})
	return users, err
}

// AnyUsers reports whether st holds a device of any realm: whether losing
// the store would lose users.
func AnyUsers(ctx context.Context, st store.Store) (bool, error) {
	err := st.Scan(ctx, "device/", func(string, []byte) error { return errFound })
	if errors.Is(err, errFound) {
		return true, nil
	}
	return false, err
}

var errFound = errors.New("found")

// Record is one stored record, in an export.
type Record struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
	// Until is when an end (ends) stops mattering: its session's expiry.
	Until *time.Time `json:"until,omitempty"`
}

// lasting are the prefixes of the records that outlive a sign-in: an
// export carries these, not codes, counters or lockouts (a set's maker
// with it: restored without, a thief's set made from a lost phone's
// session would name no device or number, and outlive the phone; a
// passkey's records with it: without which user its handle names, a
// passkey listed after a restore or a move signed nobody in at a login
// form, and without whose its credential ID is, another user could
// register it: attack41b H1). The last two are the whole store's, not a
// realm's (storeWide).
var lasting = []string{"device/", "recovery/", recoveryBy + "/", "owner/", ProvisionedNumbers + "/", passkeyUserKind + "/", passkeyCredentialKind + "/",
	endkeys.UserPrefix, removedDevicePrefix, spentRecoveryPrefix, "keys/", renamedRecord}

// ProvisionedNumbers is the kind of the records that keep the numbers the
// config gave each provisioned user of a realm (signin.SettleProvisioned:
// keyed hashes). An export carries them as they are: restored into
// another store (with the keys, which made the hashes), the next load that
// takes a number away still ends what it earned.
const ProvisionedNumbers = "provisioned-number"

// renamedRecord is session.RenamedRecord: which unmarked tokens count
// under the cookies' old names depends on it, so it goes where the keys
// (or a configured signing_key's sessions) go, with or without the keys.
const renamedRecord = "cookies/renamed"

// storeWide reports whether the lasting records under prefix are the
// whole store's: the signing keys, and when the cookies were renamed.
func storeWide(prefix string) bool { return prefix == "keys/" || prefix == renamedRecord }

// Realm is the realm a record of Export belongs to (its key's second
// part): none for the whole store's (storeWide).
func (r Record) Realm() string {
	key := strings.TrimPrefix(r.Key, "b64:")
	if key == renamedRecord || strings.HasPrefix(key, "keys/") {
		return ""
	}
	// Not store.SplitKey: a realm escaped as Key would not ("local%68ost")
	// is the realm it names, so that an import into it refuses the record
	// itself (checkImported: TestAnImportOfRecordsNoGateReadsIsRefused).
	_, rest, _ := strings.Cut(key, "/")
	realm, _, _ := strings.Cut(rest, "/")
	if name, err := url.PathUnescape(realm); err == nil {
		return name
	}
	return realm // as written: no realm's name, so an import into one refuses it
}

// Realms lists the realms whose lasting records (users, their devices and
// recovery codes) st holds, sorted: what the admin's tools on a store
// without its config may name. It reads every such record.
func Realms(ctx context.Context, st store.Store) ([]string, error) {
	var realms []string
	for _, prefix := range lasting {
		if storeWide(prefix) {
			continue
		}
		err := st.Scan(ctx, prefix, func(key string, _ []byte) error {
			if realm := (Record{Key: key}).Realm(); !slices.Contains(realms, realm) {
				realms = append(realms, realm)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(realms)
	return realms, nil
}

// Export returns realm's lasting records (users, devices, recovery codes)
// and its live ends of sessions and trusts (ends), for a backup or a move
// between stores: never another realm's that shares the store (every
// realm's when realm is ""); with withKeys, the store's signing secret and
// session keys too (whoever holds those can mint sessions).
func (s *Admin) Export(ctx context.Context, realm string, withKeys bool) ([]Record, error) {
	var out []Record
	for _, prefix := range lasting {
		if prefix == "keys/" && !withKeys {
			continue
		}
		if !storeWide(prefix) && realm != "" {
			prefix = store.Key(strings.TrimSuffix(prefix, "/"), realm, "")
		}
		err := s.Store.Scan(ctx, prefix, func(key string, value []byte) error {
			out = append(out, record(key, value))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out, err := exportIndexes(ctx, s.Store, realm, out)
	if err != nil {
		return nil, err
	}
	return exportEnds(ctx, s.Store, realm, out)
}

// ImportError refuses a record that Export does not write; Why, when
// known, says what is wrong with it (never quoting its value).
type ImportError struct{ Key, Why string }

func (e *ImportError) Error() string {
	if e.Why != "" {
		return "import: " + e.named() + " is not a record smsgate exports: " + e.Why
	}
	return "import: " + e.named() + " is not a record smsgate exports"
}

// PartialImportError is an import that stopped part way on a store that
// cannot write it all or none (a Redis Cluster; one too large for a
// Badger transaction): the records before the one that failed are
// written. Each record is written whole, as the file holds it, so the
// same import run again finishes it (and, finding them in, does not say
// that the records written replaced the signing keys: KeysReplaced does).
type PartialImportError struct {
	Written, Of  int
	KeysReplaced bool
	Err          error
}

func (e *PartialImportError) Error() string { return e.said(fmt.Sprintf(" (%v)", e.Err)) }

// Progress is Error without the store's error: the admin API's answer,
// whose driver's text goes to Caddy's log only.
func (e *PartialImportError) Progress() string { return e.said("") }

// said is how far the import got, with cause, that the same import run
// again finishes it, and what the records written replaced: the run
// again, finding the keys in, does not say it.
func (e *PartialImportError) said(cause string) string {
	s := fmt.Sprintf("the import stopped after %d of %d records%s: run the same import again to finish it", e.Written, e.Of, cause)
	if e.KeysReplaced {
		s += "; " + KeysReplacedSaid
	}
	return s
}

func (e *PartialImportError) Unwrap() error { return e.Err }

// Import writes records from Export, all or none where the store can
// (store.AllOrNothing: Badger, a Redis server or Sentinel), else one by
// one, where an error leaves the records before it written
// (PartialImportError). Unknown kinds of record are refused before any is
// written. An import is as long as its export: written one by one, each
// record has a request's store budget of its own (store.WithBudget), not
// a share of one. The renamed record and users' revocations are written
// apart, each keeping what the store holds where that ends more
// (keepEarlierRenamed, keepLaterRevoked), and so are the ends of sessions
// and trusts, for what is left of each (keepLaterEnds). Nothing the store
// removed since the export was taken comes back (tombstones.go); done
// says what was left out, and whether the store's signing keys were
// replaced (Imported).
func (s *Admin) Import(ctx context.Context, records []Record) (done Imported, err error) {
	keys := make([]string, 0, len(records))
	all := make(map[string][]byte, len(records))
	var renamed []byte
	revoked, buried := map[string][]byte{}, map[string][]byte{}
	var endList, indexes []end
	for _, r := range records {
		key, value, err := r.stored()
		if err == nil {
			err = checkImported(key, value)
		}
		if err != nil {
			return done, err
		}
		if isEnd(key) {
			var until time.Time
			if r.Until != nil {
				until = *r.Until
			}
			endList = append(endList, end{key, value, until}) // written apart: keepLaterEnds
			continue
		}
		if isIndex(key) {
			if err := checkIndex(key, value, s.clock()); err != nil {
				return done, err
			}
			indexes = append(indexes, end{key: key, value: value}) // merged apart: mergeIndexes
			continue
		}
		known := false
		for _, p := range lasting {
			known = known || strings.HasPrefix(key, p) && (p != renamedRecord || key == p) // a record, not a folder
		}
		if !known {
			return done, &ImportError{Key: key}
		}
		if key == renamedRecord {
			if _, err := time.Parse(time.RFC3339Nano, string(value)); err != nil {
				return done, &ImportError{Key: renamedRecord}
			}
			renamed = value // written apart: keepEarlierRenamed
			continue
		}
		if strings.HasPrefix(key, endkeys.UserPrefix) {
			if json.Unmarshal(value, new(time.Time)) != nil {
				return done, &ImportError{Key: key}
			}
			revoked[key] = value // written apart: keepLaterRevoked
			continue
		}
		if isTombstone(key) {
			if json.Unmarshal(value, new([]string)) != nil {
				return done, &ImportError{Key: key}
			}
			buried[key] = value // written apart: honourTombstones
			continue
		}
		keys, all[key] = append(keys, key), value // a key named twice: the last
	}
	if key := session.KeyNumbersProblem(keys); key != "" {
		return done, &ImportError{Key: key, Why: "a gate reads keys/eddsa/1, 2, 3… up to the first missing, and the file skips one before it"}
	}
	handleKeys, err := s.handleKeys(ctx, all)
	if err != nil {
		return done, fmt.Errorf("nothing was imported: %w", err)
	}
	if renamed != nil {
		if err := s.keepEarlierRenamed(ctx, renamed); err != nil {
			return done, err
		}
	}
	kept := 0
	for key, value := range revoked {
		if err := s.keepLaterRevoked(ctx, key, value); err != nil {
			if kept > 0 {
				return done, fmt.Errorf("nothing was imported but %d users' revocations (a later one is never wrong to keep): %w", kept, err)
			}
			return done, fmt.Errorf("nothing was imported: %w", err)
		}
		kept++
	}
	if n, err := s.keepLaterEnds(ctx, endList); err != nil {
		return done, fmt.Errorf("nothing was imported but %d users' revocations and %d sessions' ends (a later one is never wrong to keep): %w", kept, n, err)
	}
	if n, err := s.mergeIndexes(ctx, indexes); err != nil {
		return done, fmt.Errorf("nothing was imported but users' revocations, the ends of sessions and %d users' lists of sessions (merged: run the same import again): %w", n, err)
	}
	if err := s.honourTombstones(ctx, buried, all, &done.NotRestored); err != nil {
		return done, fmt.Errorf("nothing was imported but the file's tombstones (never wrong to keep): %w", err)
	}
	withItsSet(all)
	keys = slices.DeleteFunc(keys, func(key string) bool { _, ok := all[key]; return !ok })
	keys = withPasskeyRecords(keys, all, handleKeys)
	if done.KeysReplaced, err = s.write(ctx, keys, all); err != nil {
		return done, err
	}
	return done, s.sweep(ctx, keys, &done.NotRestored)
}

// write writes all (keys, in the file's order), all or none where the
// store can, else one by one, and reports whether that replaced a signing
// key (rekeyed: as each was just before this write wrote it).
func (s *Admin) write(ctx context.Context, keys []string, all map[string][]byte) (rekeyed bool, err error) {
	signing := slices.DeleteFunc(slices.Clone(keys), func(key string) bool { return !isSigningKey(key) })
	if a, ok := s.Store.(store.AllOrNothing); ok && len(all) > 0 {
		held, err := a.PutAll(store.Lasting(store.WithBudget(ctx, store.RequestTime())), all, signing...)
		if err != nil && !errors.Is(err, store.ErrNoTransaction) {
			return false, fmt.Errorf("nothing was imported: %w", err)
		}
		if err == nil {
			return replaces(signing, held, all), nil
		}
	}
	for i, key := range keys {
		put := store.WithBudget(ctx, store.RequestTime())
		if i == len(keys)-1 {
			put = store.Lasting(put) // one sync makes the whole import durable
		}
		replaced, err := s.putOne(put, key, all[key])
		if err != nil {
			return false, &PartialImportError{Written: i, Of: len(keys), KeysReplaced: rekeyed, Err: err}
		}
		rekeyed = rekeyed || replaced
	}
	return rekeyed, nil
}

// keepEarlierRenamed writes the renamed record an import carries (value,
// an instant) unless the store holds an earlier one, or one unreadable
// (it counts no unmarked token: the stricter), since a later instant
// would count the release between's tokens issued before it (session's
// renamed.go): store.KeepEarliest, as a gate putting its copy back does
// (session.Manager.RereadRenamed), so that neither overwrites the other's
// earlier instant. Before the other records: the earlier of two is never
// wrong to keep, whether they are written or not.
func (s *Admin) keepEarlierRenamed(ctx context.Context, value []byte) error {
	if err := store.KeepEarliest(store.Lasting(store.WithBudget(ctx, store.RequestTime())), s.Store, renamedRecord, value); err != nil {
		return fmt.Errorf("nothing was imported: %w", err)
	}
	return nil
}
