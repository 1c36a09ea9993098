package figures

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/nyaruka/phonenumbers"

	"github.com/smsgate/caddy-smsgate/factor"
)

// Costs is what the admin says a text or a call costs, for the figures'
// estimates (`costs` in a Caddyfile). smsgate has no prices of its own:
// gateways' prices differ by account, volume and month, and a wrong
// built-in price would be worse than none. Without a price, a country's
// texts are counted and marked unpriced, and no cost is shown for them.
type Costs struct {
	// The currency prices are in, shown with every cost (e.g. EUR).
	// Default: none shown.
	Currency string `json:"currency,omitempty"`
	// Prices by country (ISO 3166 code, or "*" for every country not
	// named) and channel ("sms": a text; "voice": a call, which reads the
	// code twice: about a minute at most gateways): the price of one, as
	// a decimal string ("0.0450"). Default: none.
	Prices map[string]map[factor.Channel]string `json:"prices,omitempty"`
}

// micro is a millionth of the currency: prices and costs are counted in
// whole micros, never in floating point.
type micro int64

// maxPrice bounds a price (a typo of a few zeros must not be believed).
const maxPrice = 1000 * 1_000_000

// parsePrice reads a decimal price of at most six decimals.
func parsePrice(s string) (micro, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	if len(frac) > 6 || strings.ContainsAny(whole+frac, "+-") {
		return 0, fmt.Errorf("price %q: want a decimal such as 0.045, of at most six decimals", s)
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	if err1 != nil || err2 != nil || w > maxPrice/1_000_000 {
		return 0, fmt.Errorf("price %q: want a decimal such as 0.045, at most %d", s, maxPrice/1_000_000)
	}
	return micro(w*1_000_000 + f), nil
}

// String writes m as a decimal: at least two decimals, at most six.
func (m micro) String() string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	frac := strings.TrimRight(fmt.Sprintf("%06d", int64(m%1_000_000)), "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return fmt.Sprintf("%s%d.%s", sign, int64(m/1_000_000), frac)
}

// table is a checked price list: country → channel → price.
type table map[string]map[factor.Channel]micro

// table reads the prices, or says which one is wrong.
func (c *Costs) table() (table, error) {
	t := table{}
	if c == nil {
		return t, nil
	}
	for country, byChannel := range c.Prices {
		key := strings.ToUpper(country)
		if key != "*" && !phonenumbers.GetSupportedRegions()[key] {
			return nil, fmt.Errorf("costs: %q is not a country code such as GB, or *", country)
		}
		for channel, s := range byChannel {
			if err := channel.Check(); err != nil {
				return nil, fmt.Errorf("costs: %v", err)
			}
			p, err := parsePrice(s)
			if err != nil {
				return nil, fmt.Errorf("costs: %s %s: %v", country, channel, err)
			}
			if t[key] == nil {
				t[key] = map[factor.Channel]micro{}
			}
			t[key][channel] = p
		}
	}
	return t, nil
}

// Check reports a price list that cannot be read.
func (c *Costs) Check() error {
	_, err := c.table()
	return err
}

// price is the price of one send to country on channel, if one is set.
func (t table) price(country string, channel factor.Channel) (micro, bool) {
	if p, ok := t[country][channel]; ok {
		return p, true
	}
	p, ok := t["*"][channel]
	return p, ok
}

// UnmarshalCaddyfile reads the costs option:
//
//	costs {
//	    currency <code>
//	    price    <country|*> <sms|voice> <price>
//	}
//
// The dispenser is at the option's name. price may be given once per
// country and channel.
func (c *Costs) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "currency":
			if c.Currency != "" {
				return d.Errf("costs: currency is given twice")
			}
			if !d.AllArgs(&c.Currency) {
				return d.ArgErr()
			}
		case "price":
			var country, word, price string
			if !d.AllArgs(&country, &word, &price) {
				return d.Errf("costs: price takes a country (or *), a channel and a price: price GB sms 0.045")
			}
			channel, err := factor.ParseChannel(word)
			if err != nil {
				return d.Errf("costs: %v", err)
			}
			country = strings.ToUpper(country)
			if _, ok := c.Prices[country][channel]; ok {
				return d.Errf("costs: price %s %s is given twice", country, channel)
			}
			one := Costs{Prices: map[string]map[factor.Channel]string{country: {channel: price}}}
			if err := one.Check(); err != nil {
				return d.Err(err.Error()) // on the price's line
			}
			if c.Prices == nil {
				c.Prices = map[string]map[factor.Channel]string{}
			}
			if c.Prices[country] == nil {
				c.Prices[country] = map[factor.Channel]string{}
			}
			c.Prices[country][channel] = price
		default:
			return d.Errf("costs: unknown option %q: use currency or price", d.Val())
		}
	}
	return nil
}
