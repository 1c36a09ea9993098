package enrollment

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// scans records the prefixes a store is scanned under.
type scans struct {
	store.Store
	mu       sync.Mutex
	prefixes []string
}

func (s *scans) note(prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prefixes = append(s.prefixes, prefix)
}

func (s *scans) Scan(ctx context.Context, prefix string, fn func(string, []byte) error) error {
	s.note(prefix)
	return s.Store.Scan(ctx, prefix, fn)
}

func (s *scans) ScanExpiring(ctx context.Context, prefix string, fn func(string, []byte, time.Time) error) error {
	s.note(prefix)
	return s.Store.(store.Expiring).ScanExpiring(ctx, prefix, fn)
}

// TestAnImportScansOnlyTheRealmsOfItsEnds: to keep the later of each end
// it carries (keepLaterEnds), an import reads the ends the store holds of
// the realms its own ends are of, of the kinds it carries: not every
// realm's (a store shared by many sites read every one's logouts at each
// import of one); an import that carries none reads none. What it keeps
// is the same (TestAnExportCarriesTheEndsOfSessions, and the moves of
// caddymodule's TestAMoveBringsNoLoggedOutSessionBack).
func TestAnImportScansOnlyTheRealmsOfItsEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, _ := newService(t)
	seen := &scans{Store: s.Store}
	admin := &Admin{Core: s.Core, Devices: s.Devices}
	admin.Store = seen
	for i := range 3 {
		realm := fmt.Sprintf("site%d.example", i)
		if err := s.Store.Put(ctx, endkeys.Session(realm, "s1"), []byte("announced"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	// The store holds a later end of s1 in realm a/b (a realm's name with
	// a slash: escaped in the key) than the file does: it stays.
	slashed := endkeys.Session("a/b", "s1")
	if err := s.Store.Put(ctx, slashed, []byte("logout"), 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour)
	file := []Record{
		{Key: "b64:" + slashed, Value: json.RawMessage(`"AQ=="`), Until: &until},
		{Key: "b64:" + endkeys.Session("a/b", "s2"), Value: json.RawMessage(`"AQ=="`), Until: &until},
		{Key: "b64:" + endkeys.Session(realm, "s3"), Value: json.RawMessage(`"AQ=="`), Until: &until},
	}
	if _, err := admin.Import(ctx, file); err != nil {
		t.Fatal(err)
	}
	want := []string{"revoked/a%2Fb/", "revoked/" + realm + "/"}
	var ends []string
	for _, p := range seen.prefixes {
		if strings.HasPrefix(p, "revoked") {
			ends = append(ends, p)
		}
	}
	if !slices.Equal(ends, want) {
		t.Errorf("an import of ends of sessions of two realms scanned %q, want %q", ends, want)
	}
	if got, _ := s.Store.Get(ctx, slashed); string(got) != "logout" {
		t.Errorf("the store's later end of %s: %q after the import, want it kept", slashed, got)
	}
	for _, key := range []string{endkeys.Session("a/b", "s2"), endkeys.Session(realm, "s3")} {
		if got, err := s.Store.Get(ctx, key); err != nil || string(got) != "\x01" {
			t.Errorf("%s after the import: %q, %v", key, got, err)
		}
	}

	seen.prefixes = nil
	if _, err := admin.Import(ctx, []Record{{Key: "device/" + realm + "/bob", Value: json.RawMessage(`[]`)}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range seen.prefixes {
		if strings.HasPrefix(p, "revoked") {
			t.Errorf("an import that carries no ends scanned %q", p)
		}
	}
}
