package pages

import (
	"regexp"
	"strings"
)

// What happened in words: an event's kind and its details (the fields its
// audit line holds, key=value) said in the page's language where the
// catalogue has words for them, else by their IDs (walk29, 48). The
// details hold no secret, code or whole number (audit.recentEvent keeps
// them so); this only says them.

// eventWords says an event's kind: "audit." and the kind, else the kind.
func (p *Pages) eventWords(lang, kind string) string {
	return p.sayOr(lang, "audit."+kind, kind)
}

// detailKey finds where each key=value of an event's details begins.
var detailKey = regexp.MustCompile(`(?:^| )([a-z_]+)=`)

// detailWords says an event's details, each "Label: value", joined by
// "; ": the label is "detail." and the key, the value "detail.", the key,
// "." and the value (a notice's without its "notice."), true and false
// "detail.yes" and "detail.no"; each else as it is.
func (p *Pages) detailWords(lang, detail string) string {
	at := detailKey.FindAllStringSubmatchIndex(detail, -1)
	if len(at) == 0 {
		return detail
	}
	said := make([]string, 0, len(at))
	for i, m := range at {
		key, end := detail[m[2]:m[3]], len(detail)
		if i+1 < len(at) {
			end = at[i+1][0]
		}
		value := detail[m[1]:end]
		var sv string
		switch value {
		case "true":
			sv = p.sayOr(lang, "detail.yes", value)
		case "false":
			sv = p.sayOr(lang, "detail.no", value)
		default:
			sv = p.sayOr(lang, "detail."+key+"."+strings.TrimPrefix(value, "notice."), value)
		}
		said = append(said, p.sayOr(lang, "detail."+key, key)+": "+sv)
	}
	return strings.Join(said, "; ")
}

// sayOr says id in lang, or else where the catalogue has no words for it
// (nor an ID could be: a value with spaces or capitals).
func (p *Pages) sayOr(lang, id, orElse string) string {
	if !idLike.MatchString(id) {
		return orElse
	}
	if s := p.Words.T(lang, id); s != id {
		return s
	}
	return orElse
}

// idLike is how a catalogue's ID looks.
var idLike = regexp.MustCompile(`^[a-z][a-z_]*(\.[a-z_]+)+$`)
