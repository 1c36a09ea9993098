package caddymodule

import (
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/recent"
)

// Audit events and alarms: log lines through Caddy's logger, and Caddy
// events (smsgate_<event>) for the events app's subscribers.

// audit writes one audit event to the log, numbers always masked, and
// emits it as a Caddy event (smsgate_<event>) for the events app's
// subscribers.
func (g *Gate) audit(event, user, e164 string, fields ...zap.Field) {
	fs := append([]zap.Field{zap.String("event", event), userField(user)}, fields...)
	if e164 != "" {
		fs = append(fs, zap.String("phone", phone.Mask(e164)))
	}
	g.logger.Info(event, fs...)
	g.emit(event, fs)
	if g.counting.recent != nil {
		g.counting.recent.Add(recentEvent(g.now(), event, user, e164, fields))
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
		case f.Type == zapcore.StringType:
			detail = append(detail, f.Key+"="+f.String)
		case f.Type == zapcore.Int64Type || f.Type == zapcore.Int32Type:
			detail = append(detail, f.Key+"="+strconv.FormatInt(f.Integer, 10))
		case f.Type == zapcore.BoolType:
			detail = append(detail, f.Key+"="+strconv.FormatBool(f.Integer == 1))
		}
	}
	e.Detail = strings.Join(detail, " ")
	return e
}

// alarm logs msg at level with an event field, and emits the event.
func (g *Gate) alarm(level zapcore.Level, event, msg string, fields ...zap.Field) {
	fs := append([]zap.Field{zap.String("event", event), zap.String("realm", g.Realm)}, fields...)
	if ce := g.logger.Check(level, msg); ce != nil {
		ce.Write(fs...)
	}
	g.emit(event, fs)
}

// emit sends the event smsgate_<event> with fs as its data, built only if
// the events app has a subscriber for it (ShouldEmit): most configs have
// none, and an audit event is on every sign-in.
func (g *Gate) emit(event string, fs []zap.Field) {
	name := "smsgate_" + event
	if g.events == nil || !g.events.ShouldEmit(name) {
		return
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fs {
		f.AddTo(enc)
	}
	g.events.Emit(g.ctx, name, enc.Fields)
}
