package caddymodule

import (
	"github.com/smsgate/caddy-smsgate/phone"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
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
	if g.events != nil {
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range fs {
			f.AddTo(enc)
		}
		g.events.Emit(g.ctx, "smsgate_"+event, enc.Fields)
	}
}

// alarm logs msg at level with an event field, and emits the event.
func (g *Gate) alarm(level zapcore.Level, event, msg string, fields ...zap.Field) {
	fs := append([]zap.Field{zap.String("event", event), zap.String("realm", g.Realm)}, fields...)
	if ce := g.logger.Check(level, msg); ce != nil {
		ce.Write(fs...)
	}
	if g.events != nil {
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range fs {
			f.AddTo(enc)
		}
		g.events.Emit(g.ctx, "smsgate_"+event, enc.Fields)
	}
}
