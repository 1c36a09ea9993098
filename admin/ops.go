package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// The admin's operations, shared by the admin API and the CLI on a
// stopped Caddy's store, and how their failures are told.

// adminError is an admin request's failure with its HTTP status.
type adminError struct {
	status int
	err    error
}

func (e *adminError) Error() string { return e.err.Error() }

// Unwrap lets the console say a worded mistake in the reader's language.
func (e *adminError) Unwrap() error { return e.err }

var errNoGate = &adminError{http.StatusNotFound, errors.New("no smsgate handler is configured")}

// badRequest is the admin's own mistake, with its words.
func badRequest(msg string) error { return &adminError{http.StatusBadRequest, errors.New(msg)} }

// errStoreDown is what the admin is told when the store cannot answer: the
// cause (an address, a driver's message) goes to Caddy's log only.
const errStoreDown = "the store did not answer (the cause is in Caddy's log); try again once it is back"

// apiError turns an error into Caddy's admin API error, with its status
// from the admin's one table (Refuse): the admin's own mistakes (an
// unknown realm or device, a bad number, a malformed body) with their
// words; anything else is the store failing — 503 and a short message,
// never the driver's text.
func apiError(err error) error {
	r := Refuse(err)
	if r.Mistake {
		return caddy.APIError{HTTPStatus: r.Status, Err: err}
	}
	if part := (*enrollment.PartialImportError)(nil); errors.As(err, &part) {
		return caddy.APIError{HTTPStatus: r.Status, Err: err, Message: errStoreDown + "; " + part.Progress()}
	}
	if inv := (*inviteFailed)(nil); errors.As(err, &inv) {
		return caddy.APIError{HTTPStatus: r.Status, Err: err, Message: errStoreDown + "; " + inv.said()}
	}
	return caddy.APIError{HTTPStatus: r.Status, Err: err, Message: errStoreDown}
}

// Request is the body of the admin's POSTs.
type Request struct {
	Realm string `json:"realm"`
	User  string `json:"user"`
	Phone string `json:"phone,omitempty"`
	Name  string `json:"name,omitempty"`
	ID    string `json:"id,omitempty"`
	TTL   string `json:"ttl,omitempty"`
	// NewSecret, with store/accept: make a new signing secret, so that
	// every session from before ends (a wipe lost their revocations).
	NewSecret bool `json:"new_secret,omitempty"`
	// Place is a paused country or prefix (pumping/resume); Days, the
	// figures' span (sent as a query).
	Place string `json:"place,omitempty"`
	Days  string `json:"-"`
	// Live, the console's, asks whether the session of the admin who
	// mints an invite still stands once it is written (signin.Live): one
	// revoked meanwhile gets no link (ErrMintEnded).
	Live func(context.Context) (bool, error) `json:"-"`
	// From, the console's, is the admin's session that asks: an invite
	// she mints ends with it, and with the device it signed in with
	// (session.MintedFrom, attack36 F3).
	From *endkeys.MintedFrom `json:"-"`
	// by is the admin at the console who asks (Site.Change): an invite
	// she mints is hers, and ends with her (enrollment.NewInviteBy).
	by string
	// audit, Site.Change's, is where signin's ends audit (nil: the CLI
	// on a stopped Caddy's store audits nothing).
	audit signin.Auditor
	// lifetime is the running gate's session lifetime (signin.Ends.Lifetime;
	// 0 on a stopped Caddy's store).
	lifetime time.Duration
}

