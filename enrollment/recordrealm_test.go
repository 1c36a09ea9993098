package enrollment

import "testing"

// TestARecordsRealmIsItsKeys: a record's realm is its key's second part,
// unescaped; one that does not unescape is that part as written, so that
// an import into any realm refuses it (before: "", which every realm's
// import took, and a stopped Caddy's store then held a realm "").
func TestARecordsRealmIsItsKeys(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"device/localhost/bob":             "localhost",
		"device/localhost%2Fx/bob":         "localhost/x",
		"device/%zz/bob":                   "%zz",
		"b64:removed-device/a.example/bob": "a.example",
		"keys/signing":                     "",
		renamedRecord:                      "",
	} {
		if got := (Record{Key: key}).Realm(); got != want {
			t.Errorf("%s: realm %q, want %q", key, got, want)
		}
	}
}
