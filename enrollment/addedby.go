package enrollment

import (
	"context"
	"errors"
	"slices"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// Devices a config's phone added. A provisioned user's phone (the
// config's `user` line) has no device record, so a thief holding her
// password and that phone who adds a phone, an app or a passkey of his
// own on the devices page (a step-up to the phone he holds; its notice
// goes to it too) made a device of hers that no removal of his phone
// could reach: once the admin gave her another number, his device still
// signed him in. So a device added from a session a config's phone
// earned records that phone's mark (Device.AddedBy: session.NumberMark,
// the number's keyed hash, never the number), and a start that finds the
// number lost removes it (signin.SettleProvisioned). The mark is the one
// at the root of the chain: a device added from a session another such
// device earned records that device's AddedBy, so the phone Y the thief
// added from X's session, and Z from Y's, both name the lost number. A
// device added from a session an enrolled device of hers earned, or her
// new number's, records nothing of the old one.

type addedFromKey struct{}

// AddedFrom is ctx for adding a device from a session maker earned
// (signin.Service.Maker: a device's ID, a config phone's mark, or ""):
// the device it adds records the mark at the root (addedBy).
func AddedFrom(ctx context.Context, maker string) context.Context {
	if maker == "" {
		return ctx
	}
	return context.WithValue(ctx, addedFromKey{}, maker)
}

// addedBy is the mark a device added from ctx's session records, read
// from the list before the add (the same atomic update): the session's
// own mark, else that of the device that earned it; "" for none. gone is
// whether that device is no longer on list. before is the IDs of list for
// stampAdded where there is a mark or gone (nil else).
func addedBy(ctx context.Context, list []Device) (mark string, gone bool, before map[string]bool) {
	maker, _ := ctx.Value(addedFromKey{}).(string)
	if mark = maker; maker != "" && !session.IsNumberMark(maker) {
		mark = ""
		i := slices.IndexFunc(list, func(d Device) bool { return d.ID == maker })
		if gone = i < 0; !gone {
			mark = list[i].AddedBy
		}
	}
	if mark == "" && !gone {
		return "", false, nil
	}
	before = make(map[string]bool, len(list))
	for _, d := range list {
		before[d.ID] = true
	}
	return mark, gone, before
}

// stampAdded has each device of after whose ID before lacks record mark,
// or refuses it (ErrEnded) where the device that earned its session is
// gone (addedBy). Such a session was issued until the device's removal,
// whose end ends it (session.EndDevice), or is the one that removal kept
// (AddedFrom names no device for it: signin.Service.AddingFrom): a device
// it added would name nothing of the removed device's, so that no settle
// of a lost number finds it (the settle's sign-in with the device between
// its end and its removal, signin.removeAddedByLost).
func stampAdded(mark string, gone bool, before map[string]bool, after []Device) error {
	for i := range after {
		if before != nil && !before[after[i].ID] {
			if gone {
				return ErrEnded
			}
			after[i].AddedBy = mark
		}
	}
	return nil
}

// ErrEnded answers a change whose session ended while it was made
// (signin.ErrEnded): undone, or, for a device added from a session whose
// device left her list, refused.
var ErrEnded = errors.New("the session ended while the change was made; nothing of it stays")

// AddedByLost is user's devices (in list) that a config phone's session
// added (at the root) whose number's keyed hash lost holds.
func AddedByLost(list []Device, lost []string) []Device {
	return slices.DeleteFunc(slices.Clone(list), func(d Device) bool {
		return !slices.ContainsFunc(lost, func(id string) bool { return d.AddedBy == session.NumberMark(id) })
	})
}

// Remark has user's devices whose AddedBy is a key of marks record its
// value instead: a number's mark made again under the store's new secret
// (signin.Service.Rekey).
func (s *Devices) Remark(ctx context.Context, realm, user string, marks map[string]string) error {
	return s.edit(ctx, realm, user, func(list []Device) ([]Device, error) {
		changed := false
		for i := range list {
			if mark, ok := marks[list[i].AddedBy]; ok {
				list[i].AddedBy, changed = mark, true
			}
		}
		if !changed {
			return nil, store.ErrUnchanged
		}
		return list, nil
	})
}
