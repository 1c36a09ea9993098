package enrollment

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode/qr"
)

// QRPNG draws text as a QR code (error correction M), size×size pixels, as
// a PNG of two colours: black modules on white, one bit a pixel. Each
// module is a square of whole pixels, the code centred, as the library's
// barcode.Scale draws it (TestQRPNGIsTheBarcode); reading the scaled
// barcode a pixel at a time through its interface (and matching each
// pixel's colour to the palette) was most of an app's setup under -race,
// so the squares are filled from the code's modules, read once each.
func QRPNG(text string, size int) ([]byte, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	modules := code.Bounds().Dx() // a QR code is square, from (0, 0)
	factor := size / modules
	if factor <= 0 {
		return nil, fmt.Errorf("a QR code of %d modules is larger than %d pixels", modules, size)
	}
	offset := (size - modules*factor) / 2
	img := image.NewPaletted(image.Rect(0, 0, size, size), qrPalette)
	for i := range img.Pix {
		img.Pix[i] = 1 // white
	}
	for my := range modules {
		row := img.Pix[(offset+my*factor)*img.Stride:]
		for mx := range modules {
			if qrPalette.Index(code.At(mx, my)) == 0 {
				clear(row[offset+mx*factor : offset+(mx+1)*factor]) // black
			}
		}
		for y := 1; y < factor; y++ {
			copy(row[y*img.Stride:y*img.Stride+size], row[:size])
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
