package signin

import (
	"context"
	"errors"
	"iter"
	"maps"
	"strings"
	"unicode"

	"go.uber.org/zap"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/smsgate/caddy-smsgate/internal/logonce"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/words"
)

// ErrCaseTwin refuses a user's own first enrollment where the realm holds
// an enrolled user whose name differs from hers in case only (or in
// Unicode normalisation, or spaces as a directory compares them: twinKey): a first
// factor whose logins ignore case and that passes the name as typed
// (Remote-User: ALICE for alice's password) would otherwise let whoever
// holds alice's password enroll his own phone as ALICE.
var ErrCaseTwin = words.New("enroll.case_twin")

// errTwinFound ends a scan at the first twin.
var errTwinFound = errors.New("a case twin")

// caseTwin refuses user's own first enrollment (trust on first use: no
// invite or recovery code, not a user of the config's) when realm holds a
// device record, not empty, or the config a user (at any of the realm's
// gates: GiveNumbers), of another name equal to user's under twinKey
// (RFC 4518's map of hidden characters and spaces, NFKC, upper- and
// lower-cased, Unicode case folding).
// Where the enrollment begins and before another code is sent for it
// (fresh false) it reads the realm's snapshot of enrolled names
// (enrolledNames: at most twinsFresh old, one scan at a time), so that a
// flood of refused POSTs costs no scan each, then the claim of her name
// (one Get: another user's live claim refuses her, ErrTwinClaimed, before
// any text is sent); just before its device is written
// (enrollment.Scope.First, fresh true), reached only with a right code, it
// scans the realm's device records afresh (a twin enrolled since the
// snapshot, or before claims were written, is refused there), then claims
// her name's key (claimTwin: of two twins completing at the same instant,
// the second claim is refused, ErrTwinClaimed, whichever device is written
// first). The admin's own adding (admin API, console, CLI) and invites are
// not asked: the admin decides (basic_auth may hold Alice and alice); they
// claim the name all the same (ClaimName), so that a twin's own enrollment
// after is refused. A refusal is audited (enrollment_refused_case) with
// the realm and user's name only (refuseTwin: where it begins, once in
// twinsFresh).
func (s *Service) caseTwin(ctx context.Context, realm string, f *Flow, user string, fresh bool) error {
	if f.InvitedAs(user) {
		// The admin's invite names her (the admin decided), or her recovery
		// code did (useRecovery): never refused; her name claimed just
		// before her device is written, so that a twin's own enrollment
		// meanwhile is refused (ClaimName).
		if fresh {
			return ClaimName(ctx, s.Devices.Store, realm, user)
		}
		return nil
	}
	names := s.configNames()
	if _, ok := names[user]; ok {
		return nil
	}
	if TwinOf(user, maps.Keys(names)) != "" { // a config's user holds her phone in the config: no device record here
		return s.refuseTwin(realm, user, fresh, ErrCaseTwin)
	}
	fold := cases.Fold()
	folded := twinKey(fold, user)
	if !fresh {
		enrolled, err := s.enrolledNames(ctx, realm)
		if err != nil {
			return err
		}
		for _, name := range enrolled[folded] {
			if name != user {
				return s.refuseTwin(realm, user, false, ErrCaseTwin)
			}
		}
		if claimed, err := s.claimedByOther(ctx, realm, user, folded); err != nil || claimed {
			if err == nil {
				err = s.refuseTwin(realm, user, false, ErrTwinClaimed)
			}
			return err
		}
		return nil
	}
	err := s.scanEnrolled(ctx, realm, func(name string) error {
		if name != user && twinKey(fold, name) == folded {
			return errTwinFound
		}
		return nil
	})
	if err == nil {
		err = s.claimTwin(ctx, realm, user, folded)
	}
	switch {
	case errors.Is(err, errTwinFound):
		return s.refuseTwin(realm, user, true, ErrCaseTwin)
	case errors.Is(err, errTwinClaimed):
		return s.refuseTwin(realm, user, true, ErrTwinClaimed)
	}
	return err
}

