package chart

import (
	"html/template"
	"math"
)

// Columns draws c as stacked columns, one per label, in order (days, left
// to right): for a count over time. Only the first, the last and a week
// before the last labels are written under the columns (ends); every one is in the table, and in the
// tooltip of each part of a column.
func Columns(c Chart) (template.HTML, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	top0 := 0.0
	for i := range c.Labels {
		top0 = max(top0, c.total(i))
	}
	scale := niceMax(top0)
	ticks := []float64{0, scale / 2, scale}
	if c.whole() && scale/2 != math.Trunc(scale/2) {
		ticks = []float64{0, scale} // no half a text (walk36: "2.5", and in German too)
	}
	const height, top, bottom = 216.0, 12.0, 192.0
	y := func(v float64) float64 { return bottom - v/scale*(bottom-top) }
	// The scale is an image of its own beside the picture's box, as wide
	// as its labels (a cost's currency), which end 6 px left of the plot:
	// it stays in sight while the days scroll (walk36's 1). Its numbers
	// are in the table; a screen reader is not read them twice.
	axis := 0.0
	for _, v := range ticks {
		axis = max(axis, textWidth(c.format(v), size)+10)
	}
	var a writer
	a.f(`<svg xmlns="http://www.w3.org/2000/svg" class="chart-scale" width="%s" height="%s" aria-hidden="true" focusable="false">`+"\n", num(axis), num(height))
	a.f(`<g font-size="%s" fill="currentColor" text-anchor="end">`+"\n", num(size))
	for _, v := range ticks {
		a.f(`<text x="%s" y="%s">%s</text>`+"\n", num(axis-6), num(y(v)+4), esc(c.format(v)))
	}
	a.f("</g>\n</svg>\n")
	var w writer
	c.open(&w, height, a.String(), true)
	w.f(`<g class="axis" font-size="%s" fill="currentColor">`+"\n", num(size))
	for _, v := range ticks {
		w.f(`<line x1="0" x2="100%%" y1="%s" y2="%[1]s" stroke="currentColor" stroke-opacity="0.25"/>`+"\n", num(y(v)))
	}
	n := len(c.Labels)
	slot := 100 / float64(max(n, 1)) // percent of the width
	for _, i := range ends(n) {
		// The first begins at the plot's left edge and the last ends at
		// its right (centred under their columns, they ran off the image).
		x, anchor := pct(slot*(float64(i)+0.5)), "middle"
		switch {
		case n > 1 && i == 0:
			x, anchor = "0", "start"
		case n > 1 && i == n-1:
			x, anchor = "100%", "end"
		}
		w.f(`<text x="%s" y="%s" text-anchor="%s">%s</text>`+"\n", x, num(bottom+17), anchor, esc(c.Labels[i]))
	}
	w.f("</g>\n")
	return c.stacks(&w, true, func(i int, base, v float64) (string, string, string, string) {
		y1, y0 := y(base), y(base+v)
		return pct(slot*float64(i) + slot*0.15), num(y0), pct(slot * 0.7), num(y1 - y0)
	}), nil
}

// ends are the labels written under the columns: the first, the last,
// and (from 12 days) the one a week before the last, each once. Not the
// middle: on a phone the picture opens at its right end and its box's
// left edge, 210 to 410 of the 640 wide for a box of 230 to 430 px, cut
// the middle day's label ("23.11.2026" read "3.11.2026": walk35's C0); a
// week before the last stands wholly inside it at any of those widths.
func ends(n int) []int {
	var out []int
	for _, i := range []int{0, n - 8, n - 1} {
		if i == n-8 && n < 12 {
			continue
		}
		if i >= 0 && i < n && (len(out) == 0 || out[len(out)-1] != i) {
			out = append(out, i)
		}
	}
	return out
}

// whole reports whether every value is a whole number (a count).
func (c *Chart) whole() bool {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v != math.Trunc(v) {
				return false
			}
		}
	}
	return true
}
