package enrollment

import (
	"context"
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/store"
)

// Purposes of a challenge.
const (
	// Enroll proves possession of a new phone; success records the device.
	Enroll = "enroll"
	// Verify proves possession of an enrolled phone.
	Verify = "verify"
	// Add proves possession of another phone for a signed-in user;
	// success adds the device.
	Add = "add"
)

// Challenges sends and checks codes: challenges, their messages, cooldowns
// and send limits. A code that enrolls or adds a phone records it in
// Devices. All its records live in Store under the realm they belong to.
type Challenges struct {
	*Core
	// Devices keeps the phones a verified code enrolls or adds.
	Devices *Devices
	Sender  providers.Sender
	// CodeLength is the number of digits in a code.
	CodeLength int
	// CodeTTL is how long a code stays valid.
	CodeTTL time.Duration
	// MaxAttempts is how many wrong codes kill a challenge.
	MaxAttempts int
	// ResendCooldown is the wait before the first "send again"; it doubles
	// with every resend.
	ResendCooldown time.Duration
	// Templates compose the message of each channel.
	Templates *Templates
	// Site names the site in messages; empty means the host.
	Site string
	// Policy says which numbers may be sent a code.
	Policy *phone.Policy
	// Checker, when set, checks a number before a code is sent to it
	// (Twilio Lookup: line type, SIM swap).
	Checker providers.Checker
	// ReceiptURL, when set, is where the gateway reports delivery of a
	// challenge's message (its receipt ID in the URL).
	ReceiptURL func(receipt string) string
	// Verifier, when set, makes and checks the codes itself (Twilio
	// Verify): no code is generated or stored here, but every other rule
	// (expiry, tries, cooldowns, single use) still holds.
	Verifier providers.Verifier
	// Guard, when set, pauses sends to places whose codes are not used
	// (SMS pumping); its counters ride in the batches below.
	Guard *pumping.Guard
	// Observe, when set, hears each code sent, used, or refused by the
	// guard (CodeSent, CodeUsed, CodePaused): the admin's figures. It must
	// not block.
	Observe func(event, e164 string, channel factor.Channel)

	failed *takeBacks // sends taken back that the store did not take (New)
}

// Challenge is one code that was sent (or, for a decoy, pretended to be).
type Challenge struct {
	ID    string `json:"-"`
	User  string `json:"user"`
	Phone string `json:"phone,omitempty"` // E.164; empty for a decoy
	// Masked is the number as pages may show it, decoys included.
	Masked  string         `json:"masked,omitempty"`
	Purpose string         `json:"purpose"`
	Channel factor.Channel `json:"channel"`
	// DeviceID is the enrolled device the code went to (Verify), or the
	// new device's ID once added (Enroll, Add).
	DeviceID string `json:"device,omitempty"`
	// DeviceName names a device being added.
	DeviceName string `json:"device_name,omitempty"`
	// LimitKey, if set, stands for User in cooldowns and per-user send
	// limits: at the login page it is what was typed (a name or a
	// number), so that a known user and a decoy wait alike.
	LimitKey string    `json:"limit_key,omitempty"`
	Hash     []byte    `json:"hash,omitempty"`
	Expires  time.Time `json:"expires"`
	// ResendAt is the earliest time "send again" is allowed.
	ResendAt time.Time `json:"resend_at"`
	// Receipt names the message's delivery receipt, if the gateway sends
	// one.
	Receipt string `json:"receipt,omitempty"`
	// Lang is the language the message speaks: the one the user enrolled
	// with, else the page's.
	Lang    string `json:"lang,omitempty"`
	Resends int    `json:"resends,omitempty"`
	// Undelivered is why a Blind send did not go out (never stored).
	Undelivered error `json:"-"`
	// Unconfirmed is why the gateway could not confirm that the code went
	// out, though it may have (a timeout, a 5xx: providers.Unsent says
	// not): it counts as sent (never stored).
	Unconfirmed error `json:"-"`
	// Added says that the check of an Add's code added the phone, rather
	// than found the number the user's already (another check of it at
	// once, say): only then may the user's phones be told, or the adding
	// undone (never stored).
	Added bool `json:"-"`
}

// storeGrace keeps an expired challenge a while longer, so that a late
// submission hears "expired" rather than "no longer valid".
const storeGrace = time.Hour

func challengeKey(realm, id string) string { return store.Key("challenge", realm, id) }
func attemptsKey(realm, id string) string  { return store.Key("attempts", realm, id) }
func deviceKey(realm, user string) string  { return store.Key("device", realm, user) }

// Start creates a challenge for user and sends its code to e164 (for host's
// message). With an empty number it makes a decoy: the same records and the
// same answers, but nothing is sent, so that an unknown user cannot be told
// from a known one. A user is sent no new code to the same number before the
// last one's resend time (CooldownError). c.Resends is how many codes
// came before it in the same sign-in (another channel, another phone), or, if more, in the
// record of codes sent without one used (a new login): its cooldown doubles as many times.
func (s *Challenges) Start(ctx context.Context, sc Scope, c Challenge) (*Challenge, error) {
	if c.Channel == "" {
		c.Channel = factor.ChannelSMS
	}
	return s.start(ctx, sc, &c, max(c.Resends, 0))
}