// TwinOf is the first of names, other than user, that is user's twin
// (equal under twinKey), or "" for none: the config's users that sign-in
// refuses user's own first enrollment beside (caseTwin), and that no
// invite is minted for a twin of (RefuseInvite).
func TwinOf(user string, names iter.Seq[string]) string {
	fold := cases.Fold()
	key := twinKey(fold, user)
	for name := range names {
		if name != user && twinKey(fold, name) == key {
			return name
		}
	}
	return ""
}

// twinKey is what names are compared by: what a directory's
// caseIgnoreMatch compares (RFC 4518's string preparation), and what
// case-blind logins take for one name. What textsafe hides is left out,
// before NFKC and after it (U+3164 is U+1160 under NFKC): the
// default-ignorables and U+1806, U+FFFC, which §2.2 maps to nothing
// ("alic\u034fe", "alice\ufe0f", "alice\ufffc": no identity holds one
// now, but a name stored before or imported may); every White_Space
// (a tab, a line break, U+1680 OGHAM SPACE MARK, which NFKC keeps) is a
// space, as §2.2 maps it, and runs of spaces are one, none at either end
// (§2.6.1's insignificant space handling: "mary  smith" is "mary smith",
// as an HTML page shows both; "ALICE " is alice); then NFKC (a full-width
// ＡＬＩＣＥ, a decomposed andre\u0301), upper- then lower-cased rune by
// rune, then Unicode case folding. The upper and lower casing first is
// what case-blind logins do and the folding leaves out: "alıce" (dotless
// ı) upper-cases to ALICE (.NET's ToUpperInvariant, Java's
// equalsIgnoreCase, JavaScript), "ALİCE" (dotted İ) lower-cases to alice
// (Go's strings.ToLower); and x/text folds Cherokee letters each to the
// other case (golang/go#46101), which a lower-cased name is not. For any
// other name the key is the folding's alone, as it was (TestTwinKeyIsStable).
// Names with no hidden character, no space but single U+0020 between
// words, no other White_Space and no spacing accent that NFKC turns into
// a space and a combining mark ("x ˙y": U+02D9, U+0384, U+FE70-FE7E…,
// whose key had two spaces and has one now; review34 R3) keep the key
// they had.
// fold is the caller's (a Caser is not to be shared between goroutines).
func twinKey(fold cases.Caser, name string) string {
	name = prepared(norm.NFKC.String(prepared(name)))
	return fold.String(strings.ToLower(strings.ToUpper(name)))
}

// prepared is name as RFC 4518 §2.2 maps it, and §2.6.1 its spaces: what
// textsafe hides left out, every White_Space a space, runs of spaces one,
// none at either end (twinKey).
func prepared(name string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.White_Space, r):
			return ' '
		case textsafe.Hidden(r):
			return -1
		}
		return r
	}, name)
	return strings.Join(strings.Fields(name), " ")
}

// refuseTwin audits and answers a refusal of user's first enrollment: at
// completion (fresh) each; where it begins, the first of her name in
// twinsFresh, with the number of hers not written since the last
// ("repeats"), so that a flood of POSTs keeps its lines few and the
// console's recent events their others.
func (s *Service) refuseTwin(realm, user string, fresh bool, refusal error) error {
	fields := []zap.Field{zap.String("realm", realm)}
	if !fresh {
		n, tell := s.refusalTold(realm, user)
		if !tell {
			return refusal
		}
		fields = logonce.Repeats(fields, n)
	}
	s.audit("enrollment_refused_case", user, "", fields...)
	return refusal
}

// configNames is the names of the config's users at any gate of the realm
// on this store (GiveNumbers), else this gate's own `user` lines.
func (s *Service) configNames() map[string][]string {
	if given := s.given.Load(); given != nil {
		return *given
	}
	names := make(map[string][]string, len(s.Users))
	for name := range s.Users {
		names[name] = nil
	}
	return names
}
