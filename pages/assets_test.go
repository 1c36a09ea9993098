package pages

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"testing"
)

// TestAssetsGzipped: a browser that takes gzip gets each asset compressed
// (made once, when the first is asked for), and it unpacks to the asset;
// one that does not gets the asset as it is.
func TestAssetsGzipped(t *testing.T) {
	t.Parallel()
	p := &Pages{}
	for _, name := range []string{"smsgate.css", "smsgate.js", "favicon.svg"} {
		raw, err := assetFS.ReadFile("assets/" + name)
		if err != nil || len(raw) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		for _, enc := range []string{"", "gzip, deflate, br"} {
			r := httptest.NewRequest("GET", "/.smsgate/assets/"+name, nil)
			r.Header.Set("Accept-Encoding", enc)
			w := httptest.NewRecorder()
			if err := p.serveAsset(w, r, name); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			body := w.Body.Bytes()
			if w.Header().Get("Vary") != "Accept-Encoding" {
				t.Errorf("%s: Vary %q", name, w.Header().Get("Vary"))
			}
			if got := w.Header().Get("Content-Encoding"); enc == "" {
				if got != "" || !bytes.Equal(body, raw) {
					t.Errorf("%s without gzip: Content-Encoding %q, %d bytes, want the asset's %d", name, got, len(body), len(raw))
				}
				continue
			} else if got != "gzip" {
				t.Fatalf("%s with gzip: Content-Encoding %q", name, got)
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			unpacked, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(unpacked, raw) {
				t.Errorf("%s: unpacks to %d bytes (%v), want the asset's %d", name, len(unpacked), err, len(raw))
			}
			if len(body) >= len(raw) {
				t.Errorf("%s: gzipped %d bytes, the asset %d", name, len(body), len(raw))
			}
		}
	}
}
