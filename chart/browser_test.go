package chart

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"
	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// page is a console-like page around the charts: the gate's palette
// (caddymodule's smsgate.css: card #fff / #1b1f24, text #1f2328 / #e6e8eb)
// and CSS, served with the gate's Content-Security-Policy.
func page(charts ...string) http.Handler {
	const palette = `:root { color-scheme: light dark; --card: #fff; --fg: #1f2328; --accent: #2563eb; }
@media (prefers-color-scheme: dark) { :root { --card: #1b1f24; --fg: #e6e8eb; --accent: #7aa2f7; } }
body { margin: 0; background: var(--card); color: var(--fg); font: 100%/1.5 system-ui, sans-serif; }
main { padding: 1rem; max-width: 48rem; }`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'")
		switch r.URL.Path {
		case "/page.css":
			w.Header().Set("Content-Type", "text/css")
			fmt.Fprint(w, palette+"\n"+CSS)
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Figures</title><link rel="stylesheet" href="/page.css"></head><body><main><h1>Figures</h1>%s</main></body></html>`, strings.Join(charts, "\n"))
		default:
			http.NotFound(w, r)
		}
	})
}

// TestChartsInABrowser: in Chromium, light and dark, at a phone's and a
// desktop's size, the charts have no violation axe-core finds, the page's
// CSP refuses nothing, and every series' colour stands 3:1 or more
// against the card (WCAG 1.4.11), as does the text.
func TestChartsInABrowser(t *testing.T) {
	path, err := exec.LookPath("chromium")
	axePath := os.Getenv("SMSGATE_AXE")
	if err != nil || axePath == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium or SMSGATE_AXE is missing; .ci/run installs both")
		}
		t.Skip("needs chromium and SMSGATE_AXE (npm install axe-core)")
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	six := days()
	for _, name := range []string{"FR", "US", "Other"} {
		six.Series = append(six.Series, Series{Name: name, Values: []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7}})
	}
	columns, err := Columns(six)
	if err != nil {
		t.Fatal(err)
	}
	bars, err := Bars(outcomes())
	if err != nil {
		t.Fatal(err)
	}
	all := []string{string(columns), string(bars)}
	for _, lang := range []string{"en", "de"} { // the console's charts, and more, in both languages (TestEveryLabelFits)
		for _, draw := range consoleCharts(lang) {
			h, err := draw()
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, h)
		}
	}
	srv := httptest.NewServer(page(all...))
	defer srv.Close()

	// The profile, and what Chromium writes beside it, in the test's
	// directory (harness.ChromiumEnv, harness.ChromiumDir).
	dir := harness.ChromiumDir(t)
	profile := filepath.Join(dir, "profile")
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(profile), chromedp.Env(harness.ChromiumEnv(dir)...))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	defer cancelTimeout()
	var mu sync.Mutex
	var refused []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*log.EventEntryAdded); ok && strings.Contains(e.Entry.Text, "Content Security Policy") {
			mu.Lock()
			refused = append(refused, e.Entry.Text)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	run(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, log.Enable, cdp.Empty{})
		return err
	}))
	run(chromedp.Navigate(srv.URL + "/"))
	if err := harness.ChromiumKeptInside(profile, dir); err != nil {
		t.Error(err)
	}
	for _, scheme := range []string{"light", "dark"} {
		for _, size := range []struct{ w, h int64 }{{390, 844}, {1280, 800}} {
			run(chromedp.EmulateViewport(size.w, size.h), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
				return err
			}))
			out, err := chromedp.Run(ctx, chromedp.Evaluate[string](string(axe)+`;
(async () => {
	const r = await axe.run(document, {resultTypes: ["violations"]});
	return JSON.stringify(r.violations.map(v => v.id + ": " + v.help + " (" + v.nodes.map(n => n.target.join(" ")).join(", ") + ")"));
})()`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			var violations []string
			if err := json.Unmarshal([]byte(out), &violations); err != nil {
				t.Fatal(err)
			}
			if len(violations) > 0 {
				t.Errorf("%s, %dx%d: %s", scheme, size.w, size.h, strings.Join(violations, "; "))
			}
			// Every text as Chromium lays it out lies inside its image's
			// viewBox (walk29, 49 and 73: labels cut at the edge).
			outside, err := chromedp.Run(ctx, chromedp.Evaluate[string](outsideScript))
			if err != nil {
				t.Fatal(err)
			}
			if outside != "" {
				t.Errorf("%s, %dx%d: texts outside their image: %s", scheme, size.w, size.h, outside)
			}
			low, err := chromedp.Run(ctx, chromedp.Evaluate[string](contrastScript))
			if err != nil {
				t.Fatal(err)
			}
			if low != "" {
				t.Errorf("%s: below 3:1 against the card: %s", scheme, low)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(refused) > 0 {
		t.Errorf("the CSP refused: %v", refused)
	}
}

// outsideScript lists each chart text whose box, as Chromium measures it
// (getBBox, in the viewBox's units), leaves its image's viewBox.
const outsideScript = `(() => {
	const out = [];
	document.querySelectorAll("svg.chart-image").forEach(svg => {
		const v = svg.hasAttribute("viewBox") ? svg.viewBox.baseVal : {x: 0, y: 0, width: svg.getBoundingClientRect().width, height: svg.getBoundingClientRect().height};
		svg.querySelectorAll("text").forEach(t => {
			const b = t.getBBox();
			if (b.x < v.x - 0.5 || b.y < v.y - 0.5 || b.x + b.width > v.x + v.width + 0.5 || b.y + b.height > v.y + v.height + 0.5)
				out.push(svg.closest("figure").id + ": " + JSON.stringify(t.textContent) + " " + [b.x, b.y, b.width, b.height].map(n => n.toFixed(1)).join(","));
		});
	});
	return out.join("; ");
})()`

// contrastScript lists each series whose drawn colour (fill and opacity,
// over the card) stands less than 3:1 against the card.
const contrastScript = `(() => {
	const rgb = s => s.match(/[\d.]+/g).slice(0, 3).map(Number);
	const lum = c => { const l = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
	const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
	const card = rgb(getComputedStyle(document.body).backgroundColor);
	const low = [];
	document.querySelectorAll(".chart .series rect").forEach(r => {
		const s = getComputedStyle(r), o = Number(s.fillOpacity), f = rgb(s.fill);
		const drawn = f.map((v, i) => v * o + card[i] * (1 - o));
		const c = ratio(drawn, card);
		if (c < 3) low.push(r.parentNode.getAttribute("class") + " " + c.toFixed(2));
	});
	return [...new Set(low)].join(", ");
})()`
