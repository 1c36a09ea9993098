package admin

import (
	"fmt"
	"strings"

	"github.com/smsgate/caddy-smsgate/internal/textsafe"
)

// maxEcho is the most bytes of a value the client sent that an admin
// error shows (as escaped): a user's name at its longest
// (signin.MaxIdentity) or a host name is shown whole.
const maxEcho = 256

// echo is a value the client sent (a realm, a user, an operation, a
// field's name) as an admin error shows it: what would rearrange or hide
// the text around it (control, direction, invisible characters, invalid
// UTF-8) escaped (textsafe.Escape), and cut after maxEcho bytes with how
// long it was. The admin API's errors echoed a realm whole (close19 Left
// 5): a megabyte back, and the CLI printed it to a terminal as it came,
// escape sequences obeyed.
func echo(s string) string {
	if len(s) <= maxEcho && textsafe.Clean(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		n := len(string(r))
		if r == '\uFFFD' && !strings.HasPrefix(s[i:], "\uFFFD") {
			n = 1 // an invalid byte, escaped as \xXX
		}
		part := textsafe.Escape(s[i : i+n])
		if b.Len()+len(part) > maxEcho {
			fmt.Fprintf(&b, "… (%d bytes)", len(s))
			break
		}
		b.WriteString(part)
	}
	return b.String()
}
