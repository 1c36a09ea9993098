package enrollment

import (
	"context"
	"crypto/hmac"
	"errors"

	"github.com/smsgate/caddy-smsgate/store"
)

// presented makes u's WebAuthn ID the handle a passkey presented to a
// named sign-in, where it is another than u's handle under the key in
// use (one registered under a signing secret since replaced), unless its
// record names another user (refused there, as before): its record
// names u (written at registration), or there is none (a store restored
// from an export without them). The handle is not signed by the
// passkey, and go-webauthn takes a named answer without one: what proves
// the user is the credential, which must be in u's list and sign the
// challenge. It reports whether it took the handle.
func (s *Devices) presented(ctx context.Context, realm string, u *passkeyUser, handle []byte) (bool, error) {
	if len(handle) == 0 || hmac.Equal(handle, u.handle) {
		return false, nil
	}
	owner, err := s.Store.Get(ctx, handleKey(realm, handle))
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return false, err
	case string(owner) != u.name:
		return false, nil
	}
	u.handle = handle
	return true, nil
}
