package session

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/drain"
	"github.com/smsgate/caddy-smsgate/store"
)

// Config is what a Manager needs.
type Config struct {
	Store store.Store
	// Realm is every token's audience.
	Realm string
	// Secret is the configured signing secret; nil: one generated once and
	// kept in the store (PutIfAbsent: instances sharing a store agree).
	Secret []byte
	// AwaitSecret, when the store has no secret, is how long to wait for
	// a running instance to put its own back before making a new one (the
	// store was wiped under instances that still hold it).
	AwaitSecret time.Duration
	// Alg is "HS256" (the secret signs) or "EdDSA" (keys in the store,
	// public ones in the JWKS).
	Alg string
	// Lifetime of a session; Rotation, with EdDSA, how often a new key is
	// made (0: never).
	Lifetime, Rotation time.Duration
	Now                func() time.Time
	// Coarse: Now is the real time (clock.Now, a gate's in production), so
	// that every repeat visit (Cached) reads clock.Coarse instead, called
	// directly: the time in Unix nanoseconds, up to clock.Ahead in front of
	// it, without a clock read, for a cached session's expiry and whether
	// the revocation poll is due. Otherwise they read Now.
	Coarse bool
	Logger *zap.Logger
	// Uses is the owner's drain (a gate's), if any: the revocation poll,
	// which a request starts and which runs on after it, is one of its
	// uses, so that it never reads a store the owner has let go of.
	Uses *drain.Drain
	// AMRs is a session's amr as bits (signin.AMRsOf), made once as its
	// token is cached, for a repeat visit to test without reading the
	// claims (Repeat.Cached answers them); nil: none.
	AMRs func(amr []factor.AMR) uint8
	// LoginForm: the gate is a login form (identity none); see Claims.LoginForm.
	LoginForm bool
	// Remember is how long the gate honours a trusted browser (its
	// `remember`; 0: off): a session a trust gave counts here only where
	// this gate would have given it (Manager.trustedHere).
	Remember time.Duration
}

// Manager issues, checks and revokes one realm's sessions. It owns the
// keys (and their bootstrap), the cache of verified tokens, and both kinds
// of revocation: one session (logout) and all of a user's (an admin reset).
type Manager struct {
	// What a repeat visit reads (Cached), first and together: which clock,
	// when the revocations were last polled, the cache's table.
	coarse bool         // read clock.Coarse (Config.Coarse), not now
	polled atomic.Int64 // when the revocation counter was last read
	cache  Cache

	store    store.Store
	realm    string
	lifetime time.Duration
	remember time.Duration // Config.Remember
	now      func() time.Time
	logger   *zap.Logger
	uses     *drain.Drain // see Config.Uses
	form     bool         // Config.LoginForm
	gives    Gives        // CheckNumbers; nil: every number

	secret     atomic.Pointer[[]byte]
	configured bool // the secret is the config's, not the store's
	onSecret   []func(secret []byte)
	keys       *Keys    // sessions
	assertions *Keys    // identity assertions for upstreams (EdDSA only)
	ring       *keyring // EdDSA only

	// seen is the last entry of the revocation log read, pending one found
	// missing once.
	seen, pending atomic.Int64
	// wrote is the last entry of the log that this process wrote for the
	// gate's realm and store (announce): a log that falls below it lost it.
	wrote      atomic.Int64
	pollMu     sync.Mutex
	pollWait   time.Duration // the longest a request waits for its poll (pollWait)
	faulty     atomic.Bool   // the last poll could not reach the store
	putBackDue atomic.Bool   // the store was found wiped (StoreChanged): putBack at the next poll
	covered    coverage      // what the log said since the gate began reading it

	assertMu    sync.Mutex
	assertCache map[assertionKey]assertionEntry // at most assertMax, or CachedSessions
	assertApps  map[string]*sessionApps         // by session id: the apps in assertCache
	assertMax   int                             // 0: CachedSessions (tests set less)

	renamed renamedWindow // which unmarked tokens count as from before the cookies took their prefixed names (renamed.go)
}

