package store_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
)

// tricky are the bytes that make a key hard to read back: the separator,
// the escape, what follows an escape, and a letter of more than one byte.
const tricky = "/%2Ff5zaé\x00"

// randomParts are n parts of up to 6 bytes drawn from tricky's.
func randomParts(r *rand.Rand, n int) []string {
	parts := make([]string, n)
	for i := range parts {
		var b strings.Builder
		for range r.IntN(7) {
			b.WriteByte(tricky[r.IntN(len(tricky))])
		}
		parts[i] = b.String()
	}
	return parts
}

// checkSplitKey checks SplitKey against Key for parts and for key, any
// string: the parts of a key Key built come back as they went in, and a
// key SplitKey reads is one Key builds from what it read (so anything else
// is refused).
func checkSplitKey(t *testing.T, parts []string, key string) {
	t.Helper()
	if len(parts) > 0 {
		if got, ok := store.SplitKey(store.Key(parts...)); !ok || !slices.Equal(got, parts) {
			t.Errorf("SplitKey(Key(%q)) = %q, %v", parts, got, ok)
		}
	}
	if got, ok := store.SplitKey(key); ok && store.Key(got...) != key {
		t.Errorf("SplitKey(%q) = %q, which Key joins to %q", key, got, store.Key(got...))
	}
}

// TestSplitKeyIsKeysInverse: SplitKey(Key(p...)) is p for any parts
// (empty ones, '/', '%', "%2F" as written, unicode), and a key Key does
// not write (an escape other than %2F and %25 as Key spells them) is
// refused.
func TestSplitKeyIsKeysInverse(t *testing.T) {
	for _, parts := range [][]string{
		{""}, {"", ""}, {"a", "", "b"}, {"/"}, {"%"}, {"%2F"}, {"%25"}, {"%2f"}, {"a/b", "c%d"},
		{"device", "réalm/ü", "100%"}, {"//", "%%"}, {"revoked", "r", "a%2Fb/"}, {"\x00/"},
	} {
		checkSplitKey(t, parts, "")
	}
	if got, ok := store.SplitKey(store.Key()); !ok || !slices.Equal(got, []string{""}) {
		t.Errorf("SplitKey(Key()) = %q, %v: want one empty part", got, ok)
	}
	for _, key := range []string{"a%zz", "a%", "a%2", "%2f", "a/b%2fc", "local%68ost", "%%2F", "%/2F", "a%c3%a9"} {
		if got, ok := store.SplitKey(key); ok {
			t.Errorf("SplitKey(%q) = %q: want refused (Key never writes it)", key, got)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		parts := randomParts(r, 1+r.IntN(4))
		checkSplitKey(t, parts, strings.Join(parts, ""))
	}
}

// FuzzSplitKey: as TestSplitKeyIsKeysInverse for what the fuzzer finds,
// parts as key cut at each NUL.
func FuzzSplitKey(f *testing.F) {
	for _, seed := range []string{"", "a/b", "%2F", "a\x00%2F\x00%", "%2f", "local%68ost", "é/%25"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSplitKey(t, strings.Split(s, "\x00"), s)
	})
}
