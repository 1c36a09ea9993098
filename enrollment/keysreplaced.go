package enrollment

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"github.com/smsgate/caddy-smsgate/store"
)

// KeysReplaced reports whether importing records would replace the
// store's signing keys (every realm's): the file carries a `keys/` record
// (an export --with-keys) whose value the store does not hold already. Its
// own export imported back replaces nothing. Asked before the import, so
// that its answer can say so: every gate that signs with the store's keys
// adopts the file's at its next look, and what it signed with the old
// ones ends.
func (s *Admin) KeysReplaced(ctx context.Context, records []Record) (bool, error) {
	for _, r := range records {
		key, value, err := r.stored()
		if err != nil {
			return false, err
		}
		if !strings.HasPrefix(key, "keys/") {
			continue
		}
		held, err := s.Store.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) || err == nil && !bytes.Equal(held, value) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
	return false, nil
}
