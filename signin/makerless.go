package signin

import (
	"context"
	"errors"
	"slices"

	"github.com/smsgate/caddy-smsgate/enrollment"
)

// forgetMakerlessWithFirst withdraws user's recovery codes where no maker
// is recorded for them (enrollment.ForgetMakerlessCodes) and removed, the
// device just removed, was her first: enrolled before every device left.
// A first enrollment of the release before recorded no maker for the
// codes it showed (attack41), so its phone's removal withdrew nothing,
// and the intruder who enrolled first through a leaked invite kept them;
// such a set goes with the user's first device, which is the phone it
// came with unless that phone was removed before (a set left then is
// withdrawn at the next first device's removal). A maker-less set of
// another kind (a renewal before recovery-by/ was written, or one a
// recovery code's session made naming no device) goes too: erring to
// safety, as every withdrawal it is told (devices page, notice, admin API).
func forgetMakerlessWithFirst(ctx context.Context, d *enrollment.Devices, realm, user string, removed enrollment.Device) (bool, error) {
	list, err := d.List(ctx, realm, user)
	if err != nil {
		return false, err
	}
	if slices.ContainsFunc(list, func(o enrollment.Device) bool { return o.Enrolled.Before(removed.Enrolled) }) {
		return false, nil
	}
	return d.ForgetMakerlessCodes(ctx, realm, user)
}

// cmpEnded is err, or instead where the session ended.
func cmpEnded(err, instead error) error {
	if errors.Is(err, ErrEnded) {
		return instead
	}
	return err
}
