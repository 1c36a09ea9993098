package session

// The gate's site-wide cookies (the session's, the known browser's) took
// the __Host- and __Secure- prefixes in the release that first marked
// what it issues (Claims.Prefixed, TrustedBrowser.Prefixed): a browser can
// be handed such a cookie only by the site itself (__Host-), and a
// neighbour host can no longer plant a session of its own beside the
// visitor's. A cookie under its old name was either written by a release
// before (the browser's own, kept through the upgrade) or planted since:
// only the first counts (BeforeRename), and the pages rename it on their
// next answer. The mark is in the token, signed: no store record says
// when the renaming happened, so a wipe or an eviction of the store moves
// nothing (a release between kept that instant in a record,
// "cookies/renamed", which this one neither writes nor reads).

// BeforeRename reports whether cl's token was issued by a release before
// the cookies took their prefixed names: it lacks the mark that every
// session and known-browser token since carries. Under a cookie's old
// name, only such a token is the browser's own.
func (cl *Claims) BeforeRename() bool { return !cl.Prefixed }

// BeforeRename reports whether tb was earned under a release before the
// cookies took their prefixed names (see Claims.BeforeRename).
func (tb *TrustedBrowser) BeforeRename() bool { return !tb.Prefixed }
