package enrollment

import (
	"bytes"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// QRPNG draws text as a QR code (error correction M), size×size pixels, as
// a PNG of two colours: black modules on white, one bit a pixel. The
// scaled barcode is a 16-bit grey image to the PNG encoder (two bytes a
// pixel, each read through an interface call); the same pixels as a
// two-colour palette make half the bytes and cost a fifth of the time
// (most of an app's setup under -race).
func QRPNG(text string, size int) ([]byte, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	if code, err = barcode.Scale(code, size, size); err != nil {
		return nil, err
	}
	r := code.Bounds()
	img := image.NewPaletted(r, qrPalette)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if qrPalette.Index(code.At(x, y)) == 1 {
				img.SetColorIndex(x, y, 1)
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// qrPalette is a QR code's two colours: a module, and the background.
var qrPalette = color.Palette{color.Black, color.White}
