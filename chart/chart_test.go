package chart

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"html/template"

	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// days is a fortnight of texts by country, as the console draws it.
func days() Chart {
	c := Chart{ID: "texts-per-day", Title: "Texts and calls per day", Summary: "Texts and calls per day for 14 days, by country; the table that follows has every value.",
		LabelHeader: "Day", TotalHeader: "Total"}
	gb, de, other := Series{Name: "GB"}, Series{Name: "DE"}, Series{Name: "Other <&>"}
	for i := range 14 {
		c.Labels = append(c.Labels, fmt.Sprintf("2026-12-%02d", i+1))
		gb.Values = append(gb.Values, float64(i%5))
		de.Values = append(de.Values, float64((i*7)%11))
		other.Values = append(other.Values, float64(i/7))
	}
	c.Series = []Series{gb, de, other}
	return c
}

// outcomes are receipts by provider, as the console draws them.
func outcomes() Chart {
	return Chart{ID: "outcomes", Title: "Delivery by provider", Summary: "Delivered, undelivered and unknown texts by provider; the table that follows has every value.",
		LabelHeader: "Provider", TotalHeader: "Total", Disclose: "Show the numbers",
		Labels: []string{"twilio", "webhook-for-the-backup-gateway"},
		Series: []Series{{Name: "Delivered", Values: []float64{940, 0}}, {Name: "Undelivered", Values: []float64{12, 0}}, {Name: "Unknown", Values: []float64{48, 75}}},
		Format: func(v float64) string { return fmt.Sprintf("%.0f", v) }}
}

// TestGolden: the markup of each kind, as reviewed (go test ./chart -update
// rewrites it after a deliberate change).
func TestGolden(t *testing.T) {
	for name, draw := range map[string]func() (string, error){
		"columns": func() (string, error) { h, err := Columns(days()); return string(h), err },
		"bars":    func() (string, error) { h, err := Bars(outcomes()); return string(h), err },
	} {
		t.Run(name, func(t *testing.T) {
			got, err := draw()
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join("testdata", name+".golden.html")
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("%s differs from %s:\n%s", name, file, got)
			}
		})
	}
}

// TestAccessibleAndCSPSafe: each chart is a figure whose svg is an image
// named by the caption and described by its summary; its table has a
// header per column and per row and every value; each drawn part has a
// tooltip; and nothing in it needs 'unsafe-inline' or a script.
func TestAccessibleAndCSPSafe(t *testing.T) {
	for name, c := range map[string]Chart{"columns": days(), "bars": outcomes()} {
		t.Run(name, func(t *testing.T) {
			draw := Columns
			if name == "bars" {
				draw = Bars
			}
			out, err := draw(c)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := html.Parse(strings.NewReader("<!doctype html><body>" + string(out)))
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]*html.Node{}
			var all []*html.Node
			var walk func(*html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					all = append(all, n)
					if id := attr(n, "id"); id != "" {
						if ids[id] != nil {
							t.Errorf("id %s twice", id)
						}
						ids[id] = n
					}
				}
				for k := n.FirstChild; k != nil; k = k.NextSibling {
					walk(k)
				}
			}
			walk(doc)
			rects, titled, ths, cells := 0, 0, 0, []string{}
			for _, n := range all {
				for _, a := range n.Attr {
					if a.Key == "style" || strings.HasPrefix(a.Key, "on") || strings.Contains(a.Val, "javascript:") {
						t.Errorf("<%s %s=%q>: refused by the CSP, or a script", n.Data, a.Key, a.Val)
					}
				}
				switch n.Data {
				case "style", "script", "foreignobject", "image", "use":
					t.Errorf("a <%s> element", n.Data)
				case "svg":
					if attr(n, "aria-hidden") == "true" && attr(n, "class") == "chart-scale" {
						break // a Columns' scale, beside the image: its numbers are in the table
					}
					if attr(n, "role") != "img" || ids[attr(n, "aria-labelledby")] == nil || ids[attr(n, "aria-labelledby")].Data != "figcaption" {
						t.Errorf("the svg is not an image named by the caption: %v", n.Attr)
					}
					if d := ids[attr(n, "aria-describedby")]; d == nil || d.Data != "desc" || text(d) != c.Summary {
						t.Errorf("the svg is not described by the summary")
					}
				case "rect":
					if n.Parent.Data == "g" && attr(n.Parent, "class") != "legend" {
						rects++
						if n.FirstChild != nil && n.FirstChild.Data == "title" && text(n.FirstChild) != "" {
							titled++
						}
					}
				case "th":
					ths++
					if s := attr(n, "scope"); s != "col" && s != "row" {
						t.Errorf("<th>%s</th> without a scope", text(n))
					}
				case "td":
					cells = append(cells, text(n))
				case "table":
					if ids[attr(n, "aria-labelledby")] == nil {
						t.Error("the table is not named")
					}
				}
			}
			nonzero := 0
			for _, s := range c.Series {
				for i := range c.Labels {
					if s.value(i) > 0 {
						nonzero++
					}
				}
			}
			if rects != nonzero || titled != rects {
				t.Errorf("%d parts drawn (%d with a tooltip) for %d values above 0", rects, titled, nonzero)
			}
			if want := (len(c.Series) + 2) + len(c.Labels); ths != want {
				t.Errorf("%d header cells, want %d", ths, want)
			}
			if want := len(c.Labels) * (len(c.Series) + 1); len(cells) != want {
				t.Errorf("%d value cells, want %d", len(cells), want)
			}
			for i, l := range c.Labels {
				row := cells[i*(len(c.Series)+1):]
				for j, s := range c.Series {
					if row[j] != c.format(s.value(i)) {
						t.Errorf("%s, %s: the table says %s, want %s", l, s.Name, row[j], c.format(s.value(i)))
					}
				}
				if row[len(c.Series)] != c.format(c.total(i)) {
					t.Errorf("%s: total %s", l, row[len(c.Series)])
				}
			}
		})
	}
}

