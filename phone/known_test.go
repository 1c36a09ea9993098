package phone

import (
	"fmt"
	"sort"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/smsgate/caddy-smsgate/factor"
)

// TestKeptAnswersAreTheLibrarysAnswers: what Check, Region, Place and
// Parse say from what they kept (known.go) is what libphonenumber says
// read afresh, for every region's example and numbers that do not parse,
// are invalid, premium or shared by several regions (+1); and a flood of
// new numbers keeps no more than kept of them.
func TestKeptAnswersAreTheLibrarysAnswers(t *testing.T) {
	numbers := []string{"+14155552671", "+12425551234", "+18095551234", "+19005551234", "+447911123456",
		"+441481123456", "+8816", "+870773111632", "+999", "+1", "", "+0000000000000000", "+447700900123"}
	regions := make([]string, 0, len(examples))
	for r := range examples {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for _, r := range regions {
		numbers = append(numbers, examples[r])
	}
	afresh := func(e164 string) facts {
		num, err := phonenumbers.Parse(e164, "")
		if err != nil {
			return facts{}
		}
		f := facts{parsed: true, valid: phonenumbers.IsValidNumber(num), region: phonenumbers.GetRegionCodeForNumber(num),
			code: num.GetCountryCode(), national: phonenumbers.GetNationalSignificantNumber(num)}
		if f.valid {
			f.kind = phonenumbers.GetNumberType(num)
		}
		return f
	}
	forget := func() {
		known.Forget()
		parses.Forget()
	}
	policies := []*Policy{{}, {AllowedRegions: []string{"US"}}, {Types: map[factor.Channel][]string{factor.ChannelSMS: {"fixed_line"}}}}
	for _, n := range numbers {
		if got, want := factsOf(n), afresh(n); got != want {
			t.Errorf("facts of %q: %+v, want %+v", n, got, want)
		}
		// Each answer read afresh (nothing kept), then from what was kept.
		type answers struct {
			checks         []error
			region, prefix string
			place          string
			e164           []string
			errs           []error
		}
		read := func() (a answers) {
			for _, p := range policies {
				a.checks = append(a.checks, p.Check(n, factor.ChannelSMS), p.Check(n, factor.ChannelVoice))
			}
			a.region = Region(n)
			a.place, a.prefix = Place(n, 3)
			for _, in := range []string{n, " " + n[min(1, len(n)):]} {
				for _, def := range []string{"", "US", "GB"} {
					e164, err := Parse(in, def)
					a.e164, a.errs = append(a.e164, e164), append(a.errs, err)
				}
			}
			return a
		}
		forget()
		first := read()
		again := read()
		if fmt.Sprint(first) != fmt.Sprint(again) {
			t.Errorf("%q: afresh %v, kept %v", n, first, again)
		}
	}
	for i := range kept + 10 {
		Region("+1415555" + fmt.Sprintf("%04d", i))
		Place("+4479111"+strconv.Itoa(100000+i), 3)
	}
	if n := known.Len(); n > kept {
		t.Errorf("%d numbers kept, more than %d", n, kept)
	}
}
