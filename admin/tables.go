package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/session"
)

// What `caddy smsgate users` and `sessions` print: aligned tables, names
// shown, not obeyed (no direction override rearranges a row).

// tables turn a command's JSON into what it prints without --json.
var tables = map[string]func([]byte) ([]byte, error){"users": usersTable, "figures": figuresTable, "sessions": sessionsTable}

// usersTable turns the users listing (JSON) into an aligned table: a row
// per device (phone or authenticator app), numbers masked.
func usersTable(raw []byte) ([]byte, error) {
	var users []enrollment.UserInfo
	if err := json.Unmarshal(raw, &users); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tKIND\tPHONE\tID\tNAME\tLAST USED\tRECOVERY CODES LEFT")
	for _, u := range users {
		for i, d := range u.Devices {
			left := ""
			if i == 0 {
				left = strconv.Itoa(u.RecoveryLeft)
			}
			last := "never"
			if !d.LastUsed.IsZero() {
				last = d.LastUsed.Format("2006-01-02 15:04")
			}
			kind, phone := d.Kind.Name(), d.Phone
			switch {
			case !d.IsPhone():
				phone = "-"
			case phone == "":
				phone = "(hash only)"
			}
			// Names as they are shown, not obeyed: no direction override
			// rearranges the row. A device its user did not name is
			// "Phone 2" (Device.Label, in English).
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", textsafe.Escape(u.User), kind, phone, d.ID, textsafe.Escape(d.Label(nil, "en")), last, left)
		}
	}
	if err := tw.Flush(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// sessionsTable turns a user's sessions (JSON) into a table, newest first.
func sessionsTable(raw []byte) ([]byte, error) {
	var list []session.Info
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return []byte("No sessions listed (sessions from before this release are not; revoke ends them).\n"), nil
	}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSIGNED IN\tEXPIRES\tHOW\tHOST\tBROWSER")
	for _, s := range list {
		how := factor.Join(s.AMR, "+")
		if s.Trusted {
			how += " (trusted browser)"
		}
		browser, host := strings.TrimSpace(s.Where.Browser+" "+s.Where.System), s.Where.Host
		if browser == "" {
			browser = "-"
		}
		if host == "" {
			host = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.SID, s.Issued.Local().Format("2006-01-02 15:04"), s.Expires.Local().Format("2006-01-02 15:04"),
			textsafe.Escape(how), textsafe.Escape(host), textsafe.Escape(browser))
	}
	if err := tw.Flush(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