// check is what the admin's tools refuse before a change to a user, the
// same in the admin API, the console and the CLI on a stopped Caddy's
// store: a new name nobody could sign in as (checkName), no user, an
// invite for a user the config gives a phone (she enrolls nothing) or
// that no gate of the realm could take (inviteGate), a phone for a name
// no gate of the realm signs in (admitted). It returns the gate the
// change's link leads to (an invite's: one that takes it; else s).
func (s *Site) check(op string, req Request) (*Site, error) {
	if op == "users" || op == "invites" {
		if err := checkName(req.User); err != nil {
			return nil, err
		}
	}
	if req.User == "" {
		return nil, badRequest("user is required")
	}
	if err := checkControls(req.User); err != nil {
		return nil, err
	}
	switch op {
	case "invites":
		return s.inviteGate(req.User)
	case "users":
		if err := s.admitted(req.User); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// checkName refuses a user's name that nobody could sign in as (see
// signin's priorIdentity; a login form trims what is typed, so a name
// with spaces around it is never typed), and that would rearrange every
// list it is shown in.
func checkName(user string) error {
	if !textsafe.Clean(user) || len(user) > signin.MaxIdentity {
		return badRequest(fmt.Sprintf("user: a name is at most %d bytes, without control, direction or invisible characters", signin.MaxIdentity))
	}
	if user != strings.TrimSpace(user) {
		return badRequest(fmt.Sprintf("user: %q has spaces around it, which no login form keeps: name the user without them", user))
	}
	return nil
}

// checkImport refuses an import into realm of records that are another
// realm's (an export is one realm's: the import would land where no gate
// looks, or in another site's realm), in the admin API and the CLI alike.
// Names are not checked as an added user's are (checkName): a store from
// before may hold names nobody can sign in as, and its export must go back
// in as it came out (a restore); they are shown escaped, never obeyed
// (TestDirectionCharactersAreShownNotObeyed).
func checkImport(realm string, records []enrollment.Record) error {
	for _, r := range records {
		if of := r.Realm(); of != "" && of != realm {
			of := echo(of) // a hand-edited file's direction mark, shown
			return badRequest(fmt.Sprintf("the file holds records of realm %s, not %s: import it into realm %s, or export realm %s", of, realm, of, realm))
		}
	}
	return nil
}

// answers asks st one round trip within ctx's budget before work the
// budget does not hold (a scan, as long as the store is large: see
// store.Redis.Scan, refused only once the budget is spent), so that a hung
// store is a 503 within the budget, not a wait of each scan call's read
// timeout in a row (10 s for the users, with a new connection's handshake).
func answers(ctx context.Context, st store.Store) error {
	if _, err := st.Get(ctx, continuity.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// defaultInviteTTL is how long an invite works unless the admin says.
const defaultInviteTTL = 7 * 24 * time.Hour

// adminOp runs one admin operation on svc; the admin API and the CLI
// (working on a stopped Caddy's store) share it. tell is the running
// gate's sign-in, which texts the user's phones of a removal (nil on a
// stopped Caddy: no provider is loaded); logger, Caddy's, is told of a
// revoke's capped record (signin.Ends). prefix is where the gate's pages
// are, with the site's origin when it is known.
func adminOp(ctx context.Context, svc *enrollment.Admin, tell *signin.Service, logger *zap.Logger, prefix, region, op string, req Request) (any, error) {
	ends := signin.Ends{Store: svc.Store, Realm: req.Realm, Now: svc.Now, Logger: logger, Audit: req.audit, Devices: svc.Devices, Lifetime: req.lifetime}
	switch op {
	case "users":
		e164, err := phone.Parse(req.Phone, region)
		if err != nil {
			return nil, phone.WithExample(err, region)
		}
		id, err := signin.AddByAdmin(ctx, svc.Devices, req.Realm, req.User, e164, req.Name)
		if held := (*enrollment.HeldError)(nil); errors.As(err, &held) {
			return nil, &adminError{http.StatusConflict, errors.New(textsafe.Escape(held.Error()))}
		}
		return map[string]string{"id": id}, err
	case "devices/remove":
		if req.ID == "" { // not "not there any more": nothing was named
			return nil, badRequest("id is required: the device's ID, as users lists it")
		}
		// With every session and trust the device earned (a lost phone's
		// thief is cut off): none is the admin's own. Her other phones are
		// told, as of her own removal. Whether it withdrew her recovery
		// codes (a session the device earned made them) is said: she
		// makes new ones (removalAnswer).
		if tell != nil {
			r, err := tell.AdminRemove(ctx, req.Realm, req.User, req.ID)
			if err != nil {
				return nil, err
			}
			return removalAnswer(map[string]any{"removed": req.ID, "phones_told": r.Told}, r), nil
		}
		r, err := signin.RemoveDevice(ctx, svc.Devices, req.Realm, req.User, req.ID)
		if err != nil {
			return nil, err
		}
		notice, owed := noticeUnsent, any(r.Owed)
		if r.Owed {
			notice += noticeOwed
		} else if r.OwedUnread != nil { // not known: null, and said
			notice, owed = notice+noticeUnread, nil
		}
		return removalAnswer(map[string]any{"removed": req.ID, "phones_told": 0, "notice": notice, "notice_owed": owed}, r), nil
	case "reset", "revoke":
		// signin decides each (signin.Ends.Reset, Revoke): the order of
		// its ends, whether she held anything, and its audit, with the
		// admin who asked. A name that held nothing is reset or revoked
		// all the same, and said (noSuchUser).
		step, said := ends.Revoke, "revoked"
		if op == "reset" {
			step, said = ends.Reset, "reset"
		}
		ended, err := step(ctx, req.User, req.by)
		if err != nil || !ended.Held {
			return nil, cmp.Or(err, noSuchUser(req.User))
		}
		return mintedAnswer(map[string]any{said: req.User}, ended.Minted), nil
	case "sessions/end", "sessions/end-unlisted":
		// signin decides what ends with them (the invites minted through
		// them, attack36 F3), and audits it with the admin who asked.
		if op == "sessions/end-unlisted" {
			ended, err := ends.EndUnlisted(ctx, req.User, req.by)
			return newUnlistedEnd(ended), err
		}
		ended, err := ends.EndSession(ctx, req.User, req.ID, req.by)
		if errors.Is(err, session.ErrNoSession) {
			return nil, &adminError{http.StatusNotFound, words.Newf("console.no_session", "user", echo(req.User))}
		}
		return mintedAnswer(map[string]any{"ended": req.ID}, ended.Minted), err
	case "invites":
		ttl := defaultInviteTTL
		if req.TTL != "" {
			d, err := caddy.ParseDuration(req.TTL)
			if err != nil || d <= 0 {
				return nil, badRequest(fmt.Sprintf("ttl: %s is not a duration", echo(req.TTL)))
			}
			if d > enrollment.MaxInviteTTL {
				return nil, badRequest(fmt.Sprintf("ttl: %s is longer than an invite may work (%s at most: mint a new one when it ends)",
					echo(req.TTL), "720h, 30 days"))
			}
			ttl = d
		}
		note := earlierNote(ctx, svc.Store, req.Realm, req.User) // read before the mint ends it
		token, err := svc.NewInviteFrom(ctx, req.Realm, req.User, req.by, req.From, ttl)
		if errors.Is(err, enrollment.ErrInviteWithdrawn) {
			return nil, ErrMintEnded // her revoke ended it as it was made
		}
		if errors.Is(err, enrollment.ErrInviteRaced) {
			return nil, err // the admin's 409: another mint's link works if it was handed out
		}
		if err != nil {
			return nil, &inviteFailed{err}
		}
		if err := mintStands(ctx, req); err != nil {
			return nil, err
		}
		link := prefix + "invite?token=" + token
		_, path, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(link, "https://"), "http://"), "/")
		return withNote(map[string]string{"url": link, "path": "/" + path, "expires": svc.Now().Add(ttl).UTC().Format(time.RFC3339)}, note), nil
	}
	return nil, &adminError{http.StatusNotFound, fmt.Errorf("unknown operation %s", echo(op))}
}

// removalAnswer is answer, a device's removal's, with whether r withdrew
// her recovery codes (always there: signin.CodesWithdrawn) and, where it
// did, what that means (note: the CLI prints the answer as it is, as it
// does the notice of a removal with Caddy stopped).
func removalAnswer(answer map[string]any, r signin.Removal) map[string]any {
	for k, v := range mintedAnswer(map[string]any{}, r.Minted) { // an admin's: the invites its sessions minted (attack36 F3)
		answer[k] = v
	}
	answer[signin.CodesWithdrawn] = r.CodesWithdrawn
	if r.CodesWithdrawn {
		answer["note"] = codesWithdrawnNote
	}
	return answer
}

// codesWithdrawnNote is what a removal that withdrew the user's recovery
// codes says of them (signin.RemoveDevice).
const codesWithdrawnNote = "her recovery codes were withdrawn: a session the removed device signed in made them. They no longer work: she makes new ones on her devices page (tell her)"

// noticeUnsent is what the CLI's removal on a stopped Caddy says of the notice
// her phones get from a removal through the running gate.
const noticeUnsent = "her phones were not texted of the removal: Caddy is stopped, so no provider is loaded to text them; tell her yourself"

// noticeOwed is what it adds where the notice stays owed (signin.RemoveDevice).
const noticeOwed = ", or remove the device again once Caddy runs (within a day): that removal texts them"

// noticeUnread is what it adds where the store could not say whether the
// notice is owed.
const noticeUnread = "; whether the notice is still owed could not be read (the store failed): remove the device again once Caddy runs (within a day) to text them if it is"

// maskDevices hides numbers and apps' (sealed) secrets from listings: the
// admin sees what the user sees. A device its user did not name is listed
// with its default in English ("Phone 2"), as before walk36 stored none,
// `nth` beside it: a script reading `name` keeps working.
func maskDevices(list []enrollment.Device) {
	for i := range list {
		if list[i].Name == "" {
			list[i].Name = list[i].Label(nil, "en")
		}
		list[i].Phone = phone.Mask(list[i].Phone)
		list[i].PhoneHMAC, list[i].Secret, list[i].Credential = "", "", nil
	}
}

// acceptStore is an admin's word that a frozen store's state is the one to
// go on with (the admin API and the CLI on a stopped Caddy share it). With
// newSecret, the store gets a new signing secret, so that every session
// from before the wipe ends everywhere (the wipe lost their revocations).
func acceptStore(ctx context.Context, w *continuity.Watch, st store.Store, newSecret, configured bool) (map[string]any, error) {
	if newSecret && configured {
		return nil, badRequest("this site's signing secret is its signing_key: change it in the config instead of --new-secret")
	}
	old, err := w.Accept(ctx, "accept-store", false)
	if err != nil { // not frozen, or changed meanwhile: a 409 (refusals)
		return nil, err
	}
	out := map[string]any{"accepted": true, "new_secret": newSecret}
	if old != nil && old.Frozen != nil {
		out["was"] = old.Frozen.Reason
		out["since"] = old.Frozen.Since
	}
	if newSecret {
		if err := session.NewSecret(ctx, st); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// afterImport accepts a frozen store after an admin's import (a restore
// from an export), or notes that the store holds users now.
func afterImport(ctx context.Context, w *continuity.Watch) (accepted bool, err error) {
	_, err = w.Accept(ctx, "import", false)
	if errors.Is(err, continuity.ErrNotFrozen) {
		return false, w.SawUsers(ctx)
	}
	return err == nil, err
}

// importSummary is an import's answer: with what it left out because the
// store removed it since the export was taken (a device, a recovery code:
// enrollment's tombstones.go), said in words and counted.
func importSummary(records int, accepted bool, done enrollment.Imported) map[string]any {
	out := map[string]any{"imported": records, "store_accepted": accepted}
	told := done.NotRestored
	if done.KeysReplaced {
		out["keys"] = enrollment.KeysReplacedSaid
	}
	if told != (enrollment.NotRestored{}) {
		out["not_restored"] = told.String()
		out["devices_not_restored"], out["recovery_codes_not_restored"] = told.Devices, told.RecoveryCodes
	}
	return out
}
