package phone

import (
	"strconv"

	"github.com/nyaruka/phonenumbers"
)

// Place is where a number goes, as the pumping guard and the admin's
// figures count it: its country (ISO 3166, "ZZ" when unknown) and its
// prefix, the country calling code and the first digits of the national
// number (+44770 for +447700900123 with 3 digits). A prefix names a range
// of numbers, never one number.
func Place(e164 string, digits int) (region, prefix string) {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return "ZZ", ""
	}
	region = phonenumbers.GetRegionCodeForNumber(num)
	if region == "" {
		region = "ZZ"
	}
	national := phonenumbers.GetNationalSignificantNumber(num)
	// Six digits at least stay out of the prefix: with the three a masked
	// number shows (Mask), three are still hidden, so that a prefix and a
	// mask in one log line never spell a number.
	digits = max(min(digits, len(national)-6), 0)
	return region, "+" + strconv.Itoa(int(num.GetCountryCode())) + national[:digits]
}
