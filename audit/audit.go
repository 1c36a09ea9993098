// Package audit is what a gate tells its admins: audit events and alarms,
// as log lines through Caddy's logger (numbers masked, names escaped) and
// as Caddy events (smsgate_<event>) for the events app's subscribers; and
// its Prometheus counters, on Caddy's registry.
package audit

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/recent"
)

// Log writes a gate's audit events and alarms.
type Log struct {
	Logger *zap.Logger
	Realm  string
	// Events is the config's events app (nil: none); Ctx, the context its
	// events are emitted in.
	Events *caddyevents.App
	Ctx    caddy.Context
	// Recent keeps the events for the admin's console (nil: no console
	// yet), at the time Now tells.
	Recent *recent.Ring
	Now    func() time.Time
}

// Audit writes one audit event to the log, numbers always masked, and
// emits it. A caller that holds a number masked only (a removal's owed
// notice keeps no more) gives it as a "phone" field instead of e164; no
// field holds a whole number.
func (l *Log) Audit(event, user, e164 string, fields ...zap.Field) {
	fs := append([]zap.Field{zap.String("event", event), User(user)}, fields...)
	if e164 != "" {
		fs = append(fs, zap.String("phone", phone.Mask(e164)))
	}
	l.Logger.Info(event, fs...)
	l.emit(event, fs)
	if l.Recent != nil {
		l.Recent.Add(recentEvent(l.Now(), event, user, e164, fields))
	}
}

// recentEvent is an audit event as the console keeps it: what its log
// line says (the number masked), its other fields as key=value.
func recentEvent(at time.Time, event, user, e164 string, fields []zap.Field) recent.Event {
	e := recent.Event{Time: at.UTC(), Kind: event, User: user}
	if e164 != "" {
		e.Phone = phone.Mask(e164)
	}
	var detail []string
	for _, f := range fields {
		switch {
		case f.Key == "by" && f.Type == zapcore.StringType:
			e.By = f.String
		case f.Key == "phone" && f.Type == zapcore.StringType: // masked by the caller (Audit)
			e.Phone = f.String
		case f.Type == zapcore.StringType:
			detail = append(detail, f.Key+"="+valueShown(f.Key, f.String))
		case f.Type == zapcore.Int64Type || f.Type == zapcore.Int32Type:
			detail = append(detail, f.Key+"="+strconv.FormatInt(f.Integer, 10))
		case f.Type == zapcore.BoolType:
			detail = append(detail, f.Key+"="+strconv.FormatBool(f.Integer == 1))
		case f.Type == zapcore.ArrayMarshalerType: // a list of names (Users): invites_used
			if names := namesShown(f); names != "" {
				detail = append(detail, f.Key+"="+names)
			}
		}
	}
	e.Detail = strings.Join(detail, " ")
	return e
}

// maxValueShown is the most runes of a string detail the console keeps
// (older41): a value past it is cut, "…" in place of the rest, so that
// one long value (an error's text, a provider's field) neither fills the
// page nor the recent events' memory.
const maxValueShown = 120

// valueShown is a string field as the console's details show it
// (older41): cut to maxValueShown runes, a run of seven digits or more
// standing alone (a phone number, in an error's text or a provider's
// field) masked but its last three (an IPv4 address, a count, or an ID's
// digits among letters are not), and quoted as a list's name is
// (namesShown) where it holds a space, a comma, a quote or an equals
// sign, so that it reads as one value and not as further details (before,
// `reason=x limit=1` read as two). The pumping guard's place (key
// "place": a country code and up to six digits, a range, never a whole
// number) is not masked: the admin resumes it by it.
func valueShown(key, v string) string {
	if key != "place" {
		v = maskNumbers(v) // before the cut, which could leave a number's head too short to mask
	}
	if utf8.RuneCountInString(v) > maxValueShown {
		v = string([]rune(v)[:maxValueShown]) + "…"
	}
	if strings.ContainsAny(v, ", \"=") {
		v = strings.ReplaceAll(strconv.Quote(v), "=", `\u003d`)
	}
	return v
}

// maskNumbers masks, in v, every run of seven digits or more that no
// letter nor digit touches: all but its last three become • (as
// phone.MaskDigits, which counts every digit of a text and would mask an
// address: 192.168.100.200).
func maskNumbers(v string) string {
	b := []byte(v)
	var out strings.Builder
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == i {
			out.WriteByte(b[i])
			i++
			continue
		}
		alone := j-i >= 7 && (i == 0 || !alnum(b[i-1])) && (j == len(b) || !alnum(b[j]))
		for k := i; k < j; k++ {
			if alone && k < j-3 {
				out.WriteString("•")
			} else {
				out.WriteByte(b[k])
			}
		}
		i = j
	}
	return out.String()
}

// alnum reports whether c is an ASCII letter or digit (a byte of a
// multi-byte rune is neither).
func alnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// namesShown is a list field of strings as the console's details show it:
// joined by ", ", a name holding a comma, a space, a quote or an equals
// sign quoted (its "=" as \u003d), so that it reads as one name and not
// as another detail (the details are key=value, by spaces).
func namesShown(f zap.Field) string {
	enc := zapcore.NewMapObjectEncoder()
	f.AddTo(enc)
	list, _ := enc.Fields[f.Key].([]any)
	shown := make([]string, 0, len(list))
	for _, v := range list {
		name, ok := v.(string)
		if !ok {
			return ""
		}
		if strings.ContainsAny(name, ", \"=") {
			name = strings.ReplaceAll(strconv.Quote(name), "=", `\u003d`)
		}
		shown = append(shown, name)
	}
	return strings.Join(shown, ", ")
}

// Alarm logs msg at level with an event field, and emits the event. The
// pumping guard's (pumping_paused, pumping_resumed) are the realm's, and
// kept for the console's what happened too, as its filter "Pumping guard"
// promises (before, none ever reached it).
func (l *Log) Alarm(level zapcore.Level, event, msg string, fields ...zap.Field) {
	fs := append([]zap.Field{zap.String("event", event), zap.String("realm", l.Realm)}, fields...)
	if ce := l.Logger.Check(level, msg); ce != nil {
		ce.Write(fs...)
	}
	l.emit(event, fs)
	if l.Recent != nil && strings.HasPrefix(event, "pumping_") {
		l.Recent.Add(recentEvent(l.Now(), event, "", "", fields))
	}
}

// emit sends the event smsgate_<event> with fs as its data, built only if
// the events app has a subscriber for it (ShouldEmit): most configs have
// none, and an audit event is on every sign-in.
func (l *Log) emit(event string, fs []zap.Field) {
	name := "smsgate_" + event
	if l.Events == nil || !l.Events.ShouldEmit(name) {
		return
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fs {
		f.AddTo(enc)
	}
	l.Events.Emit(l.Ctx, name, enc.Fields)
}

// User is a user's name for the log, shown, not obeyed: its direction and
// control characters escaped (textsafe.Escape).
func User(user string) zap.Field { return zap.String("user", textsafe.Escape(user)) }

// Users is a list of users' names for the log under key, each escaped as
// User escapes one (who used an admin's invites: invites_used).
func Users(key string, users []string) zap.Field {
	shown := make([]string, len(users))
	for i, u := range users {
		shown[i] = textsafe.Escape(u)
	}
	return zap.Strings(key, shown)
}
