package phone

import (
	"strconv"
)

// Place is where a number goes, as the pumping guard and the admin's
// figures count it: its country (ISO 3166, "ZZ" when unknown) and its
// prefix, the country calling code and the first digits of the national
// number (+44770 for +447700900123 with 3 digits). A prefix names a range
// of numbers, never one number.
func Place(e164 string, digits int) (region, prefix string) {
	f := factsOf(e164)
	if !f.parsed {
		return "ZZ", ""
	}
	region, national := f.region, f.national
	if region == "" {
		region = "ZZ"
	}
	// Six digits at least stay out of the prefix: with the three a masked
	// number shows (Mask), three are still hidden, so that a prefix and a
	// mask in one log line never spell a number.
	digits = max(min(digits, len(national)-6), 0)
	return region, "+" + strconv.Itoa(int(f.code)) + national[:digits]
}
