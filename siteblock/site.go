// Package siteblock reads the Caddyfile site block a directive is in — its
// addresses, its directives and their matchers, where a gate sits among
// them — for the config mistakes only the site shows: a realm two sites
// share by accident, an identity nothing trusted sets, a gate that runs
// before the first factor, pages the app takes. Caddy shows a directive
// only its own tokens; the rest is read in read.go, and whatever cannot be
// read means "nothing known": a check never refuses on a guess.
package siteblock

import (
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

// Block is the site block a directive is in, as far as it can be read.
type Block struct {
	h httpcaddyfile.Helper
	// keys are the site's addresses as written; segments its directives'
	// tokens; both nil when unknown (or in a named route).
	keys     []string
	segments [][]token
	matchers map[string]caddy.ModuleMap
}

// Of is the site block of the directive h is parsing.
func Of(h httpcaddyfile.Helper) *Block {
	b := &Block{h: h}
	if h.IsNamedRoute() {
		return b
	}
	if keys, segs, ok := parentBlock(&h); ok {
		for _, k := range keys {
			b.keys = append(b.keys, k.text)
		}
		b.segments = segs
	}
	b.matchers = matcherDefs(&h)
	return b
}

// Host is the one host name of the site, if it has exactly one
// (`example.com`, `http://localhost:8080`); none for `:80`, `http://`,
// `*.example.com`, placeholders or several addresses.
func (b *Block) Host() (string, bool) {
	addr, ok := b.address()
	if !ok {
		return "", false
	}
	return strings.ToLower(strings.TrimSuffix(addr.Host, ".")), true
}

// Origin is the scheme, host and port of the site's one address, for the
// links the admin's tools print (https unless the address says http).
func (b *Block) Origin() (string, bool) {
	addr, ok := b.address()
	if !ok {
		return "", false
	}
	scheme := addr.Scheme
	if scheme == "" {
		scheme = "https"
		if addr.Port == "80" {
			scheme = "http"
		}
	}
	origin := scheme + "://" + cfutil.ASCIIHost(strings.ToLower(strings.TrimSuffix(addr.Host, ".")))
	if addr.Port != "" && !(scheme == "https" && addr.Port == "443") && !(scheme == "http" && addr.Port == "80") {
		origin += ":" + addr.Port
	}
	return origin, true
}

// address is the site block's one address with a single host name.
func (b *Block) address() (httpcaddyfile.Address, bool) {
	if len(b.keys) != 1 {
		return httpcaddyfile.Address{}, false
	}
	addr, err := httpcaddyfile.ParseAddress(b.keys[0])
	if err != nil || addr.Host == "" || strings.ContainsAny(addr.Host, "*{}") {
		return httpcaddyfile.Address{}, false
	}
	return addr, true
}

// ErrAt is err at the line of tok, as Caddy's own Caddyfile errors say it
// (Caddyfile:12 - …); nil for nil.
func ErrAt(tok caddyfile.Token, err error) error {
	if err == nil {
		return nil
	}
	d := caddyfile.NewDispenser([]caddyfile.Token{tok})
	d.Next()
	return d.WrapErr(err)
}

// errAt is err at the line of t.
func errAt(t token, err error) error { return ErrAt(t.caddyToken(), err) }

// caddyToken is t as Caddy's errors and warnings name a place.
func (t token) caddyToken() caddyfile.Token {
	return caddyfile.Token{File: t.file, Line: t.line, Text: t.text}
}

// WarnAt is warn of err at tok.
func WarnAt(tok caddyfile.Token, err error) { warn(tok, "%v", err) }

// warn tells the operator, at adapt time, of a mistake that may be meant,
// with its file and line: as Caddy logs its adapter's warnings (`caddy
// adapt`, `caddy run` and `caddy reload` print it where they adapt; a
// config posted to the admin API logs it in Caddy's log).
func warn(tok caddyfile.Token, format string, args ...any) {
	caddy.Log().Named("caddyfile").Warn("smsgate: "+fmt.Sprintf(format, args...),
		zap.String("file", tok.File), zap.Int("line", tok.Line))
}
