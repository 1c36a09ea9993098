package enrollment

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// ErrLastDevice refuses to remove a user's only device.
var ErrLastDevice = words.New("device.last")

// ErrNoDevice answers a device ID the user does not have.
var ErrNoDevice = words.New("device.none")

// MaxDevices bounds the devices of one user.
const MaxDevices = 10

// ErrMaxDevices refuses an eleventh device (MaxDevices) of one user.
var ErrMaxDevices = words.Newf("device.max", "n", MaxDevices)

// List returns user's devices, the most recently used first.
func (s *Devices) List(ctx context.Context, realm, user string) ([]Device, error) {
	raw, err := s.Store.Get(ctx, deviceKey(realm, user))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeDevices(user, raw)
}

// decodeDevices reads a device record, the most recently used first.
func decodeDevices(user string, raw []byte) ([]Device, error) {
	var list []Device
	if err := json.Unmarshal(raw, &list); err != nil {
		var one Device // the record of a single device, as first written
		if json.Unmarshal(raw, &one) != nil {
			return nil, fmt.Errorf("device record of %q: %v", user, err)
		}
		one.ID, one.Name = "1", "Phone"
		list = []Device{one}
	}
	// The default is the phone last used to sign in; one never used (just
	// added) comes after: a new phone becomes the default only when the
	// user signs in with it, or makes it the default.
	slices.SortStableFunc(list, func(a, b Device) int {
		if c := b.LastUsed.Compare(a.LastUsed); c != 0 {
			return c
		}
		return b.Enrolled.Compare(a.Enrolled)
	})
	return list, nil
}

// MakeDefault makes device id user's default phone.
func (s *Devices) MakeDefault(ctx context.Context, realm, user, id string) error {
	ctx = store.Lasting(ctx) // the user is told it is done
	return s.edit(ctx, realm, user, func(list []Device) ([]Device, error) {
		i := slices.IndexFunc(list, func(d Device) bool { return d.ID == id })
		if i < 0 {
			return nil, ErrNoDevice
		}
		list[i].LastUsed = s.Now().UTC()
		return list, nil
	})
}

// Default returns user's default phone (the last used), or nil.
func (s *Devices) Default(ctx context.Context, realm, user string) (*Device, error) {
	list, err := s.List(ctx, realm, user)
	return DefaultPhone(list), err
}

// DefaultPhone is the first phone of a List, or nil.
func DefaultPhone(list []Device) *Device {
	for i := range list {
		if list[i].IsPhone() {
			return &list[i]
		}
	}
	return nil
}

// HasKind reports whether a List holds a device of kind.
func HasKind(list []Device, kind factor.Device) bool { return countKind(list, kind) > 0 }

// Find returns user's device id, of any kind, or nil.
func (s *Devices) Find(ctx context.Context, realm, user, id string) (*Device, error) {
	list, err := s.List(ctx, realm, user)
	if i := slices.IndexFunc(list, func(d Device) bool { return d.ID == id }); i >= 0 {
		return &list[i], nil
	}
	return nil, err
}

// ByID returns one of user's phones, or nil: Find, for a phone (a
// device's ID is its user's only one: RandomID's).
func (s *Devices) ByID(ctx context.Context, realm, user, id string) (*Device, error) {
	d, err := s.Find(ctx, realm, user, id)
	if d == nil || !d.IsPhone() {
		return nil, err
	}
	return d, nil
}

// AddIn records e164 as one more of user's phones, whose messages speak
// lang, and returns its ID. A number already enrolled for the user is
// renamed, not added twice: added says whether it added the phone, or
// found the number the user's already (one they had, or one another
// adding of it wrote meanwhile) and answers its ID: only the one that
// added it may tell the user's phones, or undo it. An error answers
// neither (added false): the update may have set them before it failed
// (a refusal of stampAdded's, a write that failed).
func (s *Devices) AddIn(ctx context.Context, realm, user, e164, name, lang string) (id string, added bool, err error) {
	ctx = store.Lasting(ctx) // the user is told it is done
	if _, err := phone.Parse(e164, ""); err != nil {
		return "", false, fmt.Errorf("device of %q: %v", user, err)
	}
	name = CleanName(name)
	err = s.edit(ctx, realm, user, func(list []Device) ([]Device, error) {
		for i := range list {
			if s.Matches(&list[i], e164) {
				list[i].Name, id, added = cmp.Or(name, list[i].Name), list[i].ID, false
				return list, nil
			}
		}
		if len(list) >= MaxDevices {
			return nil, ErrMaxDevices
		}
		d := s.newPhone(e164, name, lang)
		if name == "" {
			d.Nth = countKind(list, factor.Phone) + 1
		}
		if len(list) > 0 {
			d.LastUsed = time.Time{} // the only phone is the default; another waits its turn
		}
		id, added = d.ID, true
		return append(list, d), nil
	})
	if err != nil {
		return "", false, err
	}
	return id, added, nil
}