// CachedSessions is how many checked sessions, and as many assertions, a
// gate keeps in memory: enough for every user active in a few minutes on
// a large site, at about 1 KiB each; past it, the least recent (sessions)
// or an idle session's (assertions, remade at its next request) go.
const CachedSessions = 10000

// NewManager sets up a realm's sessions, reading or creating its keys.
func NewManager(ctx context.Context, c Config) (*Manager, error) {
	m := &Manager{store: c.Store, realm: c.Realm, lifetime: c.Lifetime, remember: c.Remember, now: c.Now, logger: c.Logger,
		coarse: c.Coarse, uses: c.Uses, form: c.LoginForm, pollWait: pollWait, assertCache: map[assertionKey]assertionEntry{}}
	m.cache.init(CachedSessions)
	m.cache.amrs = c.AMRs
	if m.logger == nil {
		m.logger = zap.NewNop()
	}
	secret, err := c.Secret, error(nil)
	m.configured = secret != nil
	if !m.configured {
		if secret, err = storedSecret(ctx, c.Store, c.AwaitSecret); err != nil {
			return nil, err
		}
	}
	m.secret.Store(&secret)
	w, err := readRenamed(ctx, c.Store, m.logger, m.now())
	if err != nil {
		return nil, err
	}
	m.renamed.w.Store(w)
	switch c.Alg {
	case "HS256", "":
		m.keys = NewKeys(Derive(secret, "session"), m.now)
	case "EdDSA":
		m.ring = &keyring{store: c.Store, rotation: c.Rotation, lifetime: c.Lifetime, now: m.now, gone: m.cache.Flush}
		if !m.configured {
			m.ring.secret = m.Secret
		}
		if err := m.ring.load(ctx); err != nil {
			return nil, fmt.Errorf("loading session keys: %v", err)
		}
		m.keys = NewEdDSAKeys(m.ring.signing, m.ring.verifying, m.now)
		m.assertions = m.keys.WithType(TypeAssertion)
	default:
		return nil, fmt.Errorf("signing_alg must be HS256 or EdDSA, not %q", c.Alg)
	}
	if n, err := c.Store.Counter(ctx, RevocationCounter); err == nil {
		m.seen.Store(n)
	}
	m.covered.reset(m.now())
	listenHere(m)
	return m, nil
}

// Secret is the server secret other keys are derived from (with Derive).
func (m *Manager) Secret() []byte { return *m.secret.Load() }

// Lifetime is how long a new session lasts.
func (m *Manager) Lifetime() time.Duration { return m.lifetime }

// IssueBegun signs a new session for user, authenticated by amr, made
// where (for the admin's listing of the user's sessions), for a sign-in
// that began at b (Begin; zero: now), before it checked anything: the
// session is issued then (see Began). Beside its token it answers the
// session's ID (the token's sid), for what names the session (the
// known-browser cookie) without verifying the token again.
func (m *Manager) IssueBegun(ctx context.Context, b Began, user string, amr []factor.AMR, where Where) (token, sid string, err error) {
	return m.issue(ctx, b, user, Claims{AMR: amr}, where)
}

// IssueTrusted signs a trusted browser's new session, for a sign-in that
// began at b (zero: now): as old and as strong as the code that earned
// the trust, and marked, so that a route requiring a kind of device asks
// for one now. It answers the session's ID too, as IssueBegun does. The
// session stands only while tb does once it is listed (stillTrusted).
func (m *Manager) IssueTrusted(ctx context.Context, b Began, user string, tb *TrustedBrowser, where Where) (token, sid string, err error) {
	where.Device = tb.Device // nil (an older trust's): none, and its trust's end ends it
	token, sid, err = m.issue(ctx, b, user, Claims{AMR: tb.AMR, AuthTime: tb.AuthTime, Trusted: true}, where)
	if err == nil {
		err = m.stillTrusted(ctx, token, user, sid, tb.ID)
	}
	if err != nil {
		return "", "", err
	}
	return token, sid, nil
}

