package caddymodule_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnAdminRequestDuringALoadRacesNothing: Caddy starts the admin
// endpoint before it loads the apps, and the admin API found the loading
// config's smsgate app with Caddy's own lookup, which reads the config's
// map of apps while Caddy writes it: under -race, the test's Caddy
// reported the data race (a Caddy built without it may die of Go's
// "concurrent map read and map write"). Admin requests sent while a
// config adds the first gate race nothing now, and are answered: 200
// once the gate is there, 404 before.
func TestAnAdminRequestDuringALoadRacesNothing(t *testing.T) {
	sitetest.Parallel(t)
	before := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	respond "no gate yet"
}`)
	users := before.WithPorts("http://localhost:{ADMIN_PORT}/smsgate/users?realm=localhost")
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				res, err := http.Get(users)
				if err != nil {
					continue // the endpoint being replaced
				}
				res.Body.Close()
				mu.Lock()
				statuses[res.StatusCode]++
				mu.Unlock()
			}
		})
	}
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
	stop.Store(true)
	wg.Wait()
	t.Logf("admin requests during the load, by status: %v", statuses)
	for status := range statuses {
		if status != http.StatusOK && status != http.StatusNotFound {
			t.Errorf("an admin request during the load was answered %d: %v", status, statuses)
		}
	}
	if st, body := s.Admin("GET", "/smsgate/users?realm=localhost", ""); st != http.StatusOK {
		t.Fatalf("after the load: %d %s", st, body)
	}
	// (The race detector's report, if any, fails the test when its Caddy
	// is given back: sitetest's release.)
}
