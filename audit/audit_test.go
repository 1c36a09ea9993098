package audit

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// probe is a log field that counts how often it was encoded.
type probe struct{ encoded *int }

func (p probe) MarshalLogObject(zapcore.ObjectEncoder) error { *p.encoded++; return nil }

// An audit event's Caddy event is built only when the events app has a
// subscriber for it (ShouldEmit): an audit event is on every sign-in, and
// most configs subscribe to none. The log line is not encoded here either
// (a logger that writes nothing encodes nothing).
func TestAnEventIsBuiltOnlyForASubscriber(t *testing.T) {
	// A config of its own, so that the events app logs at Caddy's default
	// level (a context without one logs debug, which ShouldEmit counts as a
	// subscriber); nothing saved, no admin endpoint.
	dir := t.TempDir() // Caddy's folders are the test's, never the user's
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	caddy.ConfigAutosavePath = filepath.Join(dir, "config", "caddy", "autosave.json")
	caddy.DefaultStorage.Path = filepath.Join(dir, "data", "caddy")
	cfg := `{"admin": {"disabled": true, "config": {"persist": false}}, "apps": {"events": {}}}`
	if err := caddy.Load([]byte(cfg), true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })
	ctx := caddy.ActiveContext()
	mod, err := ctx.App("events")
	if err != nil {
		t.Fatal(err)
	}
	app := mod.(*caddyevents.App)
	if app.ShouldEmit("smsgate_verified") {
		t.Fatal("an events app with no subscriber wants smsgate_verified")
	}
	var encoded int
	l := &Log{Logger: zap.NewNop(), Realm: "example.com", Events: app, Ctx: ctx}
	l.Audit("verified", "alice", "+14155552671", zap.Object("probe", probe{&encoded}))
	l.Alarm(zapcore.WarnLevel, "verified", "an alarm", zap.Object("probe", probe{&encoded}))
	if encoded != 0 {
		t.Fatalf("the event's payload was built %d times with nobody subscribed", encoded)
	}
}

// TestUsersAreEscapedEach: the names of who used an admin's invites
// (invites_used) are shown, not obeyed, as the user field's name is: a
// name with a direction override or a line break came raw into the log.
func TestUsersAreEscapedEach(t *testing.T) {
	names := []string{"mal\u202eeci", "bob\nforged line", "carol"}
	enc := zapcore.NewMapObjectEncoder()
	Users("invites_used", names).AddTo(enc)
	got := fmt.Sprint(enc.Fields["invites_used"])
	for i, n := range names {
		if want := User(n).String; !strings.Contains(got, want) || i < 2 && strings.Contains(got, n) {
			t.Errorf("invites_used %q: want %q shown escaped as User shows it", got, n)
		}
	}
}

// TestTheConsoleShowsWhoUsedTheInvites: the console's what happened holds
// invites_used, each name read as one (before, a list field was left out
// of the event's details, so the console never named them).
func TestTheConsoleShowsWhoUsedTheInvites(t *testing.T) {
	e := recentEvent(time.Now(), "admin_revoke", "mallory", "", []zap.Field{
		zap.Int("invites_ended", 0), Users("invites_used", []string{"mal,doe", "bob", "eve x=1"}),
	})
	if want := `invites_ended=0 invites_used="mal,doe", bob, "eve x\u003d1"`; e.Detail != want {
		t.Errorf("details %q, want %q", e.Detail, want)
	}
}

// TestAConsoleDetailReadsAsOneValue (older41; close19 Left 6: "console
// event details as key=value text"): a string field's value that holds
// spaces and "=" (an error's text, a provider's field) read as further
// details on the console (the console splits them where a key and "="
// begin: pages' detailKey), a phone number in it was shown whole, and a
// long one was kept whole. Now it is quoted as a list's name is, its
// numbers masked but their last three digits, and cut at maxValueShown
// runes; an address, an ID, a word and the pumping guard's place (a
// range the admin resumes by) are shown as they were.
func TestAConsoleDetailReadsAsOneValue(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", maxValueShown+50)
	e := recentEvent(time.Now(), "number_refused", "alice", "", []zap.Field{
		zap.String("reason", "+14155552671 refused limit=1 by=mallory"),
		zap.String("ip", "192.168.100.200"),
		zap.String("browser", "a1234567b"),
		zap.String("limit", "user"),
		zap.String("error_code", long),
		zap.Int("sent", 1234567),
		zap.String("place", "+351912345"),
	})
	want := `reason="+••••••••671 refused limit\u003d1 by\u003dmallory" ip=192.168.100.200 browser=a1234567b limit=user error_code=` +
		strings.Repeat("é", maxValueShown) + "… sent=1234567 place=+351912345"
	if e.Detail != want {
		t.Errorf("details\n %q\nwant\n %q", e.Detail, want)
	}
	if e.By != "" {
		t.Errorf("a detail's by=mallory read as the event's by: %q", e.By)
	}
	keys := regexp.MustCompile(`(?:^| )([a-z_]+)=`).FindAllStringSubmatch(e.Detail, -1)
	if len(keys) != 7 {
		t.Errorf("the console reads %d details in %q (%v), want 7", len(keys), e.Detail, keys)
	}
}