// AddClaimed is AddIn for a phone whose code the user typed: in
// verify-only mode the number is bound to user first (claim), and refused
// (ErrNoChallenge) where another user bound it meanwhile; bound again
// once the phone is written, should a removal of it have released the
// binding in between; and released where the phone was not written (a
// full list: device.max), unless the user's devices hold it (releaseClaim).
func (s *Devices) AddClaimed(ctx context.Context, realm, user, e164, name, lang string) (id string, added bool, err error) {
	ctx = store.Lasting(ctx) // the binding outlives a crash as the phone does
	if ok, err := s.claim(ctx, realm, user, e164); err != nil || !ok {
		return "", false, cmpErr(err, ErrNoChallenge) // another user bound it meanwhile
	}
	if id, added, err = s.AddIn(ctx, realm, user, e164, name, lang); err != nil {
		if s.VerifyOnly() {
			s.releaseClaim(ctx, realm, user, s.PhoneHMAC(e164))
		}
		return "", false, err
	}
	_, _ = s.claim(ctx, realm, user, e164)
	return id, added, nil
}

// newPhone is a new phone device, as its first use made it the default;
// name "" is its user gave none (set its Nth).
func (s *Devices) newPhone(e164, name, lang string) Device {
	now := s.Now().UTC()
	d := Device{ID: RandomID()[:8], Name: name, Phone: e164, Enrolled: now, LastUsed: now, Lang: lang}
	if s.VerifyOnly() {
		d.Phone, d.PhoneHMAC = "", s.PhoneHMAC(e164)
	}
	return d
}

// addFirst records e164 as user's first phone, atomically: if the
// user has a device already (another enrollment won), it returns
// ErrEnrolled and changes nothing; so does first's error (nil: none asked).
func (s *Devices) addFirst(ctx context.Context, realm, user, e164, lang string, first func(context.Context) error) (string, error) {
	ctx = store.Lasting(ctx) // the user is told it is done
	if list, err := s.List(ctx, realm, user); err != nil || len(list) > 0 {
		return "", cmpErr(err, ErrEnrolled)
	}
	if first != nil {
		if err := first(ctx); err != nil {
			return "", err
		}
	}
	if ok, err := s.claim(ctx, realm, user, e164); err != nil || !ok {
		return "", cmpErr(err, ErrNoChallenge) // another user bound the number meanwhile
	}
	d := s.newPhone(e164, "", lang)
	d.Nth = 1
	raw, err := json.Marshal([]Device{d})
	if err != nil {
		return "", err
	}
	wrote, err := s.Store.PutIfAbsent(ctx, deviceKey(realm, user), raw, 0)
	if err != nil {
		return "", err
	}
	if !wrote {
		if d.PhoneHMAC != "" {
			s.releaseClaim(ctx, realm, user, d.PhoneHMAC)
		}
		return "", ErrEnrolled
	}
	_, _ = s.claim(ctx, realm, user, e164) // released meanwhile: see AddClaimed
	return d.ID, nil
}

// Rename changes a device's label; an empty one (or only spaces) keeps
// it: a device keeps a name to be told apart by.
func (s *Devices) Rename(ctx context.Context, realm, user, id, name string) error {
	ctx = store.Lasting(ctx) // the user is told it is done
	return s.edit(ctx, realm, user, func(list []Device) ([]Device, error) {
		for i := range list {
			if list[i].ID == id {
				list[i].Name = cmp.Or(CleanName(name), list[i].Name)
				return list, nil
			}
		}
		return nil, ErrNoDevice
	})
}

// Remove removes a device; the last one only if allowLast. In
// verify-only mode its number is released for other users.
func (s *Devices) Remove(ctx context.Context, realm, user, id string, allowLast bool) (*Device, error) {
	return s.remove(ctx, realm, user, id, allowLast, false)
}

