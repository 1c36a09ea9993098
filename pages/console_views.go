package pages

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/smsgate/caddy-smsgate/chart"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/recent"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
)

// The console's other pages: an invite's link and QR code, what happened,
// and what it costs.

// inviteOf is the invite admin.Site.Change made, with a QR code of its link.
func (p *Pages) inviteOf(req *request, out any) *inviteView {
	inv, _ := out.(map[string]string)
	v := &inviteView{URL: inv["url"], Expires: inv["expires"], Earlier: inv["earlier"] == "1"}
	if at, err := time.Parse(time.RFC3339, v.Expires); err == nil {
		// As the console's other times read (its sessions'): the date in
		// the reader's words, the minute, the gate's clock's zone (walk29:
		// "bis 2026-12-14T03:12:18Z" beside "7.12.2026").
		v.Expires = at.In(p.Now().Location()).Format(p.sayID(req, "date.format") + " 15:04 MST")
	}
	picture, err := enrollment.QRPNG(v.URL, 240)
	if err != nil {
		p.Logger.Error("drawing an invite's QR code", zap.Error(err))
		return v // the link alone
	}
	v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(picture))
	return v
}

// openInvite reports whether user holds an invite still open, read
// before the console mints another (enrollment.OpenInvite): its page says
// the earlier links no longer work only where one was (walk34's 61). A
// failed read says nothing of them.
func (p *Pages) openInvite(req *request, user string) bool {
	open, err := enrollment.OpenInvite(req.r.Context(), p.Site.Store, p.Site.Realm, user)
	if err != nil {
		p.Logger.Warn("reading whether an earlier invite was open", zap.Error(err))
	}
	return open
}

// markEarlier marks an invite just made (the admin API's answer) as one
// that ended an earlier open one, for the page after (inviteOf).
func markEarlier(made map[string]string, earlier bool) {
	if earlier && made != nil {
		made["earlier"] = "1"
	}
}

// day is a figures' day (2026-12-07) as the console's other dates read
// (date.format: 7 Dec 2026, 7.12.2026), walk34; as it is where it is none.
func (p *Pages) day(req *request, d string) string {
	at, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return at.Format(p.sayID(req, "date.format"))
}

// eventView is an audit event as the console lists it.
type eventView struct {
	Time, Kind, User, Phone, By, Detail string
	// Words is the kind said in the page's language where the catalogue
	// has it ("audit." and the kind), else the kind itself; Detail, its
	// details so said (eventwords.go).
	Words string
}

// consoleEvents is admin/events: the realm's recent audit events, newest
// first, filtered by user and kind.
func (p *Pages) consoleEvents(req *request, c *consoleView) int {
	q := req.r.URL.Query()
	c.EventUser, c.EventKind, c.EventKinds = q.Get("user"), q.Get("kind"), eventKinds
	filter := recent.Filter{User: c.EventUser}
	if i := slices.IndexFunc(eventKinds, func(k eventKind) bool { return k.Prefix == c.EventKind }); i >= 0 {
		filter.Kinds = eventKinds[i].prefixes()
	} else {
		c.EventKind = ""
	}
	if p.Site.Recent == nil {
		return http.StatusOK
	}
	list, err := p.Site.Recent.Read(req.r.Context(), filter, 200)
	if err != nil {
		p.Logger.Error("reading recent events", zap.Error(err))
		c.Error = p.sayID(req, "gate.unavailable")
		return http.StatusServiceUnavailable
	}
	format := p.sayID(req, "date.format") + " 15:04:05 MST" // the time zone too (walk29, 48)
	for _, e := range list {
		c.Events = append(c.Events, eventView{Time: e.Time.In(p.Now().Location()).Format(format), Kind: e.Kind, Words: p.eventWords(req.lang, e.Kind),
			User: textsafe.Escape(e.User), Phone: e.Phone, By: p.byWords(req.lang, e), Detail: textsafe.Escape(p.detailWords(req.lang, e.Detail))})
	}
	return http.StatusOK
}

// costsView is admin/costs: the charts (each with its table) and the
// totals.
type costsView struct {
	From, To, Currency string
	Texts, Calls       int64
	Cost               string
	Amount             string // Cost and Currency, joined by a no-break space: "0,32 €" never breaks (walk35's B2)
	Unpriced           int64
	PerDay, PerCountry template.HTML
	Countries          []countryCosts
	Paused             []string
}

// countryCosts is a country's line in the costs table.
type countryCosts struct {
	Country                                   string
	Texts, Calls, Delivered, Undelivered      int64
	Unknown, CodesSent, CodesUsed, PausedSend int64
	Conversion, Cost                          string
}

