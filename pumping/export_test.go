package pumping

import (
	"context"

	"github.com/smsgate/caddy-smsgate/store"
)

// Counts is what the guard counts for e164 now, weighed as a send's Judge
// weighs it: the codes sent to its country and to its prefix in the
// sliding window, those given back aside; and the codes in a row the
// number (numberID, its keyed hash) left unused, those given back aside.
// It reads the guard's own keys (Watch's, and Count's of this window):
// what pumpingtest.Counts, which the other packages' tests read through
// the store, is held to.
func (g *Guard) Counts(ctx context.Context, realm, e164, numberID string) (sent [2]float64, unused int64, err error) {
	var b store.Batch
	w := g.Watch(&b, realm, e164, numberID, true)
	var cur [2]*store.Op
	for i, p := range w.places {
		if p.name != "" {
			cur[i] = b.Counter(sentKey(realm, p.name, w.slot))
		}
	}
	if err := store.Do(ctx, g.Store, &b); err != nil {
		return sent, 0, err
	}
	for i, p := range w.places {
		if cur[i] != nil {
			sent[i] = weighed(p.prevSent.N-p.prevBack.N, cur[i].N-p.back.N, w.weight)
		}
	}
	return sent, w.unusedCodes(), nil
}