// remove is Remove, its notice owed first if owe (RemoveOwing).
func (s *Devices) remove(ctx context.Context, realm, user, id string, allowLast, owe bool) (*Device, error) {
	ctx = store.Lasting(ctx) // the user is told it is done
	// Buried before it goes (tombstones.go), so no import brings it back;
	// only one the user holds and may remove (a refused removal buried the
	// device it kept, and an import then left it out). A list changed
	// meanwhile may still refuse it below: buried all the same, it stays
	// enrolled and out of later imports (fails closed).
	list, err := s.List(ctx, realm, user)
	if err != nil {
		return nil, err
	}
	at := slices.IndexFunc(list, func(d Device) bool { return d.ID == id })
	if at < 0 {
		return nil, ErrNoDevice
	}
	if len(list) == 1 && !allowLast {
		return nil, ErrLastDevice
	}
	prep := store.Preparing(ctx) // the list's edit below is the change
	if err := bury(prep, s.Store, removedDeviceKey(realm, user), id); err != nil {
		return nil, err
	}
	if owe {
		if err := s.owe(prep, realm, user, list[at]); err != nil {
			return nil, err
		}
	}
	var removed *Device
	err = s.edit(ctx, realm, user, func(list []Device) ([]Device, error) {
		i := slices.IndexFunc(list, func(d Device) bool { return d.ID == id })
		if i < 0 {
			return nil, ErrNoDevice
		}
		if len(list) == 1 && !allowLast {
			return nil, ErrLastDevice
		}
		d := list[i]
		removed = &d
		return slices.Delete(list, i, i+1), nil
	})
	if err != nil {
		return nil, err
	}
	if removed.PhoneHMAC != "" {
		s.releaseClaim(ctx, realm, user, removed.PhoneHMAC)
	}
	return removed, nil
}

// RemoveAll forgets every device of user (an admin reset).
func (s *Devices) RemoveAll(ctx context.Context, realm, user string) error {
	ctx = store.Lasting(ctx) // the user is told it is done
	removed, err := s.replaceAll(ctx, realm, user, nil)
	if err != nil {
		return err
	}
	for _, d := range removed {
		if d.PhoneHMAC != "" {
			s.releaseClaim(ctx, realm, user, d.PhoneHMAC)
		}
	}
	return nil
}

// edit changes user's device list in one atomic step (Store.Update): of
// two changes at once, each sees the other's, so a removed device never
// comes back and no change is lost. edit may be called more than once,
// and must only compute; it returns the new list (empty: the record goes)
// or store.ErrUnchanged.
func (s *Devices) edit(ctx context.Context, realm, user string, edit func([]Device) ([]Device, error)) error {
	return s.Store.Update(ctx, deviceKey(realm, user), func(raw []byte, found bool) ([]byte, time.Duration, error) {
		var list []Device
		if found {
			var err error
			if list, err = decodeDevices(user, raw); err != nil {
				return nil, 0, err
			}
		}
		mark, gone, before := addedBy(ctx, list)
		list, err := edit(list)
		if err != nil || len(list) == 0 {
			return nil, 0, err
		}
		if err := stampAdded(mark, gone, before, list); err != nil {
			return nil, 0, err
		}
		raw, err = json.Marshal(list)
		return raw, 0, err
	})
}

// used marks user's device id (or, without an id, the phone whose number
// is e164) as just used, in the same atomic step that finds it, and
// answers its ID while it is still there ("" once gone): a sign-in with a removed device is
// refused, and one it let in came before the removal.
func (s *Devices) used(ctx context.Context, realm, user, id, e164 string) (found string, err error) {
	err = s.edit(ctx, realm, user, func(list []Device) ([]Device, error) {
		i := slices.IndexFunc(list, func(d Device) bool {
			if id != "" {
				return d.ID == id
			}
			return d.Kind == factor.Phone && s.Matches(&d, e164)
		})
		found = "" // again at each try
		if i < 0 {
			return nil, store.ErrUnchanged
		}
		found = list[i].ID
		list[i].LastUsed = s.Now().UTC()
		return list, nil
	})
	return found, err
}

// CleanName makes a device label safe and short.
func CleanName(name string) string {
	// No control, direction or invisible characters: a name is shown in
	// pages, tables and logs, and must not rearrange them.
	name = strings.Join(strings.Fields(textsafe.Strip(name)), " ")
	if r := []rune(name); len(r) > 40 {
		name = string(r[:40])
	}
	return name
}