// TestRefusals: what cannot be drawn honestly is an error, not a picture.
func TestRefusals(t *testing.T) {
	seven := make([]Series, 7)
	for _, c := range []Chart{
		{ID: "", Series: []Series{{Name: "a"}}},
		{ID: `x" onload="alert(1)`, Series: []Series{{Name: "a"}}},
		{ID: "none"},
		{ID: "seven", Series: seven},
	} {
		if _, err := Columns(c); err == nil {
			t.Errorf("%+v was drawn", c)
		}
	}
	// No labels, or only zeros: an empty chart, still with its table.
	for _, c := range []Chart{{ID: "empty", Series: []Series{{Name: "a"}}}, {ID: "zeros", Labels: []string{"a"}, Series: []Series{{Name: "a", Values: []float64{0}}}}} {
		for _, draw := range []func(Chart) (template.HTML, error){Columns, Bars} {
			if out, err := draw(c); err != nil || !strings.Contains(string(out), "<table") {
				t.Errorf("%s: %v\n%s", c.ID, err, out)
			}
		}
	}
}

func TestShort(t *testing.T) {
	if got := short("webhook-for-the-backup-gateway", 16); got != "webhook-for-the…" {
		t.Fatal(got)
	}
	if got := short("Überweisung", 16); got != "Überweisung" {
		t.Fatal(got)
	}
}

func TestNiceMax(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.3: 0.5, 1: 1, 7: 10, 12: 20, 40: 50, 99: 100, 101: 200, 2500: 5000} {
		if got := niceMax(in); got != want {
			t.Errorf("niceMax(%g) = %g, want %g", in, got, want)
		}
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for k := n.FirstChild; k != nil; k = k.NextSibling {
			walk(k)
		}
	}
	walk(n)
	return b.String()
}

// TestACountsScaleIsWhole: a count's scale (every value whole) has no
// tick at half a count: a top of 3 is drawn against 0 and 5, not 2.5
// (walk36: "2.5" texts, and "2.5" on a German page); a chart of other
// values keeps its middle tick.
func TestACountsScaleIsWhole(t *testing.T) {
	for _, c := range []struct {
		values []float64
		half   bool
	}{{[]float64{1, 3, 0}, false}, {[]float64{1, 2.5, 0}, true}} {
		out, err := Columns(Chart{ID: "c", Labels: []string{"a", "b", "c"}, Series: []Series{{Name: "s", Values: c.values}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(out), ">2.5</text>"); got != c.half {
			t.Errorf("%v: a tick at 2.5 is %v, want %v", c.values, got, c.half)
		}
		if !strings.Contains(string(out), ">5</text>") || !strings.Contains(string(out), ">0</text>") {
			t.Errorf("%v: no 0 or 5 on the scale:\n%s", c.values, out)
		}
	}
}
