package pages

import (
	"cmp"
	"strings"

	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/recent"
	"github.com/smsgate/caddy-smsgate/words"
)

// Who did it, in words, for the console's what happened: an event's "by"
// is the admin who made a change in the console, or a reason the gate
// gave; empty, it was someone the kind of event names (walk33: a resume
// from the CLI showed an empty "By"). Every kind of event the code can
// emit has one (TestEveryEventKindHasAnActor).

// byKinds are the reasons a "by" may hold (not an admin's name: an admin
// named like one is still shown by her name where the console wrote it).
var byKinds = map[string]string{"provisioned_number_lost": "by.provisioned_number_lost"}

// actorPrefixes name who acts in events of kinds beginning with each
// prefix, when their "by" is empty (the longest prefix wins). Every kind
// the code emits is under one (TestEveryEventKindHasAnActor: no catch-all,
// so a new kind is named, not guessed; review34 R4).
var actorPrefixes = map[string]string{
	"admin_":                   "by.admin_api", // the admin API, which the CLI calls (the console's name the admin)
	"pumping_resumed":          "by.admin_api",
	"store_accepted":           "by.admin_api",
	"pumping_paused":           "by.pumping_guard",
	"provisioned_":             "by.config",
	"added_devices_kept":       "by.config",
	"browser_untrusted":        "by.user",
	"device_":                  "by.user",
	"enrolled":                 "by.user",
	"invite_used":              "by.user",
	"recovery_code_used":       "by.user",
	"recovery_codes_renewed":   "by.user",
	"signed_in_trusted":        "by.user",
	"signed_out":               "by.user",
	"verified":                 "by.user",
	"code_sent":                "by.user",
	"verify_failed":            "by.user", // a wrong code she (or a thief) typed
	"recovery_codes_withdrawn": "by.gate",
	"invites_ended":            "by.gate", // an undone adding's (signin's endUndoneMinted)
	"session_replaced":         "by.gate", // a sign-in in its browser handed it another (signin.Ends.EndReplaced)
	"enrollment_refused_case":  "by.gate",
	"code_unconfirmed":         "by.gate",
	"console_refused":          "by.gate",
	"delivery_":                "by.gate",
	"handed_off":               "by.gate",
	"limit_hit":                "by.gate",
	"locked_out":               "by.gate",
	"not_enrolled":             "by.gate",
	"notice_sent":              "by.gate",
	"number_refused":           "by.gate",
	"secret_":                  "by.gate",
	"sim_swap":                 "by.gate",
	"store_":                   "by.gate",
}

// actorID is the words' ID of who acted in an event of kind whose "by" is
// empty, or "" for a kind none names.
func actorID(kind string) string {
	best := ""
	for prefix := range actorPrefixes {
		if strings.HasPrefix(kind, prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	return actorPrefixes[best]
}

// byWords says who did e, in lang.
func (p *Pages) byWords(lang string, e recent.Event) string {
	if e.By == "" {
		return p.Words.Render(lang, words.Text{ID: cmp.Or(actorID(e.Kind), "by.gate")}) // a kind of a newer release
	}
	if id, ok := byKinds[e.By]; ok {
		return p.sayOr(lang, id, e.By)
	}
	return textsafe.Escape(e.By)
}
