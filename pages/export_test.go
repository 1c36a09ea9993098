package pages

import "time"

// ShortenBodyTime makes the pages wait at most d for a POST's body, until
// the returned func restores it.
func ShortenBodyTime(d time.Duration) (restore func()) {
	was := bodyTime.Swap(int64(d))
	return func() { bodyTime.Store(was) }
}

// ActorID is the words' ID of who acted in an event of kind with no "by".
func ActorID(kind string) string { return actorID(kind) }

// EventFilters are the console's filters of what happened: each one's
// value (?kind=), words' ID, and the beginnings of the kinds it chooses.
func EventFilters() (values, ids []string, prefixes [][]string) {
	for _, k := range eventKinds {
		values, ids, prefixes = append(values, k.Prefix), append(ids, k.ID), append(prefixes, k.prefixes())
	}
	return values, ids, prefixes
}

// SignInSteps are the pages whose POSTs no session makes (liveForChange).
var SignInSteps = signInSteps
