package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// passkeyStores opens a store of each kind, as many as a test asks for.
var passkeyStores = map[string]func(testing.TB) store.Store{"badger": storetest.Badger, "redis": storetest.Redis}

// signsInAtALoginForm reports how a discoverable sign-in (a login form's)
// with key at s ends: who, or the error.
func signsInAtALoginForm(t *testing.T, s *Challenges, key *fakes.Authenticator, flow string) (string, error) {
	t.Helper()
	ctx := context.Background()
	opts, err := s.Devices.BeginPasskeyLogin(ctx, realm, "", flow)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := key.Get(mustJSON(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	who, _, err := s.Devices.FinishPasskeyLogin(ctx, enrolled, "", flow, parsed)
	return who, err
}

// passkeyOf registers a passkey of key's for user at s: its credential ID.
func passkeyOf(t *testing.T, s *Challenges, key *fakes.Authenticator, user string) []byte {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Devices.FinishPasskey(ctx, realm, user, "register-"+user, "en", passkeyMade(t, s, key, user, "register-"+user)); err != nil {
		t.Fatal(err)
	}
	list, err := s.Devices.List(ctx, realm, user)
	if err != nil || len(list) == 0 {
		t.Fatalf("%s's devices: %v, %v", user, list, err)
	}
	var c webauthn.Credential
	if err := json.Unmarshal(list[len(list)-1].Credential, &c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// withoutPasskeyRecords is file as the previous release exported it: with
// no passkey-user/ or passkey-credential/ record.
func withoutPasskeyRecords(file []Record) []Record {
	var out []Record
	for _, r := range file {
		key, _, _ := r.stored()
		if !strings.HasPrefix(key, passkeyUserKind+"/") && !strings.HasPrefix(key, passkeyCredentialKind+"/") {
			out = append(out, r)
		}
	}
	return out
}

// TestAPasskeyMovedByAnExportSignsInAtALoginForm (attack41b H1, H1b):
// alice's passkey, her store exported and imported into another, signs
// her in at a login form (a discoverable sign-in, which reads which user
// its handle names), and its credential ID is still hers: bob cannot
// register it. So too with a file of the previous release, which carries
// neither record: the import makes them from her device list. Before, the
// export carried neither: the passkey was listed and refused at every
// login form, and its ID was anybody's. Badger and Redis.
func TestAPasskeyMovedByAnExportSignsInAtALoginForm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, open := range passkeyStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, _, _ := raceService(t, open(t))
			withPasskeys(t, s)
			key := fakes.NewAuthenticator("example.com", "https://example.com")
			id := passkeyOf(t, s, key, alice)
			file, err := (&Admin{Core: s.Core, Devices: s.Devices}).Export(ctx, realm, false)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(file) - len(withoutPasskeyRecords(file)); n != 2 {
				t.Fatalf("the export holds %d passkey records; want its handle's and its credential's", n)
			}
			for form, file := range map[string][]Record{"this release's": file, "the previous release's": withoutPasskeyRecords(file)} {
				moved, _, _ := raceService(t, open(t)) // the same code key: the store's secret moved with it
				withPasskeys(t, moved)
				if _, err := (&Admin{Core: moved.Core, Devices: moved.Devices}).Import(ctx, file); err != nil {
					t.Fatalf("%s export: %v", form, err)
				}
				if who, err := signsInAtALoginForm(t, moved, key, "moved"); err != nil || who != alice {
					t.Errorf("%s export: alice's passkey at a login form signs in %q, %v; want alice", form, who, err)
				}
				if err := moved.Devices.claimCredential(ctx, realm, "bob", id, nil); !errors.Is(err, ErrPasskey) {
					t.Errorf("%s export: bob registers alice's credential ID: %v; want ErrPasskey", form, err)
				}
			}
		})
	}
}

