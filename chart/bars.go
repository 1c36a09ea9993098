package chart

import "html/template"

// barLabel is the most characters of a bar's label drawn (the table and
// the tooltips keep the whole label).
const barLabel = 24

// Bars draws c as horizontal bars, one per label, top to bottom (the
// countries or providers of a period, the largest first), each stacked by
// series and followed by its total.
func Bars(c Chart) (template.HTML, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	const row, size = 24.0, 12.0
	// The labels end 8 left of the bars, and each total begins 6 right of
	// its bar: the bars take what room the widest of them leave.
	labelW, totalW := 0.0, 0.0
	most := 0.0
	for i, l := range c.Labels {
		labelW = max(labelW, textWidth(short(l, barLabel), size))
		totalW = max(totalW, textWidth(c.format(c.total(i)), size))
		most = max(most, c.total(i))
	}
	left := max(48, 4+labelW+8)
	right := width - margin - totalW - 6
	if most == 0 {
		most = 1
	}
	entries, lines := c.legendLayout(left)
	top := 28 + legendLine*float64(lines-1)
	height := top + row*float64(len(c.Labels)) + 8
	x := func(v float64) float64 { return v / most * (right - left) }
	var w writer
	c.open(&w, height, false)
	c.legend(&w, entries, 14)
	w.f(`<g class="axis" font-size="%s" fill="currentColor">`+"\n", num(size))
	for i, l := range c.Labels {
		y := top + row*float64(i)
		w.f(`<text x="%s" y="%s" text-anchor="end">%s</text>`, num(left-8), num(y+row/2+4), esc(short(l, barLabel)))
		w.f(`<text x="%s" y="%s">%s</text>`+"\n", num(left+x(c.total(i))+6), num(y+row/2+4), esc(c.format(c.total(i))))
	}
	w.f("</g>\n")
	return c.stacks(&w, func(i int, base, v float64) (float64, float64, float64, float64) {
		return left + x(base), top + row*float64(i) + 4, x(v), row - 8
	}), nil
}
