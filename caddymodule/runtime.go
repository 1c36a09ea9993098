package caddymodule

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/admin"
	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/internal/drain"
	"github.com/smsgate/caddy-smsgate/internal/handoff"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/siteblock"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/storewatch"
	"github.com/smsgate/caddy-smsgate/words"
)

// gate is a Gate at work: what Provision builds from the configuration
// (provision.go, step by step, each step its method) and ServeHTTP hands
// each request to (serve; identity.go, forwardauth.go). Gate holds it by a
// pointer of its own (run), not embedded: none of it is Gate's. What the
// config works out to (its host, the factors, the users' numbers) is here,
// never written back into the config.
type gate struct {
	hot hot // what every request reads, first and together
	// lines are where each option was written in a Caddyfile, so that a
	// mistake found later names its line (see check.go).
	lines cfutil.Lines
	// trusted are the request headers the identity reads (siteblock),
	// believed per request (identity.go).
	trusted []siteblock.TrustedHeader
	// verifies says a provider makes and checks its own codes (Verify).
	verifies bool

	store store.Store
	// closeStore ends the store's context (its Cleanup), after the gate's
	// and its last request's (inFlight).
	closeStore context.CancelFunc
	inFlight   drain.Drain
	key        handoff.Key // its configuration's, for the gate that replaces it (handOff)
	chain      providers.Chain
	metrics    *audit.Metrics
	log        *audit.Log // audit events and alarms
	pages      *pages.Pages
	words      *words.Catalogue // what pages say, in each language
	verifier   providers.Verifier
	// receipts is the provider whose gateway reports delivery, if any.
	receipts     providers.Receipts
	receiptsName string
	// challenges sends and checks codes; admin is the admin's tools.
	challenges *enrollment.Challenges
	admin      *enrollment.Admin
	strangers  *enrollment.Strangers // what strangers may make the gate keep
	sessions   *session.Manager
	app        *admin.App         // the config's gates, for the admin API
	site       *admin.Site        // this gate, as the admin's tools see it
	linkOrigin string             // where links to the gate point (see admin.Config.LinkOrigin)
	keys       *session.Derived   // flows, known browsers, the flow seal, apps' secrets, code hashes
	webauthn   *webauthn.WebAuthn // passkeys (nil: no origin to bind them to)
	watch      *storewatch.Watch  // is the store still the one the gate knew?
	storeID    string             // what names the store's data (continuity.Identity)
	former     string             // the previous release's name for it (continuity.Former)
	// host (the WebOTP line's, xn--) and name (the messages', as people
	// write it: site_name's default) are public_origin's host, else the
	// realm. Fixed at load, never taken from a request.
	host, name string
	// What serving reads of the configuration (serves): the identity's
	// placeholder, max_age, assertion_header, the forward-auth answer's
	// headers (auth_header, else Remote-User) and the portal's login page.
	identity, assertionHeader, loginPage string
	maxAge                               time.Duration
	authHeaders                          map[string]string

	signin *signin.Service // the sign-in itself
	policy *signin.Policy  // the kinds it takes and requires
	// counting is the admin's figures and the pumping guard (counting.go).
	counting *admin.Counting
	logger   *zap.Logger
	now      func() time.Time
	coarse   bool // now is the real time: repeat visits read clock.Coarse
	// echoWarned: the forward-auth check logged that it echoed no Cookie.
	echoWarned atomic.Bool
}
