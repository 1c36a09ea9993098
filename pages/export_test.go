package pages

import "time"

// ShortenBodyTime makes the pages wait at most d for a POST's body, until
// the returned func restores it.
func ShortenBodyTime(d time.Duration) (restore func()) {
	was := bodyTime.Swap(int64(d))
	return func() { bodyTime.Store(was) }
}

// SignInSteps are the pages whose POSTs no session makes (liveForChange).
var SignInSteps = signInSteps
