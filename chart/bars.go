package chart

import "html/template"

// barLabel is the most characters of a bar's label drawn (the table and
// the tooltips keep the whole label).
const barLabel = 24

// Bars draws c as horizontal bars, one per label, top to bottom (the
// countries or providers of a period, the largest first), each stacked by
// series. Each bar's label is written above it at the left, its total at
// the right, and the bars are drawn in percentages of the image's width:
// the image is as wide as its box at any width, its text at the legend's
// size (walk35's B1: at 360 px a 640-wide picture ran off its box).
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
		w.f(`<text x="100%%" y="%s" text-anchor="end">%s</text>`+"\n", num(y), esc(c.format(c.total(i))))
	}
	w.f("</g>\n")
	return c.stacks(&w, false, func(i int, base, v float64) (string, string, string, string) {
		return pc(base), num(row*float64(i) + 19), pc(v), num(bar)
	}), nil
}
