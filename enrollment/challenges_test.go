package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// outbox records what would have been sent, and can be told to fail.
type outbox struct {
	mu   sync.Mutex
	sent []providers.Message
	err  error
}

func (o *outbox) Send(_ context.Context, m providers.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	o.sent = append(o.sent, m)
	return nil
}

func (o *outbox) last(t *testing.T) providers.Message {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.sent) == 0 {
		t.Fatal("nothing was sent")
	}
	return o.sent[len(o.sent)-1]
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newService(t testing.TB) (*Challenges, *outbox, *clock) {
	t.Helper()
	return newServiceOn(t, nil)
}

// newServiceOn is newService on st; nil is a Badger of its own. (A race
// test's service is on its race store: a Badger opened only to be
// replaced cost a third of the package's Badger opens.)
func newServiceOn(t testing.TB, st store.Store) (*Challenges, *outbox, *clock) {
	t.Helper()
	if st == nil {
		db, closeDB, err := store.OpenBadger(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeDB() })
		st = db
	}
	out := &outbox{}
	clk := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	s, _, _ := New(&Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: clk.now}, Challenges{
		Sender: out, CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, ResendCooldown: 30 * time.Second,
		Templates: mustTemplates(t, "", ""),
	})
	return s, out, clk
}

const realm, host, alice, num = "example.com", "example.com", "alice", "+14155552671"

// sc is a provisioned user's (alice's phone is num, from the config): a
// sign-in code counts without a device record (Scope.Provisioned).
var sc = Scope{Realm: realm, Host: host, IP: "192.0.2.1", Provisioned: true}

// enrolled is sc for a user whose phones are devices in the store: a code
// counts only while its phone is one of them.
var enrolled = Scope{Realm: realm, Host: host, IP: "192.0.2.1"}

func wrongOf(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestEnrollAndVerify(t *testing.T) {
	t.Parallel()
	s, out, _ := newService(t)
	ctx := context.Background()
	c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Enroll})
	if err != nil {
		t.Fatal(err)
	}
	m := out.last(t)
	if m.To != num || len(m.Code) != 6 || m.Host != host {
		t.Fatalf("sent %+v", m)
	}
	if want := regexp.MustCompile(`^Your example\.com verification code is \d{6}\.\n\n@example\.com #\d{6}$`); !want.MatchString(m.Body) {
		t.Fatalf("body %q is not the default message with the WebOTP line", m.Body)
	}
	raw, _ := s.Store.Get(ctx, challengeKey(realm, c.ID))
	if regexp.MustCompile(m.Code).Match(raw) {
		t.Fatalf("the stored challenge contains the code in clear: %s", raw)
	}
	if d, _ := s.Devices.Default(ctx, realm, alice); d != nil {
		t.Fatal("device recorded before the code was verified")
	}
	done, err := s.Check(ctx, sc, c, m.Code)
	if err != nil || done.User != alice || done.Phone != num {
		t.Fatalf("Check = %+v, %v", done, err)
	}
	if d, err := s.Devices.Default(ctx, realm, alice); err != nil || d == nil || d.Phone != num {
		t.Fatalf("Device after enrollment = %+v, %v", d, err)
	}
	if _, err := s.Check(ctx, sc, c, m.Code); !errors.Is(err, ErrNoChallenge) {
		t.Fatalf("reusing a code: %v, want ErrNoChallenge", err)
	}
	if d, _ := s.Devices.Default(ctx, "other.example", alice); d != nil {
		t.Fatal("a device leaked into another realm")
	}
}

func TestWrongCodesKillTheChallenge(t *testing.T) {
	t.Parallel()
	s, out, _ := newService(t)
	ctx := context.Background()
	c, _ := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	code := out.last(t).Code
	for i := 1; i <= 4; i++ {
		_, err := s.Check(ctx, sc, c, wrongOf(code))
		var wrong *WrongCodeError
		if !errors.As(err, &wrong) || wrong.Left != 5-i {
			t.Fatalf("wrong code %d: %v, want %d left", i, err, 5-i)
		}
	}
	if _, err := s.Check(ctx, sc, c, wrongOf(code)); !errors.Is(err, ErrTooMany) {
		t.Fatalf("fifth wrong code: %v, want ErrTooMany", err)
	}
	if _, err := s.Check(ctx, sc, c, code); err == nil {
		t.Fatal("the right code worked after five wrong ones")
	}
}

