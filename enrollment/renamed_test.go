package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
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
	t.Parallel()
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
	if _, err := (&Admin{Core: &Core{Store: src}}).Import(ctx, records); err != nil {
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
		if _, err := (&Admin{Core: &Core{Store: dst}}).Import(ctx, exported); err != nil {
			t.Fatal(err)
		}
		if got, err := dst.Get(ctx, renamedRecord); err != nil || string(got) != c.want {
			t.Errorf("an import of %s into a store holding %q: %q %v, want %q", t1, c.held, got, err, c.want)
		}
	}
	bad := []Record{{Key: renamedRecord, Value: []byte(`"tomorrow"`)}}
	if _, err := (&Admin{Core: &Core{Store: onBadger(t)}}).Import(ctx, bad); !errors.As(err, new(*ImportError)) {
		t.Fatalf("an import of a renamed record that is no instant: %v, want an ImportError", err)
	}
	// The record is one key, not a folder: a key it begins is no record
	// the store keeps (nor one the instant check sees).
	for _, key := range []string{renamedRecord + "X", renamedRecord + "/x"} {
		odd := []Record{{Key: key, Value: []byte(`"` + t0 + `"`)}}
		if _, err := (&Admin{Core: &Core{Store: onBadger(t)}}).Import(ctx, odd); !errors.As(err, new(*ImportError)) {
			t.Errorf("an import of %s: %v, want an ImportError", key, err)
		}
	}
}

// TestAnImportRacingAPutBackKeepsTheEarlier: an import that carries a
// renamed record (t1) while a gate puts back the earlier one it read (t0:
// session.Manager.RereadRenamed, after the store lost it) leaves t0,
// in every interleaving and either order, on Badger and a real Redis.
// Before, the import read the store's record, found none, and wrote t1
// over the gate's t0 (and the gate's put-back wrote only where there was
// none): the release between's tokens issued between t0 and t1 counted
// again.
func TestAnImportRacingAPutBackKeepsTheEarlier(t *testing.T) {
	t.Parallel()
	const t0, t1 = "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		il := &storetest.Interleaver{Store: st}
		value, _ := json.Marshal([]byte(t1))
		records := []Record{{Key: "b64:" + renamedRecord, Value: value}}
		var errImport error
		held := il.Interleave(t, func() storetest.Pair {
			if err := st.Delete(ctx, renamedRecord); err != nil {
				t.Fatal(err)
			}
			return storetest.Pair{Key: renamedRecord,
				A: func(ctx context.Context) { _, errImport = (&Admin{Core: &Core{Store: il}}).Import(ctx, records) },
				B: func(ctx context.Context) {
					if err := store.KeepEarliest(ctx, il, renamedRecord, []byte(t0)); err != nil { // as session.Manager.RereadRenamed
						t.Error(err)
					}
				},
				Check: func() {
					if errImport != nil {
						t.Fatal(errImport)
					}
					if got, err := st.Get(ctx, renamedRecord); err != nil || string(got) != t0 {
						t.Errorf("after an import of %s racing a put-back of %s: %q %v", t1, t0, got, err)
					}
				}}
		})
		if held < 2 {
			t.Fatalf("raced %d times: the import does not read the record", held)
		}
	})
}
