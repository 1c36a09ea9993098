package enrollment

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestARightPasskeyAnswerRoundTrips: on Redis, every limit on, a right
// passkey answer costs five round trips, named or not, as a right code
// for an enrolled phone does: the try's slot and the locks (named;
// unnamed, the passkey's user read by its handle), the ceremony (the
// code's challenge), the device list, the sign counter kept (a
// compare-and-set against that list; the code's phone marked used, an
// atomic update: GET and compare-and-set), and the failures forgotten,
// with the credential's record written where a passkey from before
// credentials were recorded has none, in the one batch (the code's
// challenge consumed, its failures forgotten). Before, seven: the sign
// counter's update read the device list again, and the credential's
// record (PutIfAbsent) had a round trip of its own at every sign-in,
// though it is written once a passkey. A passkey without that record
// gets it at its next sign-in, made lasting then (an atomic update more,
// that once).
func TestARightPasskeyAnswerRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, out, _ := newServiceOn(t, redisStore(t))
	withPasskeys(t, s)
	key := fakes.NewAuthenticator("example.com", "https://example.com")
	answer := passkeyMade(t, s, key, alice, "register")
	if _, err := s.Devices.FinishPasskey(ctx, realm, alice, "register", "en", answer); err != nil {
		t.Fatal(err)
	}
	list, err := s.Devices.List(ctx, realm, alice)
	if err != nil || len(list) != 1 {
		t.Fatalf("alice's devices: %v, %v", list, err)
	}
	var c webauthn.Credential
	if err := json.Unmarshal(list[0].Credential, &c); err != nil {
		t.Fatal(err)
	}
	record := credKey(realm, c.ID)
	trips := &storetest.RoundTrips{}
	s.Store.(*store.Redis).Client().AddHook(trips)
	for i, user := range []string{alice, "", alice} {
		if i == 2 { // a passkey from before credentials were recorded
			if err := s.Store.Delete(ctx, record); err != nil {
				t.Fatal(err)
			}
		}
		flow := "flow" + string(rune('a'+i))
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
		trips.N.Store(0)
		who, _, err := s.Devices.FinishPasskeyLogin(ctx, sc, user, flow, assertion)
		if err != nil || who != alice {
			t.Fatalf("sign-in %d (named %q): %q, %v", i+1, user, who, err)
		}
		want := int64(5)
		if i == 2 {
			want += 2 // the record, written, made lasting: an atomic update (once a passkey)
		}
		if n := trips.N.Load(); n != want {
			t.Errorf("sign-in %d, a right passkey answer (named %q), took %d round trips, want %d", i+1, user, n, want)
		}
		if owner, err := s.Store.Get(ctx, record); err != nil || string(owner) != alice {
			t.Errorf("after sign-in %d, the credential's record: %q, %v; want alice's", i+1, owner, err)
		}
	}

	// A right code for bob's enrolled phone: its challenge read, checked.
	putDevices(t, s.Devices, "bob", Device{ID: "p1", Phone: num})
	enrolledPhone := sc
	enrolledPhone.Provisioned = false
	ch, err := s.Start(ctx, enrolledPhone, Challenge{User: "bob", Phone: num, DeviceID: "p1", Purpose: Verify})
	if err != nil {
		t.Fatal(err)
	}
	trips.N.Store(0)
	read, err := s.Challenge(ctx, realm, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(ctx, enrolledPhone, read, out.last(t).Code); err != nil {
		t.Fatal(err)
	}
	if n := trips.N.Load(); n != 5 {
		t.Errorf("a right code for an enrolled phone took %d round trips, not 5: the passkey's are compared with it", n)
	}
}
