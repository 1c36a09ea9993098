package chart

import "html/template"

// Bars draws c as horizontal bars, one per label, top to bottom (the
// countries or providers of a period, the largest first), each stacked by
// series and followed by its total.
func Bars(c Chart) (template.HTML, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	const top, row, left, right = 28.0, 24.0, 128.0, 572.0
	height := top + row*float64(len(c.Labels)) + 8
	most := 0.0
	for i := range c.Labels {
		most = max(most, c.total(i))
	}
	if most == 0 {
		most = 1
	}
	x := func(v float64) float64 { return v / most * (right - left) }
	var w writer
	c.open(&w, height)
	c.legend(&w, left, 14)
	w.f(`<g class="axis" font-size="12" fill="currentColor">` + "\n")
	for i, l := range c.Labels {
		y := top + row*float64(i)
		w.f(`<text x="%s" y="%s" text-anchor="end">%s</text>`, num(left-8), num(y+row/2+4), esc(short(l, 16)))
		w.f(`<text x="%s" y="%s">%s</text>`+"\n", num(left+x(c.total(i))+6), num(y+row/2+4), esc(c.format(c.total(i))))
	}
	w.f("</g>\n")
	return c.stacks(&w, func(i int, base, v float64) (float64, float64, float64, float64) {
		return left + x(base), top + row*float64(i) + 4, x(v), row - 8
	}), nil
}
