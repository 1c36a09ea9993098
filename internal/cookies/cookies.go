// Package cookies reads and cuts a request's Cookie lines on the gate's
// hot path: the session's value found, and the gate's cookies taken off
// before the upstream sees them, as net/http and common parsers read the
// lines, without allocating in the usual case.
package cookies

import (
	"net/http"
	"slices"
	"strings"
)

// Found is a cookie FindFirst found, and where: its Strip then needs
// neither to look the header up again nor to read the found part (a
// session token, most of the line) a second time. Its zero value found
// nothing.
type Found struct {
	Value    string
	lines    []string // h["Cookie"] as FindFirst saw it
	line     int      // 1 + the index of the line of the part name=value; 0: none
	from, to int      // the part: from its line's start or the ';' before it, to the ';' after it or the line's end
}

// FindFirst finds the cookie under the first of names (in their order)
// that h's Cookie lines carry with a value, in one pass over them: f is
// its value as net/http reads it (the name and the part trimmed of ASCII
// space, one pair of quotes taken off the value) and where its part is,
// for f.Strip; i is its index in names, -1 for none. As for
// http.Request.Cookie, each name's first cookie alone counts, so a name
// whose first is empty ("name=" or "name" alone) is passed over for the
// next name (past 64 names, a name's later cookies count too). A value
// net/http would refuse (a byte it does not allow) is returned as it is:
// a session token that is not one fails its check. It runs on every
// request, without http.Request.Cookie's allocations and without
// splitting the header: a gate looks its session up under several names
// (its own, and the shared ones a release before wrote).
func FindFirst(h http.Header, names []string) (f Found, i int) {
	lines := h["Cookie"]
	f, i = Found{lines: lines}, -1
	var seen uint64 // names whose first cookie was met (the first 64)
	for n, line := range lines {
		for from := 0; from <= len(line); {
			to := strings.IndexByte(line[from:], ';')
			if to < 0 {
				to = len(line)
			} else {
				to += from
			}
			part := trimSpaceLeft(line[from:to])
			name, v, eq := strings.Cut(part, "=")
			if k := slices.Index(names, trimSpaceRight(name)); k >= 0 && seen&(1<<k) == 0 && (i < 0 || k < i) {
				seen |= 1 << k // 0 for k ≥ 64
				if v = trimSpaceRight(v); len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				if eq && v != "" {
					f, i = Found{Value: v, lines: lines, line: n + 1, from: from, to: to}, k
					if k == 0 {
						return f, i
					}
				}
			}
			from = to + 1
		}
	}
	return f, i
}

// isSpace is ASCII space as net/http trims it around cookies
// (textproto.TrimString).
func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func trimSpaceLeft(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	return s
}

func trimSpaceRight(s string) string {
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// TagDigits is how many lowercase hex digits a realm's tag has after its
// "_" (a realm of its own's cookie names: pages.realmTag). In
// Found.Strip's names, one ending in # stands for itself and itself
// followed by a tag ("smsgate_session#": smsgate_session and
// smsgate_session_3f2a0b1c4d5e, not an upstream's own
// smsgate_session_extra or smsgate_sessions).
const TagDigits = 12

// Strip removes the named cookies from h's Cookie lines, h unchanged
// since FindFirst found f (whose name, if it found one, must be one of
// names), keeping all others as they were: every part whose name,
// trimmed as net/http and most parsers trim it, is one of names (a name
// ending in #: itself and itself with a realm's tag, TagDigits). f's
// part is dropped unread, and the header not looked up again; a zero
// Found strips h's lines as they are. It runs on every admitted request,
// so the usual case (smsgate's cookies before or after the others) takes
// a substring of the header, writes it where the line was, and allocates
// nothing.
func (f Found) Strip(h http.Header, names ...string) {
	lines := f.lines
	if f.line == 0 {
		lines = h["Cookie"]
	}
	kept := lines[:0] // rewritten in place
	for n, line := range lines {
		skip := span{-1, -1}
		if n == f.line-1 {
			skip = span{f.from, f.to}
		}
		if line = stripLine(line, names, skip); line != "" {
			kept = append(kept, line)
		}
	}
	switch {
	case len(kept) == len(lines):
		// The header's own slice holds the new lines.
	case len(kept) == 0:
		delete(h, "Cookie")
	default:
		h["Cookie"] = kept
	}
}

// span is a part of a line, from its first byte to the ';' after it (or
// the line's end).
type span struct{ from, to int }

// stripLine is one Cookie header line without the named cookies (and
// without empty parts); skip is a part known to be one of them.
func stripLine(line string, names []string, skip span) string {
	var keep [8]span // enough for most lines without allocating
	spans := keep[:0]
	gap := false // a dropped part between kept ones
	dropped := false
	for pos := 0; pos <= len(line); {
		if pos == skip.from {
			dropped = true
			pos = skip.to + 1
			continue
		}
		end := strings.IndexByte(line[pos:], ';')
		if end < 0 {
			end = len(line)
		} else {
			end += pos
		}
		from, to := pos, end
		for from < to && isSpace(line[from]) {
			from++
		}
		for to > from && isSpace(line[to-1]) {
			to--
		}
		name := line[from:to]
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			name = trimSpaceRight(name[:eq])
		}
		if from == to || named(names, name) {
			dropped = true
		} else {
			gap = gap || (dropped && len(spans) > 0)
			spans = append(spans, span{from, to})
		}
		pos = end + 1
	}
	switch {
	case len(spans) == 0:
		return ""
	case !gap:
		return line[spans[0].from:spans[len(spans)-1].to]
	}
	var b strings.Builder
	for i, sp := range spans {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(line[sp.from:sp.to])
	}
	return b.String()
}

// named reports whether name is one of names, a name ending in #
// standing for itself and itself with a realm's tag.
func named(names []string, name string) bool {
	for _, n := range names {
		if len(name) < len(n)-1 {
			continue // shorter than n and its pattern: most cookies, at once
		}
		if last := len(n) - 1; last >= 0 && n[last] == '#' {
			if tagged(n[:last], name) {
				return true
			}
		} else if n == name {
			return true
		}
	}
	return false
}

// tagged reports whether name is base, or base with a realm's tag.
func tagged(base, name string) bool {
	switch len(name) - len(base) {
	case 0:
		return name == base
	case 1 + TagDigits:
		return name[:len(base)] == base && name[len(base)] == '_' && tag(name[len(base)+1:])
	}
	return false // any other length (most cookies) at once
}

// tag reports whether s is lowercase hex digits alone.
func tag(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
