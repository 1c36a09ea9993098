package signin

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/smsgate/caddy-smsgate/internal/textsafe"
)

// TestTwinKeyIsStable: twinKey upper- and lower-cases a name before the
// folding (attack28's F1), and that changes the key (so a claim's key,
// twin/<realm>/<sha256>, and the snapshot's grouping) of no name but
// those that were twins all along: names holding (once NFKC-normalised)
// a Turkish ı or İ, now i as the case-blind logins have them
// (ToUpper("alıce") is ALICE, ToLower("ALİCE") alice), or a Cherokee
// capital, which x/text's folding sent to the small letter while it sends
// the small letter to the capital (golang/go#46101: Ꭰ and ꭰ had two
// keys). Casing and folding go rune by rune: every other rune, cased,
// folds as it did. "alíce" stays apart from alice.
func TestTwinKeyIsStable(t *testing.T) {
	t.Parallel()
	fold := cases.Fold()
	changed := func(r rune) bool {
		return r == 'ı' || r == 'İ' || r >= 0x13a0 && r <= 0x13f5 // Cherokee capitals: now the small letters' key
	}
	for r := rune(0); r <= unicode.MaxRune; r++ { // twinKey's casing and folding go rune by rune, after NFKC
		cased := unicode.ToLower(unicode.ToUpper(r))
		if cased == r || !utf8.ValidRune(r) {
			continue // the same rune folded: the same key
		}
		if now, was := fold.String(string(cased)), fold.String(string(r)); (now != was) != changed(r) {
			t.Errorf("%U %q: folds to %+q, was %+q", r, r, now, was)
		}
	}
	for _, twins := range [][]string{
		{"alice", "al\u0131ce", "AL\u0130CE", "ALICE", "al\U0001D6A4ce"},
		{"\u13a0\u13a1", "\uab70\uab71", "\u13a0\uab71"},
		{"alice", "alic\u034fe", "ALICE\ufe0f", "\u00adalice", "alice\U000E0100", "\u3164alice", "al\u200bice"},
		{"andr\u00e9", "andre\u034f\u0301", "ANDRE\u0301\ufe00"},
		// RFC 4518 §2.2 and §2.6.1 (attack34's F1): U+FFFC, U+1806 mapped
		// to nothing (and U+180E, a space in the RFC's Unicode 3.2, a format
		// character since 6.3: hidden, so no identity holds it), every
		// White_Space a space, runs of spaces one.
		{"alice", "alice\ufffc", "alic\u1806e", "\u180ealice", "ALICE\u3000"},
		{"mary smith", "mary  smith", "mary\u1680smith", " MARY\u3000SMITH ", "mary\tsmith", "mary\u000bsmith",
			"mary\u0085smith", "mary \u200b smith", "mary\u00a0\u2003smith", "mary\u2028smith"},
	} {
		for _, name := range twins[1:] {
			if twinKey(fold, name) != twinKey(fold, twins[0]) {
				t.Errorf("%+q and %+q: keys %+q, %+q; want one", name, twins[0], twinKey(fold, name), twinKey(fold, twins[0]))
			}
		}
	}
	for _, other := range []string{"al\u00edce", "alce", "alise", "al\u0131\u0307ce", "ali ce"} {
		if twinKey(fold, other) == twinKey(fold, "alice") {
			t.Errorf("%+q has alice's key", other)
		}
	}
}

// TestTwinKeyLeavesOutOnlyWhatIsHidden: twinKey leaves out what textsafe
// hides (attack33's F1: "alic\u034fe" was a key of its own; attack34's:
// U+FFFC, U+1806) and takes every White_Space for a space (attack34's:
// U+1680, which NFKC keeps; U+000B, U+000C, U+0085, which were left out);
// the key of a name holding no such character is what it was, every
// assigned rune tried.
func TestTwinKeyLeavesOutOnlyWhatIsHidden(t *testing.T) {
	t.Parallel()
	fold := cases.Fold()
	was := func(name string) string {
		return fold.String(strings.ToLower(strings.ToUpper(strings.TrimSpace(norm.NFKC.String(name)))))
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		name := "a" + string(r) + "b"
		switch {
		case unicode.In(r, unicode.Co, unicode.Cs) || !utf8.ValidRune(r):
			continue // hidden by their category, wholesale
		case unicode.Is(unicode.White_Space, r):
			if twinKey(fold, name) != "a b" {
				t.Errorf("%U, a space, gives %+q the key %+q", r, name, twinKey(fold, name))
			}
			continue
		case textsafe.Hidden(r):
			if twinKey(fold, name) != "ab" {
				t.Errorf("%U, hidden, is in the key: %+q", r, twinKey(fold, name))
			}
			continue
		case !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z):
			continue // unassigned
		}
		if now, before := twinKey(fold, name), was(name); now != before {
			t.Errorf("%U: the key of %+q is %+q, was %+q", r, name, now, before)
		}
	}
}
