// Package chart draws the console's figures as SVG on the server. Nothing
// in its markup needs a script, and nothing in it is refused by a
// Content-Security-Policy without 'unsafe-inline' (no style attributes, no
// <style>, no event handlers): colours come from the page, as currentColor
// (the text's colour, in either theme) at graded opacities, and as classes
// (series-0, series-1, …) that the page's stylesheet may colour (CSS here
// is such a stylesheet). Each chart is a <figure> whose <svg> is an image
// with a name and a description, followed by a <table> of the same
// numbers, for screen readers and for anyone who wants the figures.
//
// Every word a chart shows is given by its caller (package words holds
// them): this package writes numbers and markup only.
package chart

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Series is one named set of values, one per label.
type Series struct {
	Name   string
	Values []float64
}

// Chart is what both kinds of chart are drawn from.
type Chart struct {
	// ID is unique in the page: the ids the markup refers to begin with it.
	ID string
	// Title names the chart (its caption, the image's name, the table's
	// caption); Summary says in a sentence what it shows and that the
	// table holds every value (the image's description).
	Title, Summary string
	// Labels name the columns (Columns: days) or the bars (Bars: countries).
	Labels []string
	// Series are stacked in each column or bar, in order; at most
	// MaxSeries (fold the rest into an "other" series).
	Series []Series
	// LabelHeader heads the table's first column ("Day"); TotalHeader, if
	// set, adds a column of each label's total.
	LabelHeader, TotalHeader string
	// Format writes a value (default: the shortest decimal).
	Format func(float64) string
	// Disclose, if set, puts the table in a <details> whose summary it is
	// ("Show the numbers"): shown on request, not beside the chart.
	Disclose string
}

// MaxSeries is the most series a chart tells apart.
const MaxSeries = 6

// opacities grade the series of currentColor, so that they differ without
// a stylesheet; adjacent ones differ by at least a third.
var opacities = [MaxSeries]string{"1", "0.62", "0.36", "0.82", "0.5", "0.22"}

