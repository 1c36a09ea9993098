package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/text/cases"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
)

// The admin's add of ALICE refused (the number is bob's:
// HeldError, 409) claimed ALICE's name (AddByAdmin claims before
// AddBound): alice, whose twin holds no device and whom the admin did not
// add, was refused her own enrollment (ErrTwinClaimed) for twinGrace (2 min;
// review29). Now the refused add releases the claim it made.
func TestARefusedAddDoesNotHoldTheName(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			s, _, _ := twinSite(t, st)
			s.Devices.PhoneKey = []byte("a phone-hashing key of 32 bytes or more") // verify-only mode
			ctx := context.Background()
			realm := fmt.Sprint("r29", kind)
			if _, err := AddByAdmin(ctx, s.Devices, realm, "bob", "+14155550199", ""); err != nil {
				t.Fatal(err)
			}
			_, err := AddByAdmin(ctx, s.Devices, realm, "ALICE", "+14155550199", "")
			if held := (*enrollment.HeldError)(nil); !errors.As(err, &held) {
				t.Fatalf("the admin's add of bob's number to ALICE: %v, want a HeldError", err)
			}
			if n, _ := s.Devices.List(ctx, realm, "ALICE"); len(n) != 0 {
				t.Fatalf("ALICE holds %d devices", len(n))
			}
			sc := enrollment.Scope{Realm: realm, Host: realm, IP: "192.0.2.1"}
			_, err = s.Enroll(ctx, sc, &Flow{ID: "alice"}, "alice", "+14155550101", "")
			if err != nil {
				t.Errorf("alice's own enrollment after the admin's refused add of ALICE: %v; want begun (no ALICE enrolled or being enrolled)", err)
			}
		})
	}
}

// releaseName deletes only the claim that carries its nonce: a claim
// written since (another add, an invite's enrollment) stays.
func TestReleasingANameKeepsAClaimWrittenSince(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			s, _, _ := twinSite(t, st)
			ctx := context.Background()
			realm := fmt.Sprint("r29b", kind)
			nonce, _, err := claimName(ctx, st, realm, "ALICE")
			if err != nil {
				t.Fatal(err)
			}
			if err := ClaimName(ctx, st, realm, "ALICE"); err != nil { // written since
				t.Fatal(err)
			}
			releaseName(ctx, s.Devices, realm, "ALICE", nonce)
			key := twinClaimKey(realm, twinKey(cases.Fold(), "ALICE"))
			if _, err := st.Get(ctx, key); err != nil {
				t.Fatalf("the claim written since: %v; want kept", err)
			}
			raw, _ := st.Get(ctx, key)
			var held twinClaim
			_ = json.Unmarshal(raw, &held)
			releaseName(ctx, s.Devices, realm, "ALICE", held.Nonce)
			if _, err := st.Get(ctx, key); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the claim carrying its nonce after releaseName: %v; want gone", err)
			}
		})
	}
}