// Began is when a sign-in began, before it checked anything (a phone, a
// trust): the session it earns is issued then, not when it is signed. A
// sign-out everywhere or an admin's reset that ends all the user's
// sessions after it began then covers it, though it is signed later: its
// check may have found a device or a trust just before the reset removed
// it (TestASignInStraddlingAResetEndsWithIt). The zero Began is now.
type Began struct {
	at      time.Time
	forgets uint64 // the cache's Forgets, read before at (AddSince)
}

// At is when the sign-in began: what it issues is stamped then, so that a
// revocation while it ran covers it.
func (b Began) At() time.Time { return b.at }

// Begin marks a sign-in's beginning.
func (m *Manager) Begin() Began {
	forgets := m.cache.Forgets()
	return Began{at: m.now(), forgets: forgets}
}

// issue signs a new session of user with what the caller chose of it (its
// amr, trusted, and auth_time: zero for its iat), and caches it: this
// gate has checked the session it made (so that it keeps working here if
// the store goes away right after). It notes the session in the user's
// index; a failure there is logged and the sign-in stands (the index only
// lists sessions: see index.go).
//
// Its iat is b's time, chosen after the cache's Forgets were read (Begin):
// a sign-out everywhere that covers that iat and is applied here (its
// news polled) before the session is in the cache would not forget it,
// and the cache would serve it until it expired
// (TestARevocationDuringASignInIsNotCachedOver). The sign-in still gets
// its token, as a check that read the store just before the revocation
// admits its request (Uncached); only the cache is skipped, and the next
// request is checked against the store.
func (m *Manager) issue(ctx context.Context, b Began, user string, cl Claims, where Where) (token, sid string, err error) {
	if b.at.IsZero() {
		b = m.Begin()
	}
	cl.RegisteredClaims = m.keys.NewClaimsAt(m.realm, user, m.lifetime, b.at)
	cl.SID = rand.Text()
	cl.Trust = &where.Trust
	where.Device = cmp.Or(where.Device, new(string)) // nil: earned by no device
	cl.Device = where.Device
	cl.Prefixed, cl.LoginForm = true, m.form
	if cl.AuthTime == 0 {
		cl.AuthTime = cl.IssuedAt.Unix()
	}
	tok, err := m.keys.Sign(&cl)
	if err != nil {
		return "", "", err
	}
	cl.facts = newFacts(&cl)
	m.cache.AddSince(tok, &cl, b.forgets)
	if err := m.note(ctx, &cl, b.at, where); err != nil {
		if cl.Trusted {
			// A sign-in by a trust asks for no code: a script holding the
			// cookie makes hundreds at once, and the list's writes then
			// give up (store.ErrContended). It stands only listed, where
			// the admin sees and ends it (else a code, then).
			m.Withdraw(ctx, tok, user, cl.SID)
			return "", "", err
		}
		m.logger.Warn("noting a new session in the user's list of sessions; the sign-in stands, unlisted", zap.Error(err))
	}
	return tok, cl.SID, nil
}

// Check returns the verified claims of a session token, or nil. A verified
// token is cached, so that a repeat visit costs a map lookup (and no
// allocation); a revoked one is never cached. At most every RevocationPoll
// one call reads the revocation log and forgets the sessions it names: a
// revocation anywhere reaches every gate within that bound.
func (m *Manager) Check(ctx context.Context, token string) *Claims {
	if cl, _ := m.Cached(ctx, token); cl != nil || token == "" {
		return cl
	}
	return m.Uncached(ctx, token)
}

