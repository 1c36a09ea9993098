package enrollment

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAnImportKeepsAnEndWrittenMeanwhileEndingLater: an import carries a
// session's end lasting an hour more while a gate writes the same end
// lasting two (a gate putting back the ends the store lost writes each for
// its own session_lifetime: session's putBack), and a trust's end lasting
// an hour (a hand-edited file) while the admin ends the trust (no expiry).
// Whichever comes first, the later end stays: on Badger, a Redis server
// and a Redis Cluster, many rounds over a sweep of delays. Before, the
// import decided on what its scan of the store's ends found, then wrote
// the file's expiry over what was there: an end written between the two
// was made to end sooner (an hour), and with it the refusal of the sessions
// it ends.
func TestAnImportKeepsAnEndWrittenMeanwhileEndingLater(t *testing.T) {
	t.Parallel()
	onImportStores(t, func(t *testing.T, st store.Store) {
		admin := &Admin{Core: &Core{Store: st, Now: time.Now}}
		ctx := context.Background()
		hour := time.Now().Add(time.Hour)
		shortened := map[string]int{}
		rounds := 10 * raceRuns
		for i := range rounds {
			sid, trust := endkeys.Session(realm, fmt.Sprint("s", i)), endkeys.Trust(realm, fmt.Sprint("t", i))
			file := []Record{
				{Key: "b64:" + sid, Value: json.RawMessage(`"AQ=="`), Until: &hour},
				{Key: "b64:" + trust, Value: json.RawMessage(`"AQ=="`), Until: &hour},
			}
			var errImport, errGate error
			raceAfter(time.Duration(i%10)*150*time.Microsecond,
				func() { _, errImport = admin.Import(ctx, file) },
				func() {
					if errGate = st.Put(ctx, sid, []byte("announced"), 2*time.Hour); errGate == nil {
						errGate = st.Put(ctx, trust, []byte{1}, 0)
					}
				})
			if errImport != nil || errGate != nil {
				t.Fatalf("round %d: import %v, gate %v", i, errImport, errGate)
			}
			for _, prefix := range []string{sid, trust} {
				if err := st.(store.Expiring).ScanExpiring(ctx, prefix, func(key string, _ []byte, expires time.Time) error {
					if key == sid && time.Until(expires) < 2*time.Hour-time.Minute {
						shortened["a session's end"]++
					}
					if key == trust && !expires.IsZero() {
						shortened["a trust's end"]++
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
		for what, n := range shortened {
			t.Errorf("%d of %d rounds: %s written meanwhile ending later was made to end sooner by the import", n, rounds, what)
		}
	})
}
