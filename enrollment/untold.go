package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/store"
)

// A removal's notice, owed until told. A removal that tells the user's
// phones (RemoveOwing: the devices page's, the admin's) writes, before it
// takes the device away, what its notice names (the device's kind and
// its number masked, as the text shows it: no more; and the mark it
// recorded, AddedBy) under untoldKey, unless a removal of it wrote it already; the
// one that tells marks it told (TakeUntold: of a removal and one asked
// again at once, one tells, and one asked again after it writes nothing
// over the mark). So a removal the store wrote but answered as an error
// (its reply lost: the device gone and nobody told) is told by the removal
// asked again, which finds the device gone (its tombstone) and the notice
// still owed. One never asked again is never told: the record goes after
// untoldFor.

func untoldKey(realm, user, id string) string { return store.Key("removal-untold", realm, user, id) }

// untoldFor is how long a removal's notice stays owed, and told: a
// removal asked again is asked within minutes (the devices page asks at
// once).
const untoldFor = 24 * time.Hour

// Owed is what a removal's notice names: the device's ID and kind, and
// its number masked (phone.Mask: what the text shows).
type Owed struct {
	ID     string        `json:"id,omitempty"`
	Kind   factor.Device `json:"kind,omitempty"`
	Masked string        `json:"masked,omitempty"`
}

// OwedOf is the notice d's removal owes: its number masked where it has
// one (an app or a passkey has none, and its notice and audit name none).
func OwedOf(d Device) *Owed {
	o := &Owed{ID: d.ID, Kind: d.Kind}
	if d.Phone != "" {
		o.Masked = phone.Mask(d.Phone)
	}
	return o
}

// untold is the record at untoldKey. Device is the release before's,
// which kept the number whole: read as its Owed, and written over in
// this form once told. AddedBy is the removed device's (Device.AddedBy: a
// config phone's mark, never a number), for the removal asked again
// (RemovedMark); one of a build before it has none.
type untold struct {
	Owed
	Device  *Device `json:"device,omitempty"`
	Told    bool    `json:"told,omitempty"`
	AddedBy string  `json:"added_by,omitempty"`
}

// read is u's notice, of either release's record.
func (u *untold) read() *Owed {
	if u.Device != nil {
		u.Owed, u.Device = *OwedOf(*u.Device), nil
	}
	return &u.Owed
}

// RemoveOwing is Remove, its notice owed until TakeUntold takes it.
func (s *Devices) RemoveOwing(ctx context.Context, realm, user, id string, allowLast bool) (*Device, error) {
	return s.remove(ctx, realm, user, id, allowLast, true)
}

// owe writes the notice d's removal owes (its ID, kind and masked number
// only, and its AddedBy), unless one is there: owed by a removal of it at
// once, or told.
func (s *Devices) owe(ctx context.Context, realm, user string, d Device) error {
	raw, err := json.Marshal(untold{Owed: *OwedOf(d), AddedBy: d.AddedBy})
	if err != nil {
		return err
	}
	_, err = s.Store.PutIfAbsent(ctx, untoldKey(realm, user, d.ID), raw, untoldFor)
	return err
}

// TakeUntold marks told the notice the removal of user's device id owes,
// in one atomic step, and answers the device to tell of: nil where none
// is owed (told already, or by another removal at once; a removal of the
// release before owes none).
func (s *Devices) TakeUntold(ctx context.Context, realm, user, id string) (*Owed, error) {
	var owed *Owed
	err := s.Store.Update(store.Lasting(ctx), untoldKey(realm, user, id), func(raw []byte, found bool) ([]byte, time.Duration, error) {
		owed = nil // again at each try
		var u untold
		if !found || json.Unmarshal(raw, &u) != nil || u.Told {
			return nil, 0, store.ErrUnchanged
		}
		owed, u.Told = u.read(), true
		raw, err := json.Marshal(u)
		return raw, untoldFor, err
	})
	if err != nil {
		return nil, err
	}
	return owed, nil
}

// Untold reads, without taking it, whether the removal of user's device
// id still owes its notice: the CLI's removal with Caddy stopped, which
// texts nobody, leaves it owed for a removal asked again through a
// running Caddy. Not owed: told, or none kept (a removal of the release
// before, or one over untoldFor ago).
func (s *Devices) Untold(ctx context.Context, realm, user, id string) (owed bool, err error) {
	raw, err := s.Store.Get(ctx, untoldKey(realm, user, id))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	var u untold
	if err != nil || json.Unmarshal(raw, &u) != nil {
		return false, err
	}
	return !u.Told, nil
}

// RemovedMark is the mark (Device.AddedBy) of user's device id that a
// removal took away within untoldFor, as its owed notice keeps it: for
// the removal asked again, which finds the device gone (its first end
// failed, or another removal took it away at once), to write into the
// device's end (signin's removeDevice). "" for none kept.
func (s *Devices) RemovedMark(ctx context.Context, realm, user, id string) (string, error) {
	raw, err := s.Store.Get(ctx, untoldKey(realm, user, id))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	var u untold
	if err != nil || json.Unmarshal(raw, &u) != nil {
		return "", err
	}
	return u.AddedBy, nil
}
