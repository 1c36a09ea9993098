package enrollment

import (
	"context"
	"errors"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAPasskeyKeepsItsHandleAcrossANewKey: on Badger and Redis, alice's
// passkey, registered under one code key, signs her in after Rekey (the
// gate adopted a new signing secret), named and discoverable: it presents
// the handle it was registered with, whose record (passkey-user/, as the
// previous release wrote it at registration) names her. With that record
// gone (a store restored from an export without it), a named sign-in
// still takes her passkey (the credential proves her; the handle is not
// signed), a discoverable one cannot tell whose it is; with the record
// naming another user, the named one is refused.
func TestAPasskeyKeepsItsHandleAcrossANewKey(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := newServiceOn(t, st)
		withPasskeys(t, s)
		key := fakes.NewAuthenticator("example.com", "https://example.com")
		if _, err := s.Devices.FinishPasskey(ctx, realm, alice, "register", "en", passkeyMade(t, s, key, alice, "register")); err != nil {
			t.Fatal(err)
		}
		registered := s.Devices.userHandle(realm, alice)
		n := 0
		signIn := func(user string) (string, error) {
			t.Helper()
			n++
			flow := "flow" + string(rune('a'+n))
			opts, err := s.Devices.BeginPasskeyLogin(ctx, realm, user, flow)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := key.Get(mustJSON(t, opts))
			if err != nil {
				t.Fatal(err)
			}
			assertion, err := protocol.ParseCredentialRequestResponseBytes(raw)
			if err != nil {
				t.Fatal(err)
			}
			who, _, err := s.Devices.FinishPasskeyLogin(ctx, sc, user, flow, assertion)
			return who, err
		}
		s.Core.Rekey([]byte("another code key, of a new signing secret"))
		for _, user := range []string{alice, ""} {
			if who, err := signIn(user); err != nil || who != alice {
				t.Fatalf("after a new key (named %q): %q, %v", user, who, err)
			}
		}
		if err := st.Delete(ctx, handleKey(realm, registered)); err != nil {
			t.Fatal(err)
		}
		if who, err := signIn(alice); err != nil || who != alice {
			t.Fatalf("named, the handle's record gone: %q, %v", who, err)
		}
		if _, err := signIn(""); !errors.Is(err, ErrPasskey) {
			t.Fatalf("discoverable, the handle's record gone: %v, want ErrPasskey", err)
		}
		if err := st.Put(ctx, handleKey(realm, registered), []byte("bob"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := signIn(alice); !errors.Is(err, ErrPasskey) {
			t.Fatalf("named, the handle's record naming bob: %v, want ErrPasskey", err)
		}
	})
}
