package enrollment

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
)

// previousRelease is a store's records as the previous release (56a5007)
// wrote them, dumped from its real Badger store: a code sent by a call
// (its challenge, and the cooldown Start wrote) and a device record with
// a phone, an app and a passkey; with the code the call said and the
// challenge's ID.
func previousRelease(t *testing.T) (records map[string]string, code, id string) {
	t.Helper()
	raw, err := os.ReadFile("testdata/previous-release.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &records); err != nil {
		t.Fatal(err)
	}
	code, id = records["(the code sent)"], records["(the challenge's id)"]
	for k := range records {
		if strings.HasPrefix(k, "(") {
			delete(records, k)
		}
	}
	return records, code, id
}

// openPreviousRelease puts the previous release's records into a real
// store, as a rolling upgrade finds them.
func openPreviousRelease(t *testing.T) (*Challenges, map[string]string, string, string) {
	t.Helper()
	s, _, _ := newService(t)
	records, code, id := previousRelease(t)
	for k, v := range records {
		if err := s.Store.Put(context.Background(), k, []byte(v), 0); err != nil {
			t.Fatal(err)
		}
	}
	return s, records, code, id
}

// sameBytes fails unless v, written by this release, is raw byte for byte.
func sameBytes(t *testing.T, what string, v any, raw string) {
	t.Helper()
	got, err := json.Marshal(v)
	if err != nil || !bytes.Equal(got, []byte(raw)) {
		t.Errorf("%s as this release writes it:\n%s, %v\nthe previous release's:\n%s", what, got, err, raw)
	}
}

// TestDeviceKindsAsEarlierReleasesWroteThem: the device record the
// previous release wrote, with a phone (no kind), an app ("totp") and a
// passkey ("passkey"), reads from a real store as those kinds
// (factor.Device: an app's is the Caddyfile's name for apps, factor.TOTP);
// and the same devices, written by this release, are the same bytes.
func TestDeviceKindsAsEarlierReleasesWroteThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, records, _, _ := openPreviousRelease(t)
	list, err := s.Devices.List(ctx, realm, alice)
	if err != nil || len(list) != 3 {
		t.Fatalf("the record: %+v, %v", list, err)
	}
	kinds := map[string]factor.Device{}
	for _, d := range list {
		kinds[d.ID] = d.Kind
	}
	if kinds["p1"] != factor.Phone || kinds["a1"] != factor.App || kinds["k1"] != factor.Passkey || !HasKind(list, factor.App) || !HasKind(list, factor.Passkey) {
		t.Fatalf("kinds read: %v", kinds)
	}
	if factor.App != factor.Device(factor.TOTP) || factor.TOTP != "totp" || factor.Passkey != "passkey" || factor.Phone != "" {
		t.Fatalf("the kinds records hold changed: %q %q %q", factor.Phone, factor.App, factor.Passkey)
	}
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	sameBytes(t, "the devices", []Device{
		{ID: "p1", Kind: factor.Phone, Name: "work phone", Phone: num, Enrolled: at, Lang: "en", LastUsed: at.Add(time.Hour)},
		{ID: "a1", Kind: factor.App, Secret: "sealed", Name: "phone app", Enrolled: at.Add(24 * time.Hour)},
		{ID: "k1", Kind: factor.Passkey, Credential: json.RawMessage(`{"id":"AQID"}`), Name: "laptop", Enrolled: at.Add(48 * time.Hour)},
	}, records[deviceKey(realm, alice)])
}

// TestACodeThePreviousReleaseCalledChecksHere: a code the previous
// release sent by a call, its challenge and cooldown in the store it
// wrote, reads here as a call's (factor.ChannelVoice), is the right code
// here, and is written back the same bytes.
func TestACodeThePreviousReleaseCalledChecksHere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, records, code, id := openPreviousRelease(t)
	c, err := s.Challenge(ctx, realm, id)
	if err != nil || c.Channel != factor.ChannelVoice {
		t.Fatalf("the previous release's challenge: %+v, %v", c, err)
	}
	sameBytes(t, "the challenge", c, records[challengeKey(realm, id)])
	var cd cooldown
	raw := records["cooldown/example.com/alice"]
	if err := json.Unmarshal([]byte(raw), &cd); err != nil || cd.Channel != factor.ChannelVoice {
		t.Fatalf("the previous release's cooldown: %+v, %v", cd, err)
	}
	sameBytes(t, "the cooldown", cd, raw)
	done, err := s.Check(ctx, sc, c, code)
	if err != nil || done.Channel != factor.ChannelVoice || done.User != alice {
		t.Fatalf("the previous release's called code, checked here: %+v, %v", done, err)
	}
}