func TestExpiredCode(t *testing.T) {
	t.Parallel()
	s, out, clk := newService(t)
	ctx := context.Background()
	c, _ := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	clk.advance(5*time.Minute - time.Second)
	if _, err := s.Check(ctx, sc, c, wrongOf(out.last(t).Code)); err == nil {
		t.Fatal("wrong code accepted")
	}
	clk.advance(time.Second)
	if _, err := s.Check(ctx, sc, c, out.last(t).Code); !errors.Is(err, ErrExpired) {
		t.Fatalf("code after 5 minutes: %v, want ErrExpired", err)
	}
}

func TestCodeOfAnotherChallenge(t *testing.T) {
	t.Parallel()
	s, out, clk := newService(t)
	ctx := context.Background()
	_, _ = s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Enroll})
	codeA := out.last(t).Code
	b, _ := s.Start(ctx, sc, Challenge{User: alice, Phone: "+447911123456", Purpose: Enroll})
	for codeA == out.last(t).Code { // one time in a million: a new code, past the cooldown
		clk.advance(time.Minute)
		b, _ = s.Start(ctx, sc, Challenge{User: alice, Phone: "+447911123456", Purpose: Enroll})
	}
	if _, err := s.Check(ctx, sc, b, codeA); err == nil {
		t.Fatal("the code sent to one number verified another")
	}
}

func TestResendCooldownDoubles(t *testing.T) {
	t.Parallel()
	s, out, clk := newService(t)
	ctx := context.Background()
	c, _ := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	first := out.last(t).Code
	var cool *CooldownError
	if _, err := s.Resend(ctx, sc, c.ID); !errors.As(err, &cool) || cool.Wait != 30*time.Second {
		t.Fatalf("immediate resend: %v, want a 30s cooldown", err)
	}
	clk.advance(30 * time.Second)
	c2, err := s.Resend(ctx, sc, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(ctx, sc, c, first); !errors.Is(err, ErrNoChallenge) {
		t.Fatalf("old code after resend: %v, want ErrNoChallenge", err)
	}
	if _, err := s.Resend(ctx, sc, c2.ID); !errors.As(err, &cool) || cool.Wait != 60*time.Second {
		t.Fatalf("second resend: %v, want a 60s cooldown", err)
	}
	if _, err := s.Check(ctx, sc, c2, out.last(t).Code); err != nil {
		t.Fatalf("resent code: %v", err)
	}
}

func TestConcurrentSubmissionsSucceedOnce(t *testing.T) {
	t.Parallel()
	s, out, _ := newService(t)
	ctx := context.Background()
	c, _ := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	code := out.last(t).Code
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 4 {
		wg.Go(func() {
			if _, err := s.Check(ctx, sc, c, code); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d of 4 concurrent submissions of one code succeeded; want 1", ok)
	}
}

func TestDecoyNeverVerifiesAndSendsNothing(t *testing.T) {
	t.Parallel()
	s, out, _ := newService(t)
	ctx := context.Background()
	c, err := s.Start(ctx, sc, Challenge{User: "nobody", Phone: "", Purpose: Verify})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.sent) != 0 {
		t.Fatalf("a decoy sent %d messages", len(out.sent))
	}
	for i := range 5 {
		code := []string{"000000", "123456", "999999", "111111", "424242"}[i]
		if _, err := s.Check(ctx, sc, c, code); err == nil {
			t.Fatalf("decoy accepted %s", code)
		}
	}
}

func TestSendFailureLosesNothing(t *testing.T) {
	t.Parallel()
	s, out, _ := newService(t)
	ctx := context.Background()
	out.err = providers.NotSent(errors.New("gateway answered 401: secret-token-in-body"))
	_, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	var se *SendError
	if !errors.As(err, &se) || !errors.Is(err, out.err) {
		t.Fatalf("Start with a failing sender: %v", err)
	}
	if regexp.MustCompile("secret|401").MatchString(err.Error()) {
		t.Fatalf("the user-facing text leaks the provider's error: %q", err.Error())
	}
	out.err = nil
	if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); err != nil {
		t.Fatalf("retry after a failure: %v", err)
	}
}

func TestNormalizeCode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"123456": "123456", "123 456": "123456", "123-456": "123456", " 12345": "", "1234567": "", "12345a": "", "１２３４５６": "", "": ""} {
		got, ok := NormalizeCode(in, 6)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestCodesAreUniform(t *testing.T) {
	t.Parallel()
	seen := map[byte]int{}
	for range 2000 {
		c := newCode(6)
		if len(c) != 6 {
			t.Fatalf("code %q", c)
		}
		seen[c[0]]++
	}
	for d := byte('0'); d <= '9'; d++ {
		if seen[d] < 100 {
			t.Fatalf("leading digit %c appeared %d times in 2000 codes: %v", d, seen[d], seen)
		}
	}
}

func TestCooldownOutlivesTheChallenge(t *testing.T) {
	t.Parallel()
	s, out, clk := newService(t)
	ctx := context.Background()
	if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); err != nil {
		t.Fatal(err)
	}
	var cool *CooldownError
	if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); !errors.As(err, &cool) {
		t.Fatalf("a second code to the same number at once: %v, want a cooldown", err)
	}
	if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: "+447911123456", Purpose: Enroll}); err != nil {
		t.Fatalf("another number (a corrected typo) waited: %v", err)
	}
	if _, err := s.Start(ctx, sc, Challenge{User: "bob", Phone: num, Purpose: Verify}); err != nil {
		t.Fatalf("another user waited: %v", err)
	}
	clk.advance(30 * time.Second)
	if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); err != nil {
		t.Fatalf("after the cooldown: %v", err)
	}
	if len(out.sent) != 4 {
		t.Fatalf("%d sent, want 4", len(out.sent))
	}
}

