package signin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
)

// deviceUpdateSteps holds, as stepStore does, before each Update of a
// device record: the admin's add writes its phone there.
type deviceUpdateSteps struct{ store.Store }

func (s deviceUpdateSteps) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if strings.HasPrefix(key, "device/") {
		stepStore{}.step(ctx)
	}
	return s.Store.Update(ctx, key, change)
}

// invited is ALICE's first enrollment of phone by the admin's invite begun
// at s (the invite taken, a code sent), and its completion, to run.
func invited(t *testing.T, s *Service, out *lastCode, sc enrollment.Scope, user, phone string) func(ctx context.Context) error {
	t.Helper()
	ctx := context.Background()
	token, err := s.Invites.NewInvite(ctx, sc.Realm, user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f := &Flow{ID: user + phone}
	if _, err := s.AcceptInvite(ctx, sc.Realm, f, token, user); err != nil { // the first factor names her
		t.Fatalf("%s's invite: %v", user, err)
	}
	c, err := s.Enroll(ctx, sc, f, user, phone, "")
	if err != nil {
		t.Fatalf("%s begins by her invite: %v", user, err)
	}
	out.mu.Lock()
	code := out.code
	out.mu.Unlock()
	return func(ctx context.Context) error {
		_, err := s.Check(ctx, sc, f, user, c, code, nil)
		return err
	}
}

// TestTheAdminsAddAndATwinsOwnEnrollmentAtOnce (close11 item 2): alice
// completes her own first enrollment (its steps: the fresh scan, her
// name's claim, her device's write) while the admin adds ALICE (the
// admin's add: ALICE's claim, then her phone's write) or ALICE completes
// an enrollment by the admin's invite (her claim, her device's write), in
// every order of their steps. The admin's path is never refused; alice is
// refused (and holds no device) wherever the admin's claim came before
// hers; where hers came first, both are enrolled (the residual SECURITY.md
// states: the admin's path replaces her claim, as it adds a twin of one
// enrolled before). On Badger and a real Redis. Before, the admin's paths
// wrote no claim: alice's scan before the admin's write, then her claim
// and write, enrolled both in every such order.
func TestTheAdminsAddAndATwinsOwnEnrollmentAtOnce(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		s, out, _ := twinSite(t, deviceUpdateSteps{st})
		for _, path := range []string{"add", "invite"} {
			t.Run(kind+"/"+path, func(t *testing.T) {
				for i, order := range interleavings(3, 2) {
					realm := fmt.Sprint(path, i)
					sc := enrollment.Scope{Realm: realm, Host: realm, IP: "192.0.2.1"}
					admins := func(ctx context.Context) error {
						_, err := AddByAdmin(ctx, s.Devices, realm, "ALICE", "+14155550199", "")
						return err
					}
					if path == "invite" {
						admins = invited(t, s, out, sc, "ALICE", "+14155550199")
					}
					completions := [2]func(context.Context) error{begun(t, s, out, sc, "alice", "+14155550101"), admins}
					errs := inOrder(order, completions)
					// alice's claim (her second step) before the admin's (its first).
					aliceFirst := strings.Index(order[strings.Index(order, "a")+1:], "a")+strings.Index(order, "a")+1 < strings.Index(order, "b")
					lists := [2]int{}
					for j, name := range []string{"alice", "ALICE"} {
						list, err := s.Devices.List(context.Background(), realm, name)
						if err != nil {
							t.Fatal(err)
						}
						lists[j] = len(list)
					}
					if errs[1] != nil || lists[1] != 1 {
						t.Errorf("%s: the admin's %s: %v, %d devices; want done", order, path, errs[1], lists[1])
					}
					switch {
					case aliceFirst && (errs[0] != nil || lists[0] != 1):
						t.Errorf("%s: alice, her claim first: %v, %d devices; want enrolled", order, errs[0], lists[0])
					case !aliceFirst && (!errors.Is(errs[0], ErrCaseTwin) && !errors.Is(errs[0], ErrTwinClaimed) || lists[0] != 0):
						t.Errorf("%s: alice, after the admin's claim: %v, %d devices; want refused", order, errs[0], lists[0])
					}
				}
			})
		}
	}
}
