package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/smsgate/caddy-smsgate/figures"
)

// `caddy smsgate figures`: the figures as a summary and tables.

// figuresTable turns the figures (JSON) into a summary and tables by
// country and by provider, and the pauses in force.
func figuresTable(raw []byte) ([]byte, error) {
	var f FiguresAnswer
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	if f.Report == nil {
		return nil, errors.New("the answer holds no figures")
	}
	var b bytes.Buffer
	cost := func(t figures.Totals) string {
		s := t.Cost
		if f.Currency != "" {
			s += " " + f.Currency
		}
		if t.Unpriced > 0 {
			s += fmt.Sprintf(" (+%d unpriced)", t.Unpriced)
		}
		return s
	}
	conv := func(t figures.Totals) string {
		if t.Conversion == nil {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", *t.Conversion*100)
	}
	fmt.Fprintf(&b, "%s, %s to %s: %d texts, %d calls, estimated cost %s\n\n", f.Realm, f.From, f.To, f.Total.Texts, f.Total.Calls, cost(f.Total))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNTRY\tTEXTS\tCALLS\tDELIVERED\tUNDELIVERED\tUNKNOWN\tCODES SENT\tUSED\tCONVERSION\tPAUSED\tCOST")
	for _, c := range f.Countries {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%s\n", c.Country, c.Texts, c.Calls, c.Delivered, c.Undelivered, c.Unknown,
			c.CodesSent, c.CodesUsed, conv(c.Totals), c.Paused, cost(c.Totals))
	}
	fmt.Fprintln(tw, "\nPROVIDER\tTEXTS\tCALLS\tDELIVERED\tUNDELIVERED\tUNKNOWN")
	for _, p := range f.Providers {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", p.Provider, p.Texts, p.Calls, p.Delivered, p.Undelivered, p.Unknown)
	}
	if err := tw.Flush(); err != nil {
		return nil, err
	}
	if !f.Pumping.On {
		fmt.Fprintln(&b, "\nThe pumping guard is off.")
	}
	now := f.Pumping.At // the gate's clock: the pauses are in force by it
	if now.IsZero() {
		now = time.Now() // an earlier release's answer
	}
	for _, p := range f.Pumping.Pauses {
		if p.Active(now) {
			fmt.Fprintf(&b, "\nPAUSED: %s (%s) until %s: %d codes sent, %d used; pause %d today. Resume: caddy smsgate pumping-resume --place %s\n",
				p.Place, p.Kind, p.Until.Local().Format("2006-01-02 15:04"), p.Sent, p.Used, p.Trips, p.Place)
		}
	}
	return b.Bytes(), nil
}