// TestTheDoublingIsForgottenByTheClock: a code left unused is remembered
// for cooldownMemory past its wait by the gate's clock, not by the store's
// expiry of the record (wall time, in Badger and Redis alike): a new login
// after it waits the base again. Before, a record the store still held
// carried the doubling on (TestMonthOfTexts, whose month passes in
// seconds, with SMSGATE_FULL=1: a user's "send again" refused days later).
func TestTheDoublingIsForgottenByTheClock(t *testing.T) {
	t.Parallel()
	s, _, clk := newService(t)
	ctx := context.Background()
	if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); err != nil {
		t.Fatal(err)
	}
	clk.advance(30*time.Second + cooldownMemory)
	c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	if err != nil {
		t.Fatal(err)
	}
	if wait := c.ResendAt.Sub(clk.now()); wait != 30*time.Second {
		t.Fatalf("a new login an hour past the last wait waits %s for its next code, want the base 30s", wait)
	}
}

func TestFailedResendKeepsTheOldCode(t *testing.T) {
	t.Parallel()
	s, out, clk := newService(t)
	ctx := context.Background()
	c, _ := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	code := out.last(t).Code
	clk.advance(time.Minute)
	out.err = providers.NotSent(errors.New("gateway down: connection refused"))
	if _, err := s.Resend(ctx, sc, c.ID); err == nil {
		t.Fatal("resend through a failing gateway succeeded")
	}
	if _, err := s.Check(ctx, sc, c, code); err != nil {
		t.Fatalf("the first code after a failed resend: %v", err)
	}
}

func mustTemplates(t testing.TB, sms, voice string) *Templates {
	t.Helper()
	tpl, err := ParseTemplates(sms, voice)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	tpl := mustTemplates(t, "{{.User}}, your {{.Site}} code: {{.Code}}", "")
	d := MessageData{Site: "Grafana", Host: "grafana.example.com", User: "alice", Code: "042917"}
	if got, _ := tpl.Render(factor.ChannelSMS, d); got != "alice, your Grafana code: 042917" {
		t.Fatalf("sms: %q", got)
	}
	if got, _ := tpl.Render(factor.ChannelVoice, d); got != "Your Grafana verification code is: 0, 4, 2, 9, 1, 7." {
		t.Fatalf("voice: %q", got)
	}
	for _, bad := range []string{"{{.Code", "{{.Nope}} {{.Code}}", "no code here"} {
		if _, err := ParseTemplates(bad, ""); err == nil {
			t.Errorf("template %q accepted", bad)
		}
	}
	if _, err := ParseTemplates("", "no digits"); err == nil {
		t.Error("a voice template without the code was accepted")
	}
}

// verifier plays Twilio Verify: it makes the codes and checks them.
type verifier struct {
	codes map[string]string
}

func (v *verifier) Verifies() bool { return true }

func (v *verifier) StartVerification(_ context.Context, m providers.Message) error {
	v.codes[m.To] = "424242"
	return nil
}

func (v *verifier) CheckVerification(_ context.Context, to, code string) (bool, error) {
	want, ok := v.codes[to]
	if !ok {
		return false, providers.ErrNoVerification
	}
	if code == want {
		delete(v.codes, to)
		return true, nil
	}
	return false, nil
}

