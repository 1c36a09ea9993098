package chart

// CSS is the charts' stylesheet, for the page's own (a file served from
// 'self': no inline style). It colours the series in each theme (each at
// least 3:1 against the page's card, light #fff and dark #1b1f24, as
// WCAG 1.4.11 asks of graphics), and sets the table's numbers in tabular
// figures. Without it a chart is still readable: currentColor at graded
// opacities.
const CSS = `/* Charts (package chart). */
:root { --chart-0: #1d4ed8; --chart-1: #b45309; --chart-2: #047857; --chart-3: #7c3aed; --chart-4: #be185d; --chart-5: #475569; }
@media (prefers-color-scheme: dark) { :root { --chart-0: #7aa2f7; --chart-1: #f5a524; --chart-2: #34d399; --chart-3: #c4b5fd; --chart-4: #f472b6; --chart-5: #cbd5e1; } }
.chart { margin: 1rem 0 1.5rem; }
.chart figcaption { font-weight: 600; margin-bottom: .35rem; }
.chart-image { display: block; width: 100%; }
.chart-legend { list-style: none; margin: 0 0 .35rem; padding: 0; display: flex; flex-wrap: wrap; gap: .1rem 1rem; font-size: .8125rem; }
.chart-swatch { display: inline-block; width: .625rem; height: .625rem; margin-right: .35rem; background: currentColor; }
.chart-scroll, .chart-picture { overflow-x: auto; }
/* A count over time's scale stands beside its picture's box, outside
   it: it stays in sight while the days scroll (walk36's 1). */
.chart-row { display: flex; align-items: flex-start; }
.chart-scale { display: block; flex: none; }
.chart-row > .chart-picture { flex: 1 1 auto; min-width: 0; }
/* Charts have no viewBox: drawn at their box's width, their text at the
   legend's size (walk35's B1, walk36's 2). A count over time's picture
   keeps a width its days can be told apart and its labels read at
   (40rem) and scrolls in its box below it, opening at its right end,
   the newest days: a right-to-left box overflows to its left, so it
   starts scrolled to the right (walk34's 55b). */
.chart-picture.from-end .chart-image { min-width: 40rem; }
.chart-picture.from-end { direction: rtl; }
.chart-picture.from-end > * { direction: ltr; }
.chart .series-0 { fill: var(--chart-0); fill-opacity: 1; }
.chart-swatch.series-0 { background: var(--chart-0); }
.chart .series-1 { fill: var(--chart-1); fill-opacity: 1; }
.chart-swatch.series-1 { background: var(--chart-1); }
.chart .series-2 { fill: var(--chart-2); fill-opacity: 1; }
.chart-swatch.series-2 { background: var(--chart-2); }
.chart .series-3 { fill: var(--chart-3); fill-opacity: 1; }
.chart-swatch.series-3 { background: var(--chart-3); }
.chart .series-4 { fill: var(--chart-4); fill-opacity: 1; }
.chart-swatch.series-4 { background: var(--chart-4); }
.chart .series-5 { fill: var(--chart-5); fill-opacity: 1; }
.chart-swatch.series-5 { background: var(--chart-5); }
.chart .series rect, .chart .legend rect { stroke: var(--card, Canvas); stroke-width: 1; }
table.chart-data { border-collapse: collapse; font-size: .875rem; font-variant-numeric: tabular-nums; margin-top: .5rem; }
table.chart-data th, table.chart-data td { padding: .15rem .6rem; text-align: right; }
table.chart-data th[scope=row], table.chart-data thead th:first-child { text-align: left; }
details.chart-data summary { cursor: pointer; color: var(--accent, LinkText); }
`
