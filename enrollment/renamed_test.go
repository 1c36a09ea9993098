package enrollment

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/smsgate/caddy-smsgate/session"
)

// TestTheRenamedRecordGoesWithAnExport: which unmarked tokens count under
// the cookies' old names depends on the release between's record of when
// it first ran on the store (session.RenamedRecord), and tokens outlive
// their store (the keys exported, or signing_key in the config): an
// export carries the record, keys or not (it is the whole store's, in no
// realm), and an import writes it back, keeping the store's own if that
// is earlier (a later instant would count more of that release's
// tokens). A value that is no instant is refused.
func TestTheRenamedRecordGoesWithAnExport(t *testing.T) {
	ctx := context.Background()
	if renamedRecord != session.RenamedRecord {
		t.Fatalf("the export carries %q, the sessions read %q", renamedRecord, session.RenamedRecord)
	}
	const t0, t1, t2 = "2026-12-01T09:00:00Z", "2026-12-01T10:00:00.5Z", "2026-12-01T11:00:00Z"
	src := onBadger(t)
	if err := src.Put(ctx, renamedRecord, []byte(t1), 0); err != nil {
		t.Fatal(err)
	}
	records := importRecords(1, 8)
	if err := (&Admin{Core: &Core{Store: src}}).Import(ctx, records); err != nil {
		t.Fatal(err)
	}
	exported, err := (&Admin{Core: &Core{Store: src}}).Export(ctx, realm, false)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(exported, func(r Record) bool { return r.Key == "b64:"+renamedRecord })
	if i < 0 || exported[i].Realm() != "" {
		t.Fatalf("the export without keys: %v, want the renamed record, in no realm", exported)
	}
	if realms, err := Realms(ctx, src); err != nil || !slices.Equal(realms, []string{realm}) {
		t.Fatalf("the store's realms: %v %v, want only %s", realms, err, realm)
	}
	for _, c := range []struct{ held, want string }{{"", t1}, {t0, t0}, {t2, t1}, {"unreadable", "unreadable"}} {
		dst := onBadger(t)
		if c.held != "" {
			if err := dst.Put(ctx, renamedRecord, []byte(c.held), 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := (&Admin{Core: &Core{Store: dst}}).Import(ctx, exported); err != nil {
			t.Fatal(err)
		}
		if got, err := dst.Get(ctx, renamedRecord); err != nil || string(got) != c.want {
			t.Errorf("an import of %s into a store holding %q: %q %v, want %q", t1, c.held, got, err, c.want)
		}
	}
	bad := []Record{{Key: renamedRecord, Value: []byte(`"tomorrow"`)}}
	if err := (&Admin{Core: &Core{Store: onBadger(t)}}).Import(ctx, bad); !errors.As(err, new(*ImportError)) {
		t.Fatalf("an import of a renamed record that is no instant: %v, want an ImportError", err)
	}
	// The record is one key, not a folder: a key it begins is no record
	// the store keeps (nor one the instant check sees).
	for _, key := range []string{renamedRecord + "X", renamedRecord + "/x"} {
		odd := []Record{{Key: key, Value: []byte(`"` + t0 + `"`)}}
		if err := (&Admin{Core: &Core{Store: onBadger(t)}}).Import(ctx, odd); !errors.As(err, new(*ImportError)) {
			t.Errorf("an import of %s: %v, want an ImportError", key, err)
		}
	}
}
