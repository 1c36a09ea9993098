package enrollment

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestAnImportTakesNamesAsKeyWroteThem: a user whose name holds '/', '%'
// or "%2F" as written, in a realm that does too, is imported where the
// gates read her (her devices listed, the admin's list naming her as she
// is), and her record under a key spelt otherwise than store.Key writes
// it (another escape, an escape that is none, her name's slash
// unescaped) is refused (checkImported).
func TestAnImportTakesNamesAsKeyWroteThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := onBadger(t)
	s, _, _ := raceService(t, st)
	admin := &Admin{Core: s.Core, Devices: s.Devices}
	const realm = "sites/a%2Fb"
	names := []string{"a/b", "100%", "%2F", "é/%25", "/"}
	var file []Record
	for _, name := range names {
		v, _ := json.Marshal([]Device{{ID: "1", Name: "Phone of " + name, Phone: "+14155550123"}})
		file = append(file, Record{Key: store.Key("device", realm, name), Value: v})
	}
	if _, err := admin.Import(ctx, file); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if list, err := s.Devices.List(ctx, realm, name); err != nil || len(list) != 1 || list[0].Name != "Phone of "+name {
			t.Errorf("%q's devices after the import: %+v, %v", name, list, err)
		}
	}
	users, err := admin.Users(ctx, realm)
	if err != nil || len(users) != len(names) {
		t.Fatalf("users: %+v, %v", users, err)
	}
	for _, u := range users {
		if len(u.Devices) != 1 || u.Devices[0].Name != "Phone of "+u.User {
			t.Errorf("listed %q with devices %+v", u.User, u.Devices)
		}
	}
	for _, key := range []string{
		"device/sites%2Fa%252Fb/a%2fb",  // a lower-case escape: Key writes %2F
		"device/sites%2Fa%252Fb/%61",    // an escape of a letter
		"recovery/sites%2Fa%252Fb/100%", // a '%' unescaped
		"owner/sites%2Fa%252Fb/a%zz",
		"device/sites%2Fa%252Fb/a/b", // her name's slash unescaped
		"device/sites/a%2Fb/x",       // the realm's
	} {
		if err := checkImported(key, []byte(`[]`)); err == nil {
			t.Errorf("%s: taken", key)
		}
	}
	for _, name := range names {
		for _, kind := range []string{"recovery", "owner"} {
			if err := checkImported(store.Key(kind, realm, name), []byte(`[]`)); err != nil {
				t.Errorf("%s of %q: %v", kind, name, err)
			}
		}
	}
}
