package signin

import (
	"context"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/words"
)

// ErrDeviceName refuses a device's new name that is nothing once cleaned
// (enrollment.CleanName): only spaces, invalid UTF-8, control or
// direction characters. enrollment.Devices.Rename would keep the old name,
// and the page said "The name was changed.".
var ErrDeviceName = words.New("devices.name_empty")

// RenamePhone changes a device's label.
func (s *Service) RenamePhone(ctx context.Context, realm, user, id, name string) error {
	if enrollment.CleanName(name) == "" {
		return ErrDeviceName
	}
	return s.Devices.Rename(ctx, realm, user, id, name)
}
