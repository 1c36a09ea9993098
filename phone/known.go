package phone

import (
	"github.com/nyaruka/phonenumbers"

	"github.com/smsgate/caddy-smsgate/internal/memo"
)

// What libphonenumber says of a number is kept for the numbers read
// lately: one sign-in reads its number's several times (Parse at the
// form, the policy's Check for each channel, Region for the send's
// figures, the strangers' count and the provider's, Place for the pumping
// guard), each reading costing a parse and, for a country code that
// several regions share (two dozen for +1), a regular-expression match for
// each region (Check's took three of them: its own, IsValidNumber's and
// GetNumberType's). Both are pure functions of their input, so what is
// kept is what they would say again; at most kept numbers each, forgotten
// all at once when full (a flood of new numbers only misses, as before).
const kept = 1024

// facts are what Check, Region and Place read of an E.164 number.
type facts struct {
	parsed   bool // false: it does not parse, and the rest is zero
	valid    bool
	region   string // "" when no region has it
	kind     phonenumbers.PhoneNumberType
	code     int32  // its country calling code
	national string // its national significant number
}

var known = memo.Map[string, facts]{Max: kept}

// factsOf reads e164 once for all: its region found once, where
// IsValidNumber and GetNumberType each find it again.
func factsOf(e164 string) facts {
	return known.Get(e164, func() facts {
		num, err := phonenumbers.Parse(e164, "")
		if err != nil {
			return facts{}
		}
		f := facts{parsed: true, region: phonenumbers.GetRegionCodeForNumber(num), code: num.GetCountryCode(),
			national: phonenumbers.GetNationalSignificantNumber(num)}
		f.valid = phonenumbers.IsValidNumberForRegion(num, f.region) // IsValidNumber, its region already found
		if f.valid {
			f.kind = phonenumbers.GetNumberType(num)
		}
		return f
	})
}

// A parsed is what Parse says of an input.
type parsed struct {
	e164 string
	err  error
}

var parses = memo.Map[string, parsed]{Max: kept}
