package signin

import (
	"time"

	"github.com/smsgate/caddy-smsgate/session"
)

// TrustSkips reports whether the trust tb lets its browser sign in again
// without a code at this gate at now (the remember option: remember; 0,
// none does), as far as the gate's policy decides it (#23, redesign39:
// the pages decided it before, pages/trusted.go): earned with a kind the
// gate still takes (one a reload took away asks for a code, and the trust
// is kept, should the kind come back), and younger than remember allows
// now (shortened by a reload, or by another gate's of the realm). Whose
// trust it is and which browser shows it are the glue's to read (the
// first factor's user, the known-browser cookie): asked before this.
func (p *Policy) TrustSkips(tb *session.TrustedBrowser, remember time.Duration, now time.Time) bool {
	return remember > 0 && tb != nil && p.Earned(tb.AMR) && now.Before(tb.Created.Add(remember))
}