// startOnce checks, in order: the lockout, the number's policy, the
// cooldown and the send limits — all before anything costs money. Its
// store work is two round trips: one reads the lockouts, the cooldown
// and the number's waits; the other counts the send in every limit and
// writes the challenge, and claims its cooldown and the number's waits
// as one (written only if each still holds what was read: errRaced, and
// the rest is undone, if not), all undone if a limit refuses.
func (s *Challenges) startOnce(ctx context.Context, sc Scope, c *Challenge, resends int) (*Challenge, error) {
	now := s.Now()
	var reads store.Batch
	locks := s.readLocks(&reads, sc, c.User)
	before := s.readCooldowns(&reads, sc, c)
	nw := s.readNumberWait(&reads, sc, c)
	stranger := s.Strangers.Count(&reads, sc)
	watch := s.Guard.Watch(&reads, sc.Realm, c.Phone, s.numberID(c.Phone), c.Purpose == Verify)
	budget := s.readBudget(&reads, c, now)
	if err := store.Do(ctx, s.Store, &reads); err != nil {
		return nil, err
	}
	if err := s.Strangers.Refusal(stranger); err != nil {
		return nil, err
	}
	if err := s.lockedBy(locks); err != nil {
		return nil, err
	}
	if err := s.sendRefused(sc, c); err != nil {
		return nil, err
	}
	if err := s.cooledDown(before, sc, c); err != nil {
		return nil, err
	}
	held := s.numberHeld(nw, sc, c)                                         // answered after the records, as a blind send that failed
	resends = max(resends, s.resendsAfter(before.doubling()), nw.streak(s)) // a new login keeps the doubling
	if err := s.paused(sc, c, watch.Refusal()); err != nil {
		return nil, err
	}
	if c.Phone != "" {
		c.Masked = phone.Mask(c.Phone)
		// A number bound to someone else becomes a decoy: the same pages
		// and answers, and a code that never comes, so the second user
		// learns nothing about the first.
		if c.Purpose == Enroll || c.Purpose == Add {
			taken, err := s.Devices.ownedByOther(ctx, sc.Realm, c.User, c.Phone)
			if err != nil {
				return nil, err
			}
			if taken {
				c.Phone = ""
			}
		}
	}
	code := newCode(s.CodeLength)
	c.ID = RandomID()
	if s.Verifier == nil {
		c.Hash = hashCode(s.codeKey(), c.ID, code)
	}
	if s.ReceiptURL != nil && s.Verifier == nil && c.Phone != "" {
		c.Receipt = RandomID()
	}
	if c.Lang == "" {
		c.Lang = sc.Lang
	}
	c.Expires = now.Add(s.CodeTTL)
	c.Resends = resends
	c.ResendAt = now.Add(s.waitAfter(resends))

	var writes store.Batch
	sends := s.countSend(&writes, sc, c, budget, now)
	watch.Count(&writes, c.Phone == "" || held != nil) // a held send sends nothing: counted as a decoy is
	waits, err := s.writeChallenge(&writes, sc, c, before)
	if err != nil {
		return nil, err
	}
	numberWaits, err := s.noteNumberWait(sc, c, nw, held)
	if err != nil {
		return nil, err
	}
	waits = append(waits, numberWaits...)
	claim := writes.Claim(swapsOf(waits)...)
	err = store.Do(ctx, s.Store, &writes)
	if err == nil && s.lostRace(ctx, sc, c, claim, sends, watch) {
		return nil, errRaced
	}
	if err == nil {
		err = sends.refusal()
	}
	if err == nil {
		if err = cmpErr(held, s.judged(ctx, c, watch)); err != nil && sc.Blind {
			if held == nil {
				s.uncount(ctx, watch) // the guard refused it: no code went
			}
			return blind(c, err)
		}
	}
	if err != nil {
		s.undo(ctx, sc, c, waits, sends.recorded(true), watch) // the guard's count too
		return nil, err
	}
	if s.Checker != nil && c.Phone != "" {
		// After the limits: a lookup costs money too.
		if err := s.Checker.CheckNumber(ctx, c.Phone, c.Channel, c.Purpose != Verify); err != nil {
			if sc.Blind {
				s.uncount(ctx, watch)
				return blind(c, err)
			}
			// A lookup refused or failed counts as a send refused
			// (refundOf): it may have been paid for.
			s.undo(ctx, sc, c, waits, refundOf(err, sends), watch)
			if errors.As(err, new(*providers.UserError)) {
				return nil, &SendError{Err: err}
			}
			return nil, err
		}
	}
	if c.Phone != "" {
		if err := s.deliver(ctx, sc.Host, c, code); err != nil {
			if sc.Blind {
				if !MaybeSent(err) {
					s.uncount(ctx, watch)
				}
				return blind(c, err)
			}
			if MaybeSent(err) {
				return unconfirmed(s, c, err)
			}
			s.undo(ctx, sc, c, waits, refundOf(err, sends), watch)
			return nil, err
		}
		s.observe(CodeSent, c.Phone, c.Channel)
	}
	return c, nil
}

