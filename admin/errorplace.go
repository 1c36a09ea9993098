package admin

import (
	"strconv"
	"strings"
)

// A place is where the error-route check is in a server's routes ("errors
// route 0, named route fan route 1"), spelt only when an error names it:
// the check follows a config whose named routes branch up to maxSteps
// routes deep, and spelling every route's place as it went (a string
// as long as the way to it, made at each of them) was most of that
// refusal's CPU (TestAnErrorRouteThatBranchesWithoutEndIsRefusedQuickly).
type place struct {
	up   *place // the place it is in (nil: the list's start)
	part string // what it adds to up's words
	k    int    // the route's index, after part (-1: none)
}

// String is the place in words, as an error gives it.
func (p *place) String() string {
	var b strings.Builder
	p.write(&b)
	return b.String()
}

func (p *place) write(b *strings.Builder) {
	if p.up != nil {
		p.up.write(b)
	}
	b.WriteString(p.part)
	if p.k >= 0 {
		b.WriteString(" " + strconv.Itoa(p.k))
	}
}