// consoleCosts is admin/costs: texts and calls per day for 30 days by
// country, by country and provider, receipts, conversion, cost.
func (p *Pages) consoleCosts(req *request, c *consoleView) int {
	f, err := p.Site.Figures(req.r.Context(), 30)
	if err != nil {
		p.Logger.Error("reading the figures for the console", zap.Error(err))
		c.Error = p.sayID(req, "gate.unavailable")
		return http.StatusServiceUnavailable
	}
	t := func(s string, args ...any) string { return p.Words.T(req.lang, s, args...) }
	v := &costsView{From: p.day(req, f.From), To: p.day(req, f.To), Currency: p.currencyWord(req, f.Currency), Texts: f.Total.Texts, Calls: f.Total.Calls, Cost: p.money(req, f.Total.Cost), Unpriced: f.Total.Unpriced}
	v.Amount = v.Cost + "\u00a0" + v.Currency
	// Per day, stacked by country (the five with most texts, the rest as one).
	var top []string
	for i, cn := range f.Countries {
		if i < chart.MaxSeries-1 {
			top = append(top, cn.Country)
		}
	}
	series := make([]chart.Series, len(top), len(top)+1)
	for i, cn := range top {
		series[i] = chart.Series{Name: cn}
	}
	other := chart.Series{Name: t(words.N("Other"))}
	var labels []string
	for _, d := range f.Days {
		labels = append(labels, p.day(req, d.Day))
		rest := float64(d.Texts + d.Calls)
		for i, cn := range top {
			n := float64(d.ByCountry[cn])
			series[i].Values = append(series[i].Values, n)
			rest -= n
		}
		other.Values = append(other.Values, max(rest, 0))
	}
	if len(f.Countries) > len(top) {
		series = append(series, other)
	}
	if len(series) == 0 {
		series = []chart.Series{{Name: t(words.N("Texts and calls")), Values: make([]float64, len(labels))}}
	}
	if v.PerDay, err = chart.Columns(chart.Chart{ID: "per-day", Title: t(words.N("Texts and calls per day")),
		Summary: t(words.N("Texts and calls sent each day of the last 30 days, by country; the table below holds every value.")),
		Labels:  labels, Series: series, LabelHeader: t(words.N("Day")), TotalHeader: t(words.N("Total")), Disclose: t(words.N("Show the numbers"))}); err != nil {
		p.Logger.Error("drawing a chart", zap.Error(err))
	}
	var names []string
	// Stacked: the codes used, and on them those never used (the bar is
	// every code sent).
	used, unused := chart.Series{Name: t(words.N("Codes used"))}, chart.Series{Name: t(words.N("Codes not used"))}
	for _, cn := range f.Countries {
		names = append(names, cn.Country)
		used.Values = append(used.Values, float64(cn.CodesUsed))
		unused.Values = append(unused.Values, float64(max(cn.CodesSent-cn.CodesUsed, 0)))
		row := countryCosts{Country: cn.Country, Texts: cn.Texts, Calls: cn.Calls, Delivered: cn.Delivered, Undelivered: cn.Undelivered,
			Unknown: cn.Unknown, CodesSent: cn.CodesSent, CodesUsed: cn.CodesUsed, PausedSend: cn.Paused, Conversion: "–", Cost: p.money(req, cn.Cost)}
		if cn.Conversion != nil {
			row.Conversion = fmt.Sprintf("%.0f %%", *cn.Conversion*100)
		}
		v.Countries = append(v.Countries, row)
	}
	if len(names) > 0 {
		if v.PerCountry, err = chart.Bars(chart.Chart{ID: "per-country", Title: t(words.N("Codes sent and used, by country")),
			Summary: t(words.N("Codes sent and codes typed in over the last 30 days, by country; the table below holds every value.")),
			Labels:  names, Series: []chart.Series{used, unused}, LabelHeader: t(words.N("Country")), TotalHeader: t(words.N("Codes sent"))}); err != nil {
			p.Logger.Error("drawing a chart", zap.Error(err))
		}
	}
	for _, pa := range f.Pumping.Pauses {
		if pa.Active(p.Now()) {
			v.Paused = append(v.Paused, pa.Place)
		}
	}
	c.Costs = v
	return http.StatusOK
}

// money writes an amount (figures: a decimal, 2 to 6 places) in the
// reader's language, its places kept: "0,43" in German (walk33: "0.43").
func (p *Pages) money(req *request, amount string) string {
	v, err := strconv.ParseFloat(amount, 64)
	if err != nil {
		return amount
	}
	places := 0
	if i := strings.IndexByte(amount, '.'); i >= 0 {
		places = len(amount) - i - 1
	}
	return message.NewPrinter(language.Make(req.lang)).Sprintf("%.*f", places, v)
}

// currencyWord names a currency (ISO 4217) as the reader's language
// writes it after an amount: German "0,43 €"; English keeps the code
// ("0.43 EUR"), as a symbol after the amount is not how English writes it.
func (p *Pages) currencyWord(req *request, code string) string {
	unit, err := currency.ParseISO(code)
	if err != nil || req.lang == "en" {
		return code
	}
	return message.NewPrinter(language.Make(req.lang)).Sprint(currency.NarrowSymbol(unit))
}

// withdrew says whether a removal's answer (admin's devices/remove)
// withdrew the user's recovery codes.
func withdrew(out any) bool {
	m, ok := out.(map[string]any)
	return ok && m[signin.CodesWithdrawn] == true
}
