package signin

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/cases"

	"github.com/smsgate/caddy-smsgate/internal/logonce"
	"github.com/smsgate/caddy-smsgate/store"
)

// twinsFresh is how old the snapshot of a realm's enrolled names that
// caseTwin reads where an enrollment begins may be: at most one scan of
// the realm's device records every 5 seconds, however many enroll POSTs
// come (a refused one is limited by nothing else).
const twinsFresh = 5 * time.Second

// twinNames is a realm's snapshot of enrolled names, by twinKey.
type twinNames struct {
	mu    sync.Mutex
	at    time.Time           // when names was read
	names map[string][]string // twinKey → the names holding a device
	scan  *twinScan           // the scan under way, nil if none
	gen   int                 // enrolledSince's count: a scan begun before one is no snapshot
	// refused throttles the names refused where an enrollment begins
	// (refusalTold).
	refused logonce.Throttle
}

func newTwinNames() *twinNames { return &twinNames{refused: logonce.Throttle{Every: twinsFresh}} }

// refusalTold reports whether user's refusal where an enrollment begins
// is to be written: the first of her name in twinsFresh, with n, the
// number of hers not written since the last; the others are counted. It
// keeps at most 10,000 names (each one a first factor signed in): those
// written more than twinsFresh ago go first, their untold counts lost.
func (s *Service) refusalTold(realm, user string) (n int, tell bool) {
	v, _ := s.twins.LoadOrStore(realm, newTwinNames())
	return v.(*twinNames).refused.Tell(user, s.Now())
}

// twinScan is one scan of a realm's device records, shared by whoever
// waits for it.
type twinScan struct {
	done  chan struct{}
	names map[string][]string
	err   error
}

// enrolledNames is realm's snapshot of the names holding a device, by
// twinKey: read afresh where it is older than twinsFresh, by one scan at
// a time whose result every caller waiting for it shares. A failed scan
// is no snapshot: its callers fail (closed), the next one scans again.
func (s *Service) enrolledNames(ctx context.Context, realm string) (map[string][]string, error) {
	v, _ := s.twins.LoadOrStore(realm, newTwinNames())
	t := v.(*twinNames)
	t.mu.Lock()
	if t.names != nil && s.Now().Sub(t.at) < twinsFresh {
		defer t.mu.Unlock()
		return t.names, nil
	}
	sc := t.scan
	if sc == nil {
		sc = &twinScan{done: make(chan struct{})}
		t.scan = sc
		at, gen := s.Now(), t.gen
		s.later(func() { // the request that started it may leave; those waiting need it
			names := map[string][]string{}
			fold := cases.Fold()
			sc.err = s.scanEnrolled(context.WithoutCancel(ctx), realm, func(name string) error {
				key := twinKey(fold, name)
				names[key] = append(names[key], name)
				return nil
			})
			t.mu.Lock()
			if sc.err == nil {
				sc.names = names
				if t.gen == gen {
					t.names, t.at = names, at
				}
			}
			t.scan = nil
			t.mu.Unlock()
			close(sc.done)
		})
	}
	t.mu.Unlock()
	select {
	case <-sc.done:
		return sc.names, sc.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// enrolledSince drops realm's snapshot: this gate enrolled a first device
// (a scan under way keeps no snapshot either). The next beginning scans
// again; an enrollment elsewhere (another gate, the admin) is in the
// snapshot twinsFresh later, and in the fresh scan at completion at once.
func (s *Service) enrolledSince(realm string) {
	if v, ok := s.twins.Load(realm); ok {
		t := v.(*twinNames)
		t.mu.Lock()
		t.names = nil
		t.gen++
		t.mu.Unlock()
	}
}

// scanEnrolled calls fn with the name of each user of realm whose device
// record is not empty (an empty list is no one's: her last device
// removed); an error of fn's ends the scan with it.
func (s *Service) scanEnrolled(ctx context.Context, realm string, fn func(name string) error) error {
	prefix := store.Key("device", realm, "")
	return s.Devices.Store.Scan(ctx, prefix, func(key string, raw []byte) error {
		parts, ok := store.SplitKey(strings.TrimPrefix(key, prefix))
		if !ok || len(parts) != 1 {
			return nil
		}
		var list []json.RawMessage // a record of a single device, as first written, is no list: it holds one
		if json.Unmarshal(raw, &list) == nil && len(list) == 0 {
			return nil
		}
		return fn(parts[0])
	})
}
