// Package textsafe keeps text that users chose — their names, their
// devices' names — from rearranging or hiding what is shown around it.
// Direction overrides (U+202E), isolates, zero-width characters, line and
// paragraph separators (U+2028, U+2029) and control characters can make a
// log line, a table row or a text message read as something else. Stored
// names are cleaned with Strip; names that must stay as they are (an
// identity from the first factor) are escaped with Escape wherever they are
// shown, and JSON carries them as \u escapes (EscapeJSON).
package textsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Hidden reports whether r changes how the text around it is shown, or is
// not shown at all: control and format characters (Cc, Cf: direction
// marks, overrides and isolates, zero-width characters, the BOM, the soft
// hyphen, tags), line and paragraph separators (Zl, Zp), private-use and
// unassigned-surrogate code points, invalid UTF-8, and with Cf the rest of
// Unicode's Default_Ignorable_Code_Point: variation selectors (U+FE00-FE0F,
// U+E0100-E01EF, Mongolian's U+180B-180F) and the other default-ignorables
// (U+034F COMBINING GRAPHEME JOINER, the Hangul fillers U+115F, U+1160,
// U+3164, U+FFA0, U+17B4-17B5, reserved ones), which a directory's
// comparison drops (RFC 4518 §2.2): "alic\u034fe" shows, and logs in at
// LDAP, as "alice". So are the two others §2.2 maps to nothing, which show
// nothing where a name is read (attack34's F1): U+1806 MONGOLIAN TODO SOFT
// HYPHEN (shown only at a line's end) and U+FFFC OBJECT REPLACEMENT
// CHARACTER (a placeholder for an object that is not there).
func Hidden(r rune) bool {
	return r == utf8.RuneError || r == '\u1806' || r == '\ufffc' || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs,
		unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// Clean reports whether s holds nothing Hidden.
func Clean(s string) bool {
	return strings.IndexFunc(s, Hidden) < 0 && utf8.ValidString(s)
}

// Strip removes what is Hidden from s; a tab or a line break becomes a
// space.
func Strip(s string) string {
	if Clean(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case !Hidden(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Escape shows what is Hidden in s as \uXXXX or \UXXXXXXXX (invalid bytes
// as \xXX), so
// that it is seen, not obeyed. Backslashes are left alone: Escape is for
// showing, not for a round trip.
func Escape(s string) string {
	if Clean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case Hidden(r) && r > 0xFFFF:
			fmt.Fprintf(&b, `\U%08X`, r)
		case Hidden(r):
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// EscapeJSON rewrites the Hidden characters of encoded JSON as \u escapes
// (the same strings to a JSON reader, but harmless in a terminal). Outside
// strings JSON holds only ASCII, so every such character is inside one.
// Controls below U+0020 are escaped by every encoder already.
func EscapeJSON(raw []byte) []byte {
	if Clean(string(raw)) {
		return raw
	}
	out := make([]byte, 0, len(raw)+32)
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r >= 0x80 && Hidden(r) && !(r == utf8.RuneError && n <= 1) {
			if r > 0xFFFF { // a surrogate pair, as JSON writes them
				r1, r2 := utf16.EncodeRune(r)
				out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
		} else {
			out = append(out, raw[i:i+n]...)
		}
		i += n
	}
	return out
}

// Words is s made fit to go into a message someone else wrote (a text to a
// phone): letters and marks (none Hidden), and at most maxDigits digits in all, so that
// no link, address or number to call can be spelled with it; any other
// character ends a word. Runs of spaces become one; the result holds at
// most maxRunes runes (cut with "…").
//
// It works on the NFKC form, so that look-alike digits and dots
// (fullwidth "１", "．") are caught as what they read as.
func Words(s string, maxRunes, maxDigits int) string {
	s = norm.NFKC.String(s)
	digits := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		keep := !Hidden(r) && (unicode.IsLetter(r) || unicode.IsMark(r) || (unicode.IsDigit(r) && digits <= maxDigits))
		if !keep {
			space = b.Len() > 0
			continue
		}
		if n >= maxRunes {
			return strings.TrimSpace(b.String()) + "…"
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
