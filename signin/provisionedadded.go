package signin

import (
	"context"
	"errors"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/session"
)

// lostNumbers is what was (a kept record, made under keyed) holds that ids
// (what the config gives now) lacks: the keyed hashes of the lost numbers.
func lostNumbers(keyed, was string, ids []string) []string {
	had := strings.Fields(was)
	if len(had) == 0 || had[0] != keyed {
		return nil
	}
	return slices.DeleteFunc(had[1:], func(id string) bool { return slices.Contains(ids, id) })
}

// removeAddedByLost removes user's devices that a session of a lost
// number added (enrollment.AddedByLost: the thief's phone, app or passkey
// added with the stolen phone's step-up, and those added from their
// sessions), as the admin's removal does (removeDevice: what each earned
// ended, the recovery codes its sessions made withdrawn), each audited
// (device_removed, by provisioned_number_lost). endLost tells her once,
// at her phones once they went (the number the config gives her now and
// the devices left). Where no number is given her now
// (her line deleted) and they are every device she has, they stay, and
// the admin is told (added_devices_kept): a provisioned user adds her own
// devices from her config phone's sessions, and removing them all would
// leave her account with no factor, open to whoever knows her password
// (a first enrollment) or closed to her. It answers how many it removed
// and whether one withdrew her codes.
//
// Each device's end is written before it leaves her list, and again
// after (removeDevice); an adding from a session it earned once it left
// her list is refused in the list's update (AddingFrom, enrollment's
// stampAdded), a session signed in before the first end or after it alike.
//
// It reads her devices again until a round finds none to remove
// (addedRounds at most, then errAddedRaced, for the settle's retry): a
// session EndUser did not end (one issued after the config started, at a
// gate still on the old config or another instance) of a device it is
// removing adds another meanwhile, which names the lost number too.
func (s *Service) removeAddedByLost(ctx context.Context, realm, user string, lost []string, given bool) (n int, withdrew bool, err error) {
	for range addedRounds {
		list, err := s.Devices.List(ctx, realm, user)
		if err != nil {
			return n, withdrew, err
		}
		added := enrollment.AddedByLost(list, lost)
		if len(added) == 0 {
			return n, withdrew, nil
		}
		if !given && len(added) == len(list) {
			s.audit("added_devices_kept", user, "", zap.Int("devices", len(added)))
			return n, withdrew, nil
		}
		for _, d := range added {
			// Its end first: d's sessions end before d leaves her list (an
			// adding from one once d is gone is refused: stampAdded).
			// removeDevice writes the end again, for a sign-in with d in
			// between; a removal refused after this leaves d hers, its
			// sessions ended, for the retry.
			if err := session.EndDevice(ctx, s.Devices.Store, realm, user, d.ID, nil, s.Devices.Now()); err != nil {
				return n, withdrew, err
			}
			r, err := removeDevice(ctx, s.Devices, realm, user, d.ID, true, nil, true)
			withdrew = withdrew || r.CodesWithdrawn
			if err != nil {
				return n, withdrew, err
			}
			n++
			s.audit("device_removed", user, d.Phone, zap.String("device", d.ID),
				zap.String("kind", d.Kind.Name()), zap.String("by", "provisioned_number_lost"))
		}
	}
	return n, withdrew, errAddedRaced
}

// addedRounds bounds how often removeAddedByLost reads her devices again.
const addedRounds = 5

// errAddedRaced is removeAddedByLost's answer when each round found more
// to remove: the retry settles again.
var errAddedRaced = errors.New("devices the lost number's sessions added kept coming")
