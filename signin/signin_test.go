package signin

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

func newService(t *testing.T, id Identity) *Service {
	t.Helper()
	st := storetest.Badger(t)
	return newServiceOn(st, id)
}

// newServiceOn is newService on st.
func newServiceOn(st store.Store, id Identity) *Service {
	ch, dev, adm := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now}, enrollment.Challenges{})
	carol := User{Name: "carol", Phone: "+14155552671"}
	return &Service{Identity: id, Users: map[string]User{"carol": carol}, Phones: map[string]User{carol.Phone: carol},
		Challenges: ch, Devices: dev, Invites: adm, Channels: []factor.Channel{"sms"}, CodeLength: 6, Now: time.Now}
}

func TestIdentities(t *testing.T) {
	t.Parallel()
	ff := FirstFactor{Open: true}
	if !ff.Admits("alice", "alice") || ff.Admits("alice", "bob") || ff.NamesThemselves() {
		t.Error("a first factor admits only the session of the user it names")
	}
	if (FirstFactor{}).first("alice", false) != Closed || ff.first("alice", false) != Enroll || ff.first("alice", true) != Verify {
		t.Error("first factor steps")
	}
	anyone := LoginForm{}
	named := LoginForm{Named: map[string]bool{"root": true}}
	if !anyone.Admits("bob", "") || !named.Admits("root", "") || named.Admits("bob", "") || !named.NamesThemselves() {
		t.Error("a login form that names its users admits only them")
	}
	if anyone.first("", false) != Login || anyone.first("bob", false) != Verify {
		t.Error("login form steps")
	}
	for s, want := range map[Step]string{Login: "login", Enroll: "enroll", Verify: "verify", Closed: "closed", 0: "unknown"} {
		if s.String() != want {
			t.Errorf("Step(%d) = %q", s, s.String())
		}
	}
}

func TestNextAndLookup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t, FirstFactor{Open: false})
	if step, err := s.Next(ctx, "r", &Flow{}, "carol"); err != nil || step != Verify {
		t.Fatalf("a provisioned user: %v %v", step, err)
	}
	if step, _ := s.Next(ctx, "r", &Flow{}, "dave"); step != Closed {
		t.Fatalf("an unknown user with enrollment closed: %v", step)
	}
	if step, _ := s.Next(ctx, "r", &Flow{User: "dave", Invitee: "dave"}, "dave"); step != Enroll {
		t.Fatalf("an invited user: %v", step)
	}
	if step, _ := s.Next(ctx, "r", &Flow{User: "dave", Invitee: "dave"}, "erin"); step != Closed {
		t.Fatalf("another user than the invited one, with enrollment closed: %v", step)
	}
	if u, n, err := s.Lookup(ctx, "r", "+14155552671"); u != "carol" || n != "+14155552671" || err != nil {
		t.Fatalf("Lookup by number: %q %q %v", u, n, err)
	}
	// A login form that names only root does not sign carol in.
	s.Identity = LoginForm{Named: map[string]bool{"root": true}}
	if u, _, _ := s.Lookup(ctx, "r", "carol"); u != "" {
		t.Fatalf("a gate naming only root found %q", u)
	}
	if step, _ := s.Next(ctx, "r", &Flow{}, ""); step != Login {
		t.Fatalf("nobody named yet: %v", step)
	}
}
