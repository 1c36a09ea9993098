package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Tombstones: a lasting record of what was removed from a user (a device's
// ID; a recovery code's HMAC, used or replaced), so that an import never
// brings it back. An export taken before the removal holds it, and an
// import wrote it over the store's: a phone removed as stolen, or a
// recovery code used, worked again after a restore. A device's record is
// written before the removal, so that an import that has not read it has
// not yet written (Admin.sweep removes what such an import brought back);
// a code's once it is spent (Devices.retire, which then spends it again,
// should an import have written it back meanwhile), so that a store
// failing the spending leaves it the user's. The record goes with an
// export, so that a move keeps it. A wiped store holds none: a
// restore there brings back everything the file holds (which, exported
// after a removal, holds its tombstone and not what it removed).

const (
	removedDevicePrefix  = "removed-device/"
	spentRecoveryPrefix  = "spent-recovery/"
	maxTombstonesPerUser = 500 // the newest kept: a user's own removals push out the oldest
)

func removedDeviceKey(realm, user string) string { return store.Key("removed-device", realm, user) }
func spentRecoveryKey(realm, user string) string { return store.Key("spent-recovery", realm, user) }

// isTombstone reports whether key is a user's record of removals.
func isTombstone(key string) bool {
	return strings.HasPrefix(key, removedDevicePrefix) || strings.HasPrefix(key, spentRecoveryPrefix)
}

// bury adds names (device IDs, recovery hashes) to the record at key, in
// one atomic step, keeping the newest maxTombstonesPerUser.
func bury(ctx context.Context, st store.Store, key string, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	return st.Update(store.Lasting(ctx), key, func(raw []byte, found bool) ([]byte, time.Duration, error) {
		held := readTombstones(raw, found)
		n := len(held)
		for _, name := range names {
			if !slices.Contains(held, name) {
				held = append(held, name)
			}
		}
		if len(held) == n {
			return nil, 0, store.ErrUnchanged
		}
		held = held[max(0, len(held)-maxTombstonesPerUser):]
		raw, err := json.Marshal(held)
		return raw, 0, err
	})
}

// unbury takes names out of the record at key (a renewal undone: the set
// it replaced is the user's again).
func unbury(ctx context.Context, st store.Store, key string, names []string) error {
	return st.Update(store.Lasting(ctx), key, func(raw []byte, found bool) ([]byte, time.Duration, error) {
		held := readTombstones(raw, found)
		kept := slices.DeleteFunc(slices.Clone(held), func(n string) bool { return slices.Contains(names, n) })
		if len(kept) == len(held) {
			return nil, 0, store.ErrUnchanged
		}
		if len(kept) == 0 {
			return nil, 0, nil
		}
		raw, err := json.Marshal(kept)
		return raw, 0, err
	})
}

// readTombstones is a record's names; one unreadable counts as none (its
// removals can come back, as before tombstones were kept).
func readTombstones(raw []byte, found bool) []string {
	var held []string
	if found {
		_ = json.Unmarshal(raw, &held)
	}
	return held
}

// Removed reports whether user's device id was removed (its tombstone is
// kept: the newest maxTombstonesPerUser), for a removal asked for again
// whose first try removed it and then failed.
func (s *Devices) Removed(ctx context.Context, realm, user, id string) (bool, error) {
	ids, err := s.RemovedIDs(ctx, realm, user)
	return slices.Contains(ids, id), err
}

// RemovedIDs is the IDs of user's devices removed (their tombstones), for
// the settle of a lost number, which reads their ends
// (session.EndKeptOfLost).
func (s *Devices) RemovedIDs(ctx context.Context, realm, user string) ([]string, error) {
	raw, err := s.Store.Get(ctx, removedDeviceKey(realm, user))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return readTombstones(raw, err == nil), nil
}

func (s *Devices) buryDevices(ctx context.Context, realm, user string, list []Device) error {
	ids := make([]string, 0, len(list))
	for _, d := range list {
		ids = append(ids, d.ID)
	}
	return bury(ctx, s.Store, removedDeviceKey(realm, user), ids...)
}

// buryCodes records a stored set's codes (raw, as recoveryKey holds them)
// as spent.
func (s *Devices) buryCodes(ctx context.Context, realm, user string, raw []byte) error {
	var hashes []string
	if raw != nil && json.Unmarshal(raw, &hashes) != nil {
		return nil // an unreadable set works for nobody
	}
	return bury(ctx, s.Store, spentRecoveryKey(realm, user), hashes...)
}

// replaceAll writes keep (none: the record goes) in place of every device
// of user, burying them first; a device added between the read and the
// write is buried after it.
func (s *Devices) replaceAll(ctx context.Context, realm, user string, keep []Device) ([]Device, error) {
	before, err := s.List(ctx, realm, user)
	if err != nil {
		return nil, err
	}
	if err := s.buryDevices(ctx, realm, user, before); err != nil {
		return nil, err
	}
	var removed []Device
	err = s.edit(ctx, realm, user, func(list []Device) ([]Device, error) {
		removed = list
		return keep, nil
	})
	if err != nil {
		return nil, err
	}
	late := slices.DeleteFunc(slices.Clone(removed), func(d Device) bool {
		return slices.ContainsFunc(before, func(b Device) bool { return b.ID == d.ID })
	})
	return removed, s.buryDevices(ctx, realm, user, late)
}

// NotRestored is what an import left out because the store removed it
// since the export was taken.
type NotRestored struct {
	Devices, RecoveryCodes int
}

func (n NotRestored) String() string {
	var says []string
	if n.Devices > 0 {
		says = append(says, fmt.Sprintf("%d %s removed since the export %s not restored", n.Devices, plural(n.Devices, "device", "devices"), plural(n.Devices, "was", "were")))
	}
	if n.RecoveryCodes > 0 {
		says = append(says, fmt.Sprintf("%d recovery %s used or replaced since the export %s not restored", n.RecoveryCodes, plural(n.RecoveryCodes, "code", "codes"), plural(n.RecoveryCodes, "was", "were")))
	}
	return strings.Join(says, "; ")
}

func plural(n int, one, more string) string {
	if n == 1 {
		return one
	}
	return more
}

// honourTombstones runs before an import writes, each record with a
// request's store budget of its own (Import): it adds the file's
// tombstones (buried) to the store's, the union never wrong to keep, and
// takes out of the import's device lists and recovery sets (all, key to
// value) what the store's tombstones name, counting it in told. A list or
// set it leaves empty is not written (the store's stays: a set renewed
// since, a phone enrolled since).
func (s *Admin) honourTombstones(ctx context.Context, buried, all map[string][]byte, told *NotRestored) error {
	each := func() context.Context { return store.WithBudget(ctx, store.RequestTime()) } // as Import's records
	for key, value := range buried {
		if err := bury(each(), s.Store, key, readTombstones(value, true)...); err != nil {
			return err
		}
	}
	for key, value := range all {
		kept, n, err := s.unburied(each(), key, value)
		if err != nil {
			return err
		}
		if strings.HasPrefix(key, "device/") {
			told.Devices += n
		} else {
			told.RecoveryCodes += n
		}
		if kept == nil {
			delete(all, key)
		} else if n > 0 {
			all[key] = kept
		}
	}
	return nil
}

// unburied is a device list or recovery set (value, stored at key) without
// what the store's tombstones name, and how many it took out; nil for a
// list or set it leaves empty. Any other record is as it is.
//
// A full record (maxTombstonesPerUser) has let its oldest names go, and a
// signed-in user's own loop of adding and removing an app fills it in
// seconds: so where it is full, whatever the store does not hold now is
// taken out too, as one of those it may have let go (fail closed: a phone
// enrolled since is the store's, and stays).
func (s *Admin) unburied(ctx context.Context, key string, value []byte) ([]byte, int, error) {
	names, devices, err := s.tombstonesOf(ctx, key)
	if err != nil || len(names) == 0 {
		return value, 0, err
	}
	if len(names) >= maxTombstonesPerUser {
		held, err := s.Store.Get(ctx, key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return value, 0, err
		}
		now := namesIn(held, devices)
		for _, name := range namesIn(value, devices) {
			if !slices.Contains(now, name) {
				names = append(names, name)
			}
		}
	}
	return without(value, names, devices)
}

// namesIn is the names a device list (IDs, if devices) or a recovery set
// holds; none for one unreadable.
func namesIn(value []byte, devices bool) []string {
	var names []string
	if !devices {
		_ = json.Unmarshal(value, &names)
		return names
	}
	var list []struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(value, &list)
	for _, d := range list {
		names = append(names, d.ID)
	}
	return names
}

// tombstonesOf reads the store's tombstones for the record at key (a
// device list or a recovery set; none for any other), and reports
// whether they are devices'.
func (s *Admin) tombstonesOf(ctx context.Context, key string) ([]string, bool, error) {
	var tomb string
	rest, devices := strings.CutPrefix(key, "device/")
	if devices {
		tomb = removedDevicePrefix + rest
	} else if rest, ok := strings.CutPrefix(key, "recovery/"); ok {
		tomb = spentRecoveryPrefix + rest
	} else {
		return nil, false, nil
	}
	raw, err := s.Store.Get(ctx, tomb)
	if errors.Is(err, store.ErrNotFound) {
		return nil, devices, nil
	}
	return readTombstones(raw, err == nil), devices, err
}

// without takes names out of value (a device list, by ID, if devices; a
// recovery set else): nil where it takes out every one.
func without(value []byte, names []string, devices bool) ([]byte, int, error) {
	if devices {
		var list []map[string]any // as the file holds them, every field kept
		if json.Unmarshal(value, &list) != nil {
			return value, 0, nil // refused where it is read, as before
		}
		n := len(list)
		list = slices.DeleteFunc(list, func(d map[string]any) bool { id, _ := d["id"].(string); return slices.Contains(names, id) })
		if len(list) == 0 {
			return nil, n, nil
		}
		raw, err := json.Marshal(list)
		return raw, n - len(list), err
	}
	var hashes []string
	if json.Unmarshal(value, &hashes) != nil {
		return value, 0, nil
	}
	n := len(hashes)
	hashes = slices.DeleteFunc(hashes, func(h string) bool { return slices.Contains(names, h) })
	if len(hashes) == 0 && n > 0 {
		return nil, n, nil
	}
	raw, err := json.Marshal(hashes)
	return raw, n - len(hashes), err
}

// sweep runs after an import wrote: it takes out of each device list and
// recovery set it wrote (keys) what the store's tombstones name now. A
// removal buries before it removes, so one an import raced either was
// buried before this reads (and is swept here) or removes after the
// import wrote (and finds what it removes): either way it stays removed.
// A spent recovery code is buried after, and spent again (retire): buried
// before this reads, it is swept here; after, retire finds it.
func (s *Admin) sweep(ctx context.Context, keys []string, told *NotRestored) error {
	for _, key := range keys {
		if !strings.HasPrefix(key, "device/") && !strings.HasPrefix(key, "recovery/") {
			continue
		}
		each := store.WithBudget(ctx, store.RequestTime()) // as Import's records
		names, devices, err := s.tombstonesOf(each, key)
		n := 0
		if err == nil && len(names) > 0 {
			err = s.Store.Update(store.Lasting(each), key, func(value []byte, found bool) ([]byte, time.Duration, error) {
				n = 0
				if !found {
					return nil, 0, store.ErrUnchanged
				}
				kept, k, err := without(value, names, devices)
				if n = k; err != nil || k == 0 {
					return nil, 0, cmpErr(err, store.ErrUnchanged)
				}
				return kept, 0, nil // nil: the record goes
			})
		}
		if err != nil {
			return fmt.Errorf("the import was written, but removals made while it ran may be back (run it again): %w", err)
		}
		if strings.HasPrefix(key, "device/") {
			told.Devices += n
		} else {
			told.RecoveryCodes += n
		}
	}
	return nil
}
