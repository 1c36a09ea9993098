package cookies

import (
	"net/http"
	"strings"
)

// Find is the tests' reference for FindFirst, written another way: the
// first cookie named name in h's Cookie lines, its value and where its
// part is, found by searching the line for the name (and checking that
// it begins a part) where FindFirst splits the line into parts. It was
// the gate's look before FindFirst, one pass per name; the benchmarks
// still measure that way ("in-turn").
func Find(h http.Header, name string) Found {
	lines := h["Cookie"]
	for n, line := range lines {
		for at := 0; ; {
			i := strings.Index(line[at:], name)
			if i < 0 {
				break
			}
			i += at
			at = i + len(name)
			from, ok := partStart(line, i)
			if !ok {
				continue // inside another cookie's name or value
			}
			rest := trimSpaceLeft(line[at:])
			if rest == "" || rest[0] == ';' {
				return Found{lines: lines} // the name alone: net/http's empty value
			}
			if rest[0] != '=' {
				continue // a longer name
			}
			v := rest[1:]
			to := len(line)
			if end := strings.IndexByte(v, ';'); end >= 0 {
				to -= len(v) - end
				v = v[:end]
			}
			v = trimSpaceRight(v)
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return Found{Value: v, lines: lines, line: n + 1, from: from, to: to}
		}
	}
	return Found{lines: lines}
}

// partStart reports whether line[i] begins a cookie: only ASCII space
// between it and the line's start or the previous ';'; from is where its
// part begins (past that ';').
func partStart(line string, i int) (from int, ok bool) {
	for i > 0 && isSpace(line[i-1]) {
		i--
	}
	if i > 0 && line[i-1] != ';' {
		return 0, false
	}
	return i, true
}
