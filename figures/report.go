package figures

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
)

// Report is a realm's figures over its last days, as the admin API
// answers them and the console draws them.
type Report struct {
	Realm string `json:"realm"`
	// From and To are the first and the last day (UTC), To being today.
	From string `json:"from"`
	To   string `json:"to"`
	// Currency is what costs are in ("" when none was set).
	Currency string `json:"currency,omitempty"`
	// Total is every figure of the period.
	Total Totals `json:"total"`
	// Days are the period's days, oldest first, every day present.
	Days []Day `json:"days"`
	// Countries and Providers are the period's figures by country and by
	// provider, the most texts and calls first.
	Countries []Country  `json:"countries"`
	Providers []Provider `json:"providers"`
}

// Totals are the figures of one day, country, provider or period.
type Totals struct {
	// Texts and Calls a provider accepted.
	Texts int64 `json:"texts"`
	Calls int64 `json:"calls"`
	// Delivered and Undelivered are receipts; Unknown are texts and calls
	// no receipt spoke of (every one, with a gateway that sends none).
	Delivered   int64 `json:"delivered"`
	Undelivered int64 `json:"undelivered"`
	Unknown     int64 `json:"unknown"`
	// CodesSent and CodesUsed are codes sent and codes typed in;
	// Conversion is CodesUsed ÷ CodesSent (absent without codes sent).
	CodesSent  int64    `json:"codes_sent"`
	CodesUsed  int64    `json:"codes_used"`
	Conversion *float64 `json:"conversion,omitempty"`
	// Paused are sends the pumping guard refused.
	Paused int64 `json:"paused"`
	// Cost is the estimate (a decimal in Currency) of the priced texts
	// and calls; Unpriced are those with no price set.
	Cost     string `json:"cost"`
	Unpriced int64  `json:"unpriced"`

	cost micro
}

// Day is one day's figures, with its texts and calls by country and by
// provider.
type Day struct {
	Day string `json:"day"`
	Totals
	ByCountry  map[string]int64 `json:"by_country"`
	ByProvider map[string]int64 `json:"by_provider"`
}

// Country is a country's figures (ISO 3166 code; ZZ: unknown).
type Country struct {
	Country string `json:"country"`
	Totals
}

// Provider is a provider's figures.
type Provider struct {
	Provider string `json:"provider"`
	Totals
}

// MaxDays is the longest report: the days a record is kept.
const MaxDays = 30

// Read reports realm's figures of the n days up to today (1 to MaxDays)
// from st, priced by costs (nil: no prices).
func Read(ctx context.Context, st store.Store, realm string, costs *Costs, today time.Time, n int) (*Report, error) {
	n = min(max(n, 1), MaxDays)
	prices, err := costs.table()
	if err != nil {
		return nil, err
	}
	names, rows, err := days(ctx, st, realm, today, n)
	if err != nil {
		return nil, err
	}
	r := &Report{Realm: realm, From: names[0], To: names[n-1], Days: make([]Day, n)}
	if costs != nil {
		r.Currency = costs.Currency
	}
	countries, providers := map[string]*Totals{}, map[string]*Totals{}
	at := func(m map[string]*Totals, k string) *Totals {
		if m[k] == nil {
			m[k] = &Totals{}
		}
		return m[k]
	}
	for i, day := range rows {
		d := &r.Days[i]
		d.Day, d.ByCountry, d.ByProvider = names[i], map[string]int64{}, map[string]int64{}
		// What the receipts left unsaid, per country and provider.
		receipts := map[[2]string]int64{}
		for row, n := range day {
			where := []*Totals{&d.Totals, &r.Total, at(countries, row.Country)}
			if row.Provider != "" {
				where = append(where, at(providers, row.Provider))
			}
			for _, t := range where {
				t.add(row, n, prices)
			}
			switch row.Kind {
			case Sent:
				d.ByCountry[row.Country] += n
				d.ByProvider[row.Provider] += n
				receipts[[2]string{row.Country, row.Provider}] += n
			case Delivered, Undelivered:
				receipts[[2]string{row.Country, row.Provider}] -= n
			}
		}
		for k, n := range receipts {
			if n <= 0 {
				continue
			}
			for _, t := range []*Totals{&d.Totals, &r.Total, at(countries, k[0]), at(providers, k[1])} {
				t.Unknown += n
			}
		}
		d.finish()
	}
	r.Total.finish()
	for k, t := range countries {
		t.finish()
		r.Countries = append(r.Countries, Country{Country: k, Totals: *t})
	}
	for k, t := range providers {
		t.finish()
		r.Providers = append(r.Providers, Provider{Provider: k, Totals: *t})
	}
	slices.SortFunc(r.Countries, func(a, b Country) int { return byVolume(a.Totals, b.Totals, a.Country, b.Country) })
	slices.SortFunc(r.Providers, func(a, b Provider) int { return byVolume(a.Totals, b.Totals, a.Provider, b.Provider) })
	if r.Countries == nil {
		r.Countries = []Country{}
	}
	if r.Providers == nil {
		r.Providers = []Provider{}
	}
	return r, nil
}

// add counts n of row in t, and prices a send.
func (t *Totals) add(row Row, n int64, prices table) {
	switch row.Kind {
	case Sent:
		if row.Channel == factor.ChannelVoice {
			t.Calls += n
		} else {
			t.Texts += n
		}
		if p, ok := prices.price(row.Country, row.Channel); ok {
			t.cost += p * micro(n)
		} else {
			t.Unpriced += n
		}
	case Delivered:
		t.Delivered += n
	case Undelivered:
		t.Undelivered += n
	case CodesSent:
		t.CodesSent += n
	case CodesUsed:
		t.CodesUsed += n
	case Paused:
		t.Paused += n
	}
}

// finish works out what t's counts imply.
func (t *Totals) finish() {
	t.Cost = t.cost.String()
	if t.CodesSent > 0 {
		c := min(float64(t.CodesUsed)/float64(t.CodesSent), 1)
		t.Conversion = &c
	}
}

// byVolume orders the most texts and calls first, then by name.
func byVolume(a, b Totals, an, bn string) int {
	if c := cmp.Compare(b.Texts+b.Calls, a.Texts+a.Calls); c != 0 {
		return c
	}
	return cmp.Compare(an, bn)
}
