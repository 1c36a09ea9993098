package admin

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestAnAdminRequestBeforeStartOpensTheGates: a gate opens its store as
// its config starts (OnStart), and Caddy starts apps in no set order, so
// the admin API may be asked (its endpoint runs, the http app serves)
// before the smsgate app's Start: the request opens the gates, once, and
// finds them (the admin CLI right after `caddy run` answered 404 "no
// smsgate handler is configured"); an opening that fails answers 503
// with why, as the load will fail.
func TestAnAdminRequestBeforeStartOpensTheGates(t *testing.T) {
	a := new(App)
	site := &Site{Config: Config{Realm: "localhost"}}
	opens := 0
	a.OnStart(sync.OnceValue(func() error {
		opens++
		a.Register(site)
		return nil
	}))
	for range 2 {
		if got, err := a.Site("localhost"); err != nil || got != site {
			t.Fatalf("the admin API before Start: %v, %v", got, err)
		}
	}
	if opens != 1 {
		t.Errorf("the gate opened %d times", opens)
	}

	b := new(App)
	b.OnStart(func() error { return errors.New("opening badger store at /srv/smsgate: locked") })
	_, err := b.Site("localhost")
	var ae *adminError
	if !errors.As(err, &ae) || ae.status != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "/srv/smsgate") {
		t.Errorf("a gate whose store cannot open: %v", err)
	}
}