// Check tests code against challenge c, as just read from the store (the
// flow's Pending). A right code consumes the challenge: of two concurrent
// submissions of it, one succeeds. After MaxAttempts wrong codes the
// challenge is dead. An enrollment that succeeds records the device, if
// the phone policy still allows its number (recordRefused: checked first,
// before the try counts).
//
// Its store work is two round trips: one reads the lockouts, counts the
// try (a try made while locked out counts against the code too: it was a
// guess) and takes a slot in the account's window of checked guesses and
// one among its MaxFailures (takeFailure); the other consumes the
// challenge, forgets the user's wrong codes (their slots among
// MaxFailures too) and cooldown, and gives the guess's slot back.
func (s *Challenges) Check(ctx context.Context, sc Scope, c *Challenge, code string) (*Challenge, error) {
	realm := sc.Realm
	if err := s.recordRefused(ctx, realm, c); err != nil {
		return nil, err
	}
	var reads store.Batch
	fail := s.takeFailure(&reads, sc, c.User)
	locks := s.readLocks(&reads, sc, c.User)
	tries := reads.Incr(attemptsKey(realm, c.ID), s.CodeTTL+storeGrace)
	guess := s.takeGuess(&reads, sc, c.User)
	unchecked := func(err error) (*Challenge, error) {
		s.giveBackNow(ctx, guess, fail)
		return nil, err
	}
	if err := store.Do(ctx, s.Store, &reads); err != nil {
		return unchecked(err) // the slots one of its failed reads took
	}
	if err := s.refusedUnchecked(ctx, sc, c.User, locks, guess, fail); err != nil {
		return nil, err
	}
	if !s.Now().Before(c.Expires) {
		return unchecked(ErrExpired)
	}
	n := tries.N
	if n > int64(s.MaxAttempts) {
		_ = s.Store.Delete(ctx, challengeKey(realm, c.ID))
		return unchecked(ErrTooMany)
	}
	// A decoy's code was never sent, so no code is right for it (its hash
	// is compared all the same, for the same work).
	ok := false
	if c.Phone != "" {
		var err error
		if ok, err = s.matches(ctx, c, code); err != nil {
			return unchecked(err)
		}
	} else if s.Verifier == nil {
		_ = codeMatches(s.CodeKey, c.ID, code, c.Hash)
	}
	if !ok {
		locked, beforeLock, err := s.countFailure(ctx, sc, c.User, true, false)
		if err != nil {
			return nil, err
		}
		left := s.MaxAttempts - int(n)
		if left == 0 {
			_ = s.Store.Delete(ctx, challengeKey(realm, c.ID))
		}
		switch {
		case locked != nil:
			return nil, locked
		case left == 0:
			return nil, ErrTooMany
		}
		// What will really happen: the challenge's tries, or the lockout
		// that comes first.
		return nil, &WrongCodeError{Left: min(left, beforeLock), Locks: beforeLock < left}
	}
	var done store.Batch
	take := done.Take(challengeKey(realm, c.ID))
	s.forgetFailures(&done, sc, c.User)
	s.endCooldown(&done, sc, c)
	s.endNumberWait(&done, sc, c)
	guess.giveBack(&done) // a right code is no guess, nor a failure (its slot went with the window)
	s.Guard.Used(&done, realm, c.Phone, s.numberID(c.Phone))
	if err := store.Do(ctx, s.Store, &done); err != nil {
		return nil, err
	}
	if take.Err != nil {
		return nil, ErrNoChallenge // a concurrent submission used it first
	}
	s.observe(CodeUsed, c.Phone, c.Channel)
	c, err := decodeChallenge(c.ID, take.Value)
	if err != nil {
		return nil, err
	}
	switch c.Purpose {
	case Enroll:
		// A first enrollment completes only while the user still has no
		// phone: a code started earlier (by someone who knew the password)
		// must not add a silent second phone after the user enrolled theirs.
		if c.DeviceID, err = s.Devices.addFirst(ctx, realm, c.User, c.Phone, c.Lang, sc.First); err != nil {
			return nil, err
		}
	case Add:
		if c.DeviceID, c.Added, err = s.Devices.AddClaimed(ctx, realm, c.User, c.Phone, c.DeviceName, c.Lang); err != nil {
			return nil, err
		}
	case Verify:
		// A code proves the phone only while it is the user's: one sent
		// before the phone was removed (a lost phone, an admin's reset)
		// signs nobody in.
		if sc.Provisioned {
			break
		}
		// Its device named (found by number after a login form): what the
		// code earns ends with its removal (session.EndDevice).
		id, err := s.Devices.used(ctx, realm, c.User, c.DeviceID, c.Phone)
		if err != nil || id == "" {
			return nil, cmpErr(err, ErrNoChallenge)
		}
		c.DeviceID = id
	}
	return c, nil
}

// Discard deletes challenge id, so that its code stops working.
func (s *Challenges) Discard(ctx context.Context, realm, id string) error {
	return s.Store.Delete(ctx, challengeKey(realm, id))
}