func (c *Chart) format(v float64) string {
	if c.Format != nil {
		return c.Format(v)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// value is series s's value at label i (0 where it has none).
func (s Series) value(i int) float64 {
	if i < len(s.Values) && !math.IsNaN(s.Values[i]) && s.Values[i] > 0 {
		return s.Values[i]
	}
	return 0
}

// total is the stack at label i.
func (c *Chart) total(i int) float64 {
	t := 0.0
	for _, s := range c.Series {
		t += s.value(i)
	}
	return t
}

// check refuses what cannot be drawn honestly.
func (c *Chart) check() error {
	switch {
	case c.ID == "" || strings.ContainsAny(c.ID, " \"'<>&"):
		return fmt.Errorf("chart: the id %q cannot name elements", c.ID)
	case len(c.Series) == 0 || len(c.Series) > MaxSeries:
		return fmt.Errorf("chart %s: %d series; 1 to %d can be told apart", c.ID, len(c.Series), MaxSeries)
	}
	return nil
}

// niceMax is the scale's top: the max rounded up to 1, 2 or 5 × 10ⁿ.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// writer builds markup, every text escaped.
type writer struct{ strings.Builder }

func (w *writer) f(format string, args ...any) { fmt.Fprintf(&w.Builder, format, args...) }

// esc escapes text for an element or an attribute.
func esc(s string) string { return html.EscapeString(s) }

// num writes a coordinate: at most one decimal.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// pct writes a coordinate in percent of the image's width: two decimals
// (a tenth of a percent is a pixel of a wide screen).
func pct(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) + "%" }

// open begins the figure and the image: the caption, the legend (HTML,
// outside the scroller: walk35's 50, it scrolled off with the picture),
// and the svg named by the caption and described by the summary, height
// CSS pixels high. An image has no viewBox: its user units are CSS
// pixels, its parts placed in percentages of its width, so that it is
// drawn at its box's width and its text at the legend's size at any
// width (walk35's B1: a 640-wide Bars ran off a 360 px screen; walk36's
// 2: a Columns' text scaled to 17 px on a desktop). scale, if set, is
// an image of its own drawn beside the picture, outside the box it
// scrolls in: a Columns' scale (walk36's 1: it scrolled off with the
// days). fromEnd says the picture keeps a width its days can be told
// apart at (CSS) and its scroller opens at its right end, the newest of
// a count over time (Columns).
func (c *Chart) open(w *writer, height float64, scale string, fromEnd bool) {
	w.f(`<figure class="chart" id="%s">`+"\n", c.ID)
	w.f(`<figcaption id="%s-title">%s</figcaption>`+"\n", c.ID, esc(c.Title))
	c.legend(w)
	// Scrollers: on a narrow screen a Columns' picture keeps its width
	// and scrolls in a box of its own, named by the caption (it opens at
	// its right end, the newest days, without script: walk34's 55b, the
	// oldest shown first), its scale beside the box; its table, once
	// shown, scrolls in the outer one (its summary in it stays where it
	// is), not the page.
	w.f("<div class=\"chart-scroll\">\n")
	picture := "chart-picture"
	if fromEnd {
		picture += " from-end"
	}
	if scale != "" {
		w.f("<div class=\"chart-row\">\n%s", scale)
	}
	w.f(`<div class="%s" tabindex="0" role="region" aria-labelledby="%s-title">`+"\n", picture, c.ID)
	w.f(`<svg xmlns="http://www.w3.org/2000/svg" class="chart-image" height="%s" role="img" aria-labelledby="%s-title" aria-describedby="%[2]s-desc" focusable="false">`+"\n",
		num(height), c.ID)
	w.f(`<desc id="%s-desc">%s</desc>`+"\n", c.ID, esc(c.Summary))
}

// size is the charts' text size in CSS pixels: the legend's (CSS:
// .8125rem).
const size = 13.0

// Text is measured as the charts draw it: charWidth em a character, more
// than most glyphs of a sans-serif take (a few wide capitals aside), so
// that a label the estimate fits fits the picture. The legend's entries
// and the labels are placed by it, and wrap or move rather than run off
// the image (walk29, 49 and 73: "Nicht verwendet…", the last day cut).
const charWidth = 0.6

// textWidth estimates how wide s is drawn at size.
func textWidth(s string, size float64) float64 {
	return float64(len([]rune(s))) * size * charWidth
}

// legend lists the series, a swatch (coloured by the stylesheet) and a
// name each, in HTML above the picture: it wraps at the page's width and
// stays in sight while the picture scrolls (walk35's 50 and 51).
func (c *Chart) legend(w *writer) {
	w.f(`<ul class="chart-legend">`)
	for i, s := range c.Series {
		w.f(`<li><span class="chart-swatch series-%d"></span>%s</li>`, i, esc(s.Name))
	}
	w.f("</ul>\n")
}

// stacks draws each series' part of each label, a <g> a series, stacked
// on the parts before it: place is where label i's part from base to
// base+v goes (x, y, width, height, as written: numbers or percentages).
// Then it closes the image (and its row, beside a scale), and the table
// closes the figure.
func (c *Chart) stacks(w *writer, row bool, place func(i int, base, v float64) (x, y, width, height string)) template.HTML {
	base := make([]float64, len(c.Labels))
	for si, s := range c.Series {
		w.f(`<g class="series series-%d" fill="currentColor" fill-opacity="%s">`+"\n", si, opacities[si])
		for i, l := range c.Labels {
			v := s.value(i)
			if v == 0 {
				continue
			}
			x, y, width, height := place(i, base[i], v)
			base[i] += v
			w.f(`<rect x="%s" y="%s" width="%s" height="%s"><title>%s, %s: %s</title></rect>`+"\n",
				x, y, width, height, esc(l), esc(s.Name), esc(c.format(v)))
		}
		w.f("</g>\n")
	}
	w.f("</svg>\n</div>\n")
	if row {
		w.f("</div>\n")
	}
	c.table(w)
	return safe(w)
}

// table writes the numbers behind the chart and closes the figure.
func (c *Chart) table(w *writer) {
	if c.Disclose != "" {
		w.f("<details class=\"chart-data\"><summary>%s</summary>\n", esc(c.Disclose))
	}
	w.f(`<table class="chart-data" aria-labelledby="%s-title">`+"\n<thead><tr>", c.ID)
	w.f(`<th scope="col">%s</th>`, esc(c.LabelHeader))
	for _, s := range c.Series {
		w.f(`<th scope="col">%s</th>`, esc(s.Name))
	}
	if c.TotalHeader != "" {
		w.f(`<th scope="col">%s</th>`, esc(c.TotalHeader))
	}
	w.f("</tr></thead>\n<tbody>\n")
	for i, l := range c.Labels {
		w.f(`<tr><th scope="row">%s</th>`, esc(l))
		for _, s := range c.Series {
			w.f(`<td>%s</td>`, esc(c.format(s.value(i))))
		}
		if c.TotalHeader != "" {
			w.f(`<td>%s</td>`, esc(c.format(c.total(i))))
		}
		w.f("</tr>\n")
	}
	w.f("</tbody>\n</table>\n")
	if c.Disclose != "" {
		w.f("</details>\n")
	}
	w.f("</div>\n</figure>\n")
}

// short is s cut to n characters with an ellipsis: what the image has
// room for (the table and the tooltips keep the whole name).
func short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// safe is markup this package built, every text in it escaped.
func safe(w *writer) template.HTML { return template.HTML(w.String()) } //nolint:gosec // escaped above