func TestVerifierMakesTheCodes(t *testing.T) {
	t.Parallel()
	s, out, _ := newService(t)
	v := &verifier{codes: map[string]string{}}
	s.Verifier = v
	ctx := context.Background()
	c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Enroll})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.sent) != 0 || c.Hash != nil {
		t.Fatal("with a verifier, smsgate sent or stored a code of its own")
	}
	var wrong *WrongCodeError
	if _, err := s.Check(ctx, sc, c, "111111"); !errors.As(err, &wrong) || wrong.Left != 4 {
		t.Fatalf("wrong code: %v", err)
	}
	if _, err := s.Check(ctx, sc, c, "424242"); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if d, _ := s.Devices.Default(ctx, realm, alice); d == nil {
		t.Fatal("no device after a verified enrollment")
	}
	// The provider forgot the code (expired at Twilio): a clear answer.
	c, _ = s.Start(ctx, sc, Challenge{User: "bob", Phone: num, Purpose: Verify})
	delete(v.codes, num)
	if _, err := s.Check(ctx, sc, c, "424242"); !errors.Is(err, ErrExpired) {
		t.Fatalf("after the provider forgot: %v, want ErrExpired", err)
	}
}

func TestUserErrorsReachTheUser(t *testing.T) {
	t.Parallel()
	s, out, _ := newService(t)
	out.err = &providers.UserError{Text: words.Text{ID: "provider.invalid"}, Err: errors.New("twilio: HTTP 400, error 21211")}
	_, err := s.Start(context.Background(), sc, Challenge{User: alice, Phone: num, Purpose: Enroll})
	if t2, ok := words.Of(err); !ok || t2.ID != "provider.invalid" || err.Error() != "This phone number is not valid; check it and try again." {
		t.Fatalf("err = %v", err)
	}
}

// TestACodeToARemovedPhoneIsRefused: a sign-in's code counts only while
// its phone is the user's: removed after the code was sent (by the user or
// an admin), by its ID or (a login form's, which names no device) by its
// number, it signs nobody in; a phone still there does, and so does the
// config's phone of a provisioned user, which has no device to find.
func TestACodeToARemovedPhoneIsRefused(t *testing.T) {
	t.Parallel()
	s, out, _ := newService(t)
	ctx := context.Background()
	for _, byID := range []bool{true, false} {
		id, err := s.Devices.Add(ctx, realm, alice, num, "")
		if err != nil {
			t.Fatal(err)
		}
		c := Challenge{User: alice, Phone: num, Purpose: Verify}
		if byID {
			c.DeviceID = id
		}
		kept, _ := s.Start(ctx, enrolled, c)
		keptCode := out.last(t).Code
		if _, err := s.Check(ctx, enrolled, kept, keptCode); err != nil {
			t.Fatalf("a code to a phone still there (by ID: %v): %v", byID, err)
		}
		gone, _ := s.Start(ctx, enrolled, c)
		code := out.last(t).Code
		if _, err := s.Devices.Remove(ctx, realm, alice, id, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Check(ctx, enrolled, gone, code); !errors.Is(err, ErrNoChallenge) {
			t.Fatalf("a code to a removed phone (by ID: %v): %v, want ErrNoChallenge", byID, err)
		}
	}
	c, _ := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	if _, err := s.Check(ctx, sc, c, out.last(t).Code); err != nil {
		t.Fatalf("a provisioned phone's code: %v", err)
	}
}

// TestAnOldLoginCooldownHoldsAtMostTheBaseWait: a login form's cooldown
// record from before the doubling was kept per client IP (one per typed
// name, its streak and doubled wait included) still reads, as holding the
// base wait at most, and its streak is not followed: a stranger's eleven
// codes under the name hold no other client for 8½ h after the upgrade.
func TestAnOldLoginCooldownHoldsAtMostTheBaseWait(t *testing.T) {
	t.Parallel()
	s, _, clk := newService(t)
	ctx := context.Background()
	c := Challenge{User: alice, Phone: num, Purpose: Verify, LimitKey: "login alice"}
	// The eleventh code, sent 10 s ago: its wait (2¹⁰ × 30 s) ends in 8½ h.
	old, _ := json.Marshal(map[string]any{"phone": s.numberID(num), "channel": "sms",
		"until": clk.now().Add(MaxResendWait - 10*time.Second), "resends": 10})
	if err := s.Store.Put(ctx, s.cooldownKey(sc, &c), old, MaxResendWait+time.Hour); err != nil {
		t.Fatal(err)
	}
	var cool *CooldownError
	if _, err := s.Start(ctx, sc, c); !errors.As(err, &cool) || cool.Wait != 20*time.Second {
		t.Fatalf("under the old record: %v; want what is left of the base 30 s (20 s)", err)
	}
	clk.advance(20 * time.Second)
	got, err := s.Start(ctx, sc, c)
	if err != nil {
		t.Fatal(err)
	}
	if wait := got.ResendAt.Sub(clk.now()); wait != 30*time.Second {
		t.Fatalf("the code's wait: %s; want 30 s (the old streak not followed)", wait)
	}
}
