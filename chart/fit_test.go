package chart

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/smsgate/caddy-smsgate/words"
)

// consoleCharts are the console's two charts as it draws them in lang
// (pages' consoleCosts): 30 days of texts by country with "Other", and
// codes used and not used by country; then the reviewed examples, and a
// legend of six long names, which wraps.
func consoleCharts(lang string) map[string]func() (string, error) {
	t := func(s string) string { return words.English.T(lang, s) }
	perDay := Chart{ID: lang + "-per-day", Title: t("Texts and calls per day"), Summary: "s", LabelHeader: t("Day"), TotalHeader: t("Total")}
	for _, cn := range []string{"US", "DE", "GB", "FR", "NL"} {
		perDay.Series = append(perDay.Series, Series{Name: cn})
	}
	perDay.Series = append(perDay.Series, Series{Name: t("Other")})
	for i := range 30 {
		perDay.Labels = append(perDay.Labels, fmt.Sprintf("2026-%02d-%02d", 11+(i+8)/31, (i+8)%31+1))
		for s := range perDay.Series {
			perDay.Series[s].Values = append(perDay.Series[s].Values, float64((i*(s+3))%7)*140)
		}
	}
	perCountry := Chart{ID: lang + "-per-country", Title: t("Codes sent and used, by country"), Summary: "s",
		Labels: []string{"US", "DE", "GB"}, LabelHeader: t("Country"), TotalHeader: t("Codes sent"),
		Series: []Series{{Name: t("Codes used"), Values: []float64{5, 1, 1}}, {Name: t("Codes not used"), Values: []float64{12345, 0, 0}}}}
	long := outcomes()
	long.ID, long.Series = lang+"-long", nil
	for i := range MaxSeries {
		long.Series = append(long.Series, Series{Name: fmt.Sprintf("%s %d", t("Codes not used"), i), Values: []float64{1, 2}})
	}
	examples, bars, costs := days(), outcomes(), days()
	examples.ID, bars.ID, costs.ID = lang+"-columns", lang+"-bars", lang+"-costs"
	costs.Format = func(v float64) string { return fmt.Sprintf("EUR %.2f", v*1000) }
	// Each its own title, as on a page: a chart's box that scrolls is a
	// region named by it, and axe asks each region a name of its own.
	for _, c := range []*Chart{&perDay, &perCountry, &examples, &bars, &long, &costs} {
		c.Title += " (" + c.ID + ")"
	}
	return map[string]func() (string, error){
		"per-day":     func() (string, error) { h, err := Columns(perDay); return string(h), err },
		"per-country": func() (string, error) { h, err := Bars(perCountry); return string(h), err },
		"columns":     func() (string, error) { h, err := Columns(examples); return string(h), err },
		"bars":        func() (string, error) { h, err := Bars(bars); return string(h), err },
		"long legend": func() (string, error) { h, err := Bars(long); return string(h), err },
		"costs":       func() (string, error) { h, err := Columns(costs); return string(h), err },
	}
}

// TestEveryLabelFits: in English and German, every text of each chart
// (legend, axes, labels, totals) lies inside its SVG's viewBox, its box
// estimated as the chart places it (textWidth, its font size, its anchor),
// and the console's legends are whole (wrapped, not cut). Before, the last
// day's label ran off the right edge and "Nicht verwendete Codes" was cut
// to "Nicht verwendet…" (walk29, 49 and 73).
func TestEveryLabelFits(t *testing.T) {
	for _, lang := range []string{"en", "de"} {
		for name, draw := range consoleCharts(lang) {
			out, err := draw()
			if err != nil {
				t.Fatal(err)
			}
			doc, err := html.Parse(strings.NewReader("<!doctype html><body>" + out))
			if err != nil {
				t.Fatal(err)
			}
			texts := 0
			for _, svg := range findAll(doc, "svg") {
				// Without a viewBox the image is as wide as its box: a
				// phone's, 300 px, or a Columns' 640 (40rem, from-end),
				// and as high as its height; its scale as wide as it says.
				var vb [4]float64
				for i, f := range strings.Fields(attr(svg, "viewBox")) {
					vb[i], _ = strconv.ParseFloat(f, 64)
				}
				if attr(svg, "viewBox") == "" {
					vb[2] = 300
					if strings.Contains(attr(svg.Parent, "class"), "from-end") {
						vb[2] = 640
					}
					if w := attr(svg, "width"); w != "" {
						vb[2], _ = strconv.ParseFloat(w, 64)
					}
					vb[3], _ = strconv.ParseFloat(attr(svg, "height"), 64)
				}
				var walk func(*html.Node)
				walk = func(n *html.Node) {
					if n.Type == html.ElementNode && n.Data == "text" {
						texts++
						x, _ := strconv.ParseFloat(strings.TrimSuffix(attr(n, "x"), "%"), 64)
						if strings.HasSuffix(attr(n, "x"), "%") {
							x *= vb[2] / 100
						}
						dx, _ := strconv.ParseFloat(attr(n, "dx"), 64)
						x += dx
						y, _ := strconv.ParseFloat(attr(n, "y"), 64)
						size, _ := strconv.ParseFloat(inherited(n, "font-size", "16"), 64)
						s := text(n)
						w := textWidth(s, size)
						switch inherited(n, "text-anchor", "start") {
						case "middle":
							x -= w / 2
						case "end":
							x -= w
						}
						if x < vb[0] || x+w > vb[0]+vb[2] || y-size < vb[1] || y+size*0.25 > vb[1]+vb[3] {
							t.Errorf("%s, %s: %q (%.1f to %.1f across, %.1f to %.1f down) leaves the viewBox %v", lang, name, s, x, x+w, y-size, y+size*0.25, vb)
						}
						if strings.HasSuffix(s, "…") && (name == "per-day" || name == "per-country" || inherited(n, "class", "") == "legend") {
							t.Errorf("%s, %s: %q is cut", lang, name, s)
						}
					}
					for k := n.FirstChild; k != nil; k = k.NextSibling {
						walk(k)
					}
				}
				walk(svg)
			}
			if texts < 4 {
				t.Errorf("%s, %s: %d texts read", lang, name, texts)
			}
		}
	}
}

// findAll is every element named tag under n, in order.
func findAll(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	if n.Type == html.ElementNode && n.Data == tag {
		out = append(out, n)
	}
	for k := n.FirstChild; k != nil; k = k.NextSibling {
		out = append(out, findAll(k, tag)...)
	}
	return out
}

// inherited is n's attribute key, or its nearest ancestor's, or else.
func inherited(n *html.Node, key, orElse string) string {
	for ; n != nil; n = n.Parent {
		if v := attr(n, key); v != "" {
			return v
		}
	}
	return orElse
}
