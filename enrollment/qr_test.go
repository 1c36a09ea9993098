package enrollment

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// TestQRPNGIsTheBarcode: the PNG holds the pixels of the library's scaled
// QR code, each black or white as there, as a two-colour palette.
func TestQRPNGIsTheBarcode(t *testing.T) {
	t.Parallel()
	const text = "otpauth://totp/Example:alice?algorithm=SHA1&digits=6&issuer=Example&period=30&secret=JBSWY3DPEHPK3PXP"
	b, err := QRPNG(text, 240)
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := got.(*image.Paletted); !ok || len(p.Palette) != 2 {
		t.Fatalf("a %T, want a two-colour palette", got)
	}
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	want, err := barcode.Scale(code, 240, 240)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != want.Bounds() || got.Bounds().Dx() != 240 {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	black := 0
	for y := 0; y < 240; y++ {
		for x := 0; x < 240; x++ {
			g, _, _, _ := got.At(x, y).RGBA()
			w, _, _, _ := want.At(x, y).RGBA()
			if g != w {
				t.Fatalf("pixel (%d, %d): %#x, want %#x", x, y, g, w)
			}
			if g == 0 {
				black++
			}
		}
	}
	if black < 240*240/4 || black > 240*240*3/4 {
		t.Fatalf("%d black pixels of %d: not a QR code", black, 240*240)
	}
}