// Uncached is Check for a token not in the cache: its signature, then the
// store's revocation records (so a gate holds its store while it runs).
func (m *Manager) Uncached(ctx context.Context, token string) *Claims {
	since := m.cache.Forgets() // before the store is read (AddSince)
	cl := new(Claims)
	if err := m.keys.Verify(token, m.realm, cl); err != nil {
		if ce := m.logger.Check(zapcore.DebugLevel, "session cookie refused"); ce != nil {
			ce.Write(zap.Error(err))
		}
		return nil
	}
	if !m.withinLifetime(cl) || !m.earnedHere(cl) || !m.trustedHere(cl) || !m.NumberGiven(cl.Subject, cl.Device) {
		return nil
	}
	revoked, err := m.revoked(ctx, cl)
	if err != nil {
		if m.covered.admits(cl) {
			// The log has told this gate of every revocation of it: as good
			// as a cached session (not cached: asked again once it answers).
			cl.facts = newFacts(cl)
			return cl
		}
		m.logger.Error("checking session revocation; refusing the session", zap.Error(err))
		return nil
	}
	if revoked {
		return nil
	}
	cl.facts = newFacts(cl)
	m.cache.AddSince(token, cl, since)
	return cl
}

// Verify checks a token's signature and claims only, not revocation: for
// logout, which revokes what it is shown.
func (m *Manager) Verify(token string) (*Claims, error) {
	cl := new(Claims)
	return cl, m.keys.Verify(token, m.realm, cl)
}

// RevokeUser ends every session of user issued until now (RevokeUser:
// those listed by their SID too), here at once.
func (m *Manager) RevokeUser(ctx context.Context, user string) error {
	now := m.now()
	m.covered.add(now, revocation{Realm: m.realm, User: user, At: now.UnixNano()}, m.lifetime)
	done, err := revokeAll(ctx, m.store, m.realm, user, now, m.logger)
	for _, sid := range done.sids {
		m.covered.add(now, revocation{Realm: m.realm, SID: sid}, m.lifetime)
	}
	if done.at.After(now) {
		m.covered.add(now, revocation{Realm: m.realm, User: user, At: done.at.UnixNano()}, m.lifetime)
	}
	return err
}

// LetGo empties the cache as the owner lets go of the store (a gate's
// Cleanup, once its drain is closed; m is nil after a Provision that failed
// early): no poll would tell the cache of a revocation any more, so a
// request that still reaches the gate is not admitted from it but checked
// by the owner (a gate hands it on). What a request still in flight checks
// against the store afterwards may be cached again, as fresh as the store.
// A repeat visit pays nothing for it.
func (m *Manager) LetGo() {
	if m != nil {
		m.cache.Flush()
	}
}

// JWKS is the set of public keys that verify sessions and assertions
// (empty with HS256).
func (m *Manager) JWKS() JWKS { return m.ring.jwks() }

// Facts are a verified session's claims as placeholders want them, made
// once when the token is first verified, so that admitting a request with
// a cached session allocates nothing.
type Facts struct {
	// User, AuthTime (Unix seconds) and AMR (space-separated), as values
	// ready for a caddy.Replacer.
	User, AuthTime, AMR any
	// Lookup answers the placeholders of these facts ({http.auth.user.*}
	// and the aliases {smsgate.user}, {smsgate.auth_time}, {smsgate.amr}),
	// as a replacer's provider: added to a request's replacer, it costs no
	// lock and no allocation.
	Lookup func(key string) (any, bool)
}

func newFacts(cl *Claims) *Facts {
	f := &Facts{User: cl.Subject, AuthTime: strconv.FormatInt(cl.AuthTime, 10), AMR: factor.Join(cl.AMR, " ")}
	f.Lookup = func(key string) (any, bool) {
		switch key {
		case "http.auth.user.id", "smsgate.user":
			return f.User, true
		case "http.auth.user.auth_time", "smsgate.auth_time":
			return f.AuthTime, true
		case "http.auth.user.amr", "smsgate.amr":
			return f.AMR, true
		}
		return nil, false
	}
	return f
}

// Facts returns the placeholders' values of claims that Check returned.
func (cl *Claims) Facts() *Facts {
	if cl.facts == nil {
		return newFacts(cl)
	}
	return cl.facts
}