// TestAnImportMakesHandlesUnderTheFilesSecret: a file of the previous
// release with the signing secret (an export with the keys) makes its
// users' handle records under the code key of the file's secret, which
// the gates adopt with it, not only under the importing gate's own key.
// Badger and Redis.
func TestAnImportMakesHandlesUnderTheFilesSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	secret := []byte("the file's secret, 32 bytes long")
	for name, open := range passkeyStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, _, _ := raceService(t, open(t))
			s.Rekey(session.CodeKeyOf(secret)) // the secret's gate
			withPasskeys(t, s)
			key := fakes.NewAuthenticator("example.com", "https://example.com")
			passkeyOf(t, s, key, alice)
			file, err := (&Admin{Core: s.Core, Devices: s.Devices}).Export(ctx, realm, false)
			if err != nil {
				t.Fatal(err)
			}
			file = append(withoutPasskeyRecords(file), record(session.SecretRecord, secret))
			moved, _, _ := raceService(t, open(t)) // a store and a key of its own
			withPasskeys(t, moved)
			if _, err := (&Admin{Core: moved.Core, Devices: moved.Devices}).Import(ctx, file); err != nil {
				t.Fatal(err)
			}
			moved.Rekey(session.CodeKeyOf(secret)) // the gate adopts the store's new secret
			if who, err := signsInAtALoginForm(t, moved, key, "moved"); err != nil || who != alice {
				t.Errorf("alice's passkey at a login form after the import: %q, %v; want alice", who, err)
			}
		})
	}
}

// TestAnImportRefusesPasskeyRecordsNoGateReads: a passkey's records are
// checked as a user's others are (checkImported): a name that is not
// lower-case hex, a handle that is no SHA-256, a value naming nobody.
func TestAnImportRefusesPasskeyRecordsNoGateReads(t *testing.T) {
	t.Parallel()
	handle := strings.Repeat("ab", 32)
	for _, r := range []struct{ key, value string }{
		{"passkey-user/" + realm + "/" + strings.ToUpper(handle), alice},
		{"passkey-user/" + realm + "/abcd", alice},
		{"passkey-user/" + realm + "/" + handle, ""},
		{"passkey-user/" + realm + "/zz", alice},
		{"passkey-user/" + realm, alice},
		{"passkey-credential/" + realm + "/x1", alice},
		{"passkey-credential/" + realm + "/" + strings.Repeat("00", 1024), alice},
		{"passkey-credential/" + realm + "/01", "\xff"},
	} {
		if err := checkImported(r.key, []byte(r.value)); err == nil {
			t.Errorf("%.60s = %q: taken", r.key, r.value)
		}
	}
	for _, key := range []string{"passkey-user/" + realm + "/" + handle, "passkey-credential/" + realm + "/0102"} {
		if err := checkImported(key, []byte(alice)); err != nil {
			t.Errorf("%s: %v", key, err)
		}
	}
}

// failHandle fails the write of a passkey's handle record while failing
// is set.
type failHandle struct {
	store.Store
	failing *atomic.Bool
}

func (s failHandle) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if s.failing.Load() && strings.HasPrefix(key, passkeyUserKind+"/") {
		return errors.New("the store failed the handle record's write")
	}
	return s.Store.Put(ctx, key, value, ttl)
}

// TestAPasskeyWhoseHandleRecordFailsIsNotListed (attack41b): a passkey's
// registration whose record of which user its handle names is not
// written adds no passkey, as it tells the user. Before, that record was
// written after the device list: its failure answered an error, yet the
// passkey was listed, and never signed in at a login form. Once the store
// writes it, the same key registers and signs in. Badger and Redis.
func TestAPasskeyWhoseHandleRecordFailsIsNotListed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, open := range passkeyStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			failing := new(atomic.Bool)
			s, _, _ := raceService(t, failHandle{open(t), failing})
			withPasskeys(t, s)
			key := fakes.NewAuthenticator("example.com", "https://example.com")
			failing.Store(true)
			if _, err := s.Devices.FinishPasskey(ctx, realm, alice, "register", "en", passkeyMade(t, s, key, alice, "register")); err == nil {
				t.Fatal("the registration answered done, its handle record unwritten")
			}
			if list, err := s.Devices.List(ctx, realm, alice); err != nil || len(list) != 0 {
				t.Fatalf("alice has %d devices after a registration that failed (%v); want none", len(list), err)
			}
			failing.Store(false)
			passkeyOf(t, s, key, alice)
			if who, err := signsInAtALoginForm(t, s, key, "login"); err != nil || who != alice {
				t.Errorf("alice's passkey, registered again: %q, %v; want alice", who, err)
			}
		})
	}
}
