package siteblock

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

// Caddy hands a directive its own tokens and nothing of the site block
// around it: its Helper keeps the block (parentBlock) and the named
// matchers in scope (matcherDefs) in fields it does not export, and no
// API gives them out. They are read here, and only here, by reflection,
// field by field through reflect's read-only accessors: no unsafe, and
// nothing of Caddy's is ever written. A Caddy whose Helper or tokens look
// otherwise yields nothing, and the checks that would have used them say
// nothing (TestReadsTheSiteBlock fails first, so that an upgrade of Caddy
// that loses them is noticed).

// token is a Caddyfile token as the checks read it.
type token struct {
	file, text string
	line       int
	// chain is the import chain the token came through ("" when written
	// in place): tokens of two chains are never on one line.
	chain string
	// quote is the quote the token was written in (0 for none; '<' for a
	// heredoc); a quoted brace opens no block.
	quote rune
}

// lastLine is the line the token ends on.
func (t token) lastLine() int {
	n := t.line + strings.Count(t.text, "\n")
	if t.quote == '<' {
		n += 2 // a heredoc's delimiters have lines of their own (as caddyfile.Token.NumLineBreaks counts)
	}
	return n
}

// brace reports whether t is the unquoted brace b.
func (t token) brace(b string) bool { return t.quote == 0 && t.text == b }

// sameLine reports whether b is on the line a ends on (as Caddy's
// dispenser judges it).
func sameLine(a, b token) bool {
	return a.file == b.file && a.chain == b.chain && a.lastLine() >= b.line
}

// field is the unexported field name of Caddy's Helper, or an invalid
// Value when this Caddy has none.
func field(h *httpcaddyfile.Helper, name string) reflect.Value {
	return reflect.ValueOf(h).Elem().FieldByName(name)
}

// parentBlock is the site block's addresses and segments (each a
// directive's tokens), or false.
func parentBlock(h *httpcaddyfile.Helper) (keys []token, segments [][]token, ok bool) {
	b := field(h, "parentBlock")
	if b.Kind() != reflect.Struct {
		return nil, nil, false
	}
	keys, ok = tokens(b.FieldByName("Keys"))
	segs := b.FieldByName("Segments")
	if !ok || segs.Kind() != reflect.Slice {
		return nil, nil, false
	}
	for i := range segs.Len() {
		seg, ok := tokens(segs.Index(i))
		if !ok {
			return nil, nil, false
		}
		segments = append(segments, seg)
	}
	return keys, segments, true
}

// tokens reads a []caddyfile.Token.
func tokens(v reflect.Value) ([]token, bool) {
	if v.Kind() != reflect.Slice {
		return nil, false
	}
	out := make([]token, v.Len())
	for i := range out {
		t := v.Index(i)
		if t.Kind() != reflect.Struct {
			return nil, false
		}
		file, line, text := t.FieldByName("File"), t.FieldByName("Line"), t.FieldByName("Text")
		imports, quote := t.FieldByName("imports"), t.FieldByName("wasQuoted")
		if file.Kind() != reflect.String || line.Kind() != reflect.Int || text.Kind() != reflect.String ||
			imports.Kind() != reflect.Slice || quote.Kind() != reflect.Int32 {
			return nil, false
		}
		var chain []string
		for j := range imports.Len() {
			chain = append(chain, imports.Index(j).String())
		}
		out[i] = token{file: file.String(), line: int(line.Int()), text: text.String(), chain: strings.Join(chain, "\n"), quote: rune(quote.Int())}
	}
	return out, true
}

// matcherDefs are the named matchers in scope (@name → its matcher set).
func matcherDefs(h *httpcaddyfile.Helper) map[string]caddy.ModuleMap {
	defs := field(h, "matcherDefs")
	if defs.Kind() != reflect.Map || defs.Type().Key().Kind() != reflect.String {
		return nil
	}
	out := map[string]caddy.ModuleMap{}
	for it := defs.MapRange(); it.Next(); {
		set := it.Value()
		if set.Kind() != reflect.Map || set.Type().Key().Kind() != reflect.String || set.Type().Elem().Kind() != reflect.Slice {
			return nil
		}
		m := caddy.ModuleMap{}
		for jt := set.MapRange(); jt.Next(); {
			m[jt.Key().String()] = json.RawMessage(append([]byte(nil), jt.Value().Bytes()...))
		}
		out[it.Key().String()] = m
	}
	return out
}
