package chart

import "html/template"

// barLabel is the most characters of a bar's label drawn (the table and
// the tooltips keep the whole label).
const barLabel = 24

// narrowest is the least width in CSS pixels a Bars' image is drawn at:
// a 320 px screen's console (its card's padding and the page's margins
// off).
const narrowest = 270.0

// Bars draws c as horizontal bars, one per label, top to bottom (the
// countries or providers of a period, the largest first), each stacked by
// series. Each bar's label is written above it at the left, and its total
// beside its end, 4 px on, where it fits there at the narrowest width
// (else above its end, at the image's right: a bar that long ends near
// it); the bars are drawn in percentages of the image's width: the image
// is as wide as its box at any width, its text at the legend's size
// (walk35's B1: at 360 px a 640-wide picture ran off its box). Before, a
// total stood at the right whatever its bar: on a desktop, 500 px from a
// bar half as long as the longest (walk36).
func Bars(c Chart) (template.HTML, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	const row, bar = 38.0, 14.0
	most := 0.0
	for i := range c.Labels {
		most = max(most, c.total(i))
	}
	if most == 0 {
		most = 1
	}
	height := row*float64(len(c.Labels)) + 4
	pc := func(v float64) string { return pct(v / most * 100) }
	var w writer
	c.open(&w, height, "", false)
	w.f(`<g class="axis" font-size="%s" fill="currentColor">`+"\n", num(size))
	for i, l := range c.Labels {
		y := row*float64(i) + size
		w.f(`<text x="0" y="%s">%s</text>`, num(y), esc(short(l, barLabel)))
		total := c.format(c.total(i))
		if end := c.total(i) / most; end*narrowest+4+textWidth(total, size) <= narrowest {
			w.f(`<text x="%s" dx="4" y="%s">%s</text>`+"\n", pc(c.total(i)), num(row*float64(i)+30.5), esc(total)) // on the bar's line
		} else {
			w.f(`<text x="100%%" y="%s" text-anchor="end">%s</text>`+"\n", num(y), esc(total))
		}
	}
	w.f("</g>\n")
	return c.stacks(&w, false, func(i int, base, v float64) (string, string, string, string) {
		return pc(base), num(row*float64(i) + 19), pc(v), num(bar)
	}), nil
}
