package chart

import "html/template"

// Columns draws c as stacked columns, one per label, in order (days, left
// to right): for a count over time. Only the first, the last and a week
// before the last labels are written under the columns (ends); every one is in the table, and in the
// tooltip of each part of a column.
func Columns(c Chart) (template.HTML, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	const axisSize = 11.0
	top0 := 0.0
	for i := range c.Labels {
		top0 = max(top0, c.total(i))
	}
	scale := niceMax(top0)
	ticks := []float64{0, scale / 2, scale}
	// The scale's labels end 6 left of the axis: it moves right for long
	// ones (a cost's currency).
	left := 52.0
	for _, v := range ticks {
		left = max(left, 4+textWidth(c.format(v), axisSize)+6)
	}
	const right = width - 8
	const height, top, bottom = 216.0, 12.0, 192.0
	y := func(v float64) float64 { return bottom - v/scale*(bottom-top) }
	var w writer
	c.open(&w, height, true)
	w.f(`<g class="axis" font-size="%s" fill="currentColor" text-anchor="end">`+"\n", num(axisSize))
	for _, v := range ticks {
		w.f(`<line x1="%s" x2="%s" y1="%s" y2="%[3]s" stroke="currentColor" stroke-opacity="0.25"/>`, num(left), num(right), num(y(v)))
		w.f(`<text x="%s" y="%s">%s</text>`+"\n", num(left-6), num(y(v)+4), esc(c.format(v)))
	}
	n := len(c.Labels)
	slot := (right - left) / float64(max(n, 1))
	for _, i := range ends(n) {
		// The first begins at the plot's left edge and the last ends at
		// its right (centred under their columns, they ran off the image).
		x, anchor := left+slot*(float64(i)+0.5), "middle"
		switch {
		case n > 1 && i == 0:
			x, anchor = left, "start"
		case n > 1 && i == n-1:
			x, anchor = right, "end"
		}
		w.f(`<text x="%s" y="%s" text-anchor="%s">%s</text>`+"\n", num(x), num(bottom+16), anchor, esc(c.Labels[i]))
	}
	w.f("</g>\n")
	return c.stacks(&w, func(i int, base, v float64) (string, string, string, string) {
		y1, y0 := y(base), y(base+v)
		return num(left + slot*float64(i) + slot*0.15), num(y0), num(slot * 0.7), num(y1 - y0)
	}), nil
}

// ends are the labels written under the columns: the first, the last,
// and (from 12 days) the one a week before the last, each once. Not the
// middle: on a phone the picture opens at its right end and its box's
// left edge, 210 to 370 of the 640 wide for a box of 260 to 430 px, cut
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
