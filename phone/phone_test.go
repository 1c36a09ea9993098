package phone

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/words"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, region, want string
		err              error
	}{
		{"+14155552671", "", "+14155552671", nil},
		{" +1 (415) 555-2671 ", "", "+14155552671", nil},
		{"+44 7911 123456", "", "+447911123456", nil},
		{"(415) 555-2671", "US", "+14155552671", nil},
		{"4155552671", "", "", ErrMalformed},
		{"", "", "", ErrMalformed},
		{"+1415555267a", "", "", ErrMalformed},
		{"+1" + strings.Repeat("5", 40), "", "", ErrMalformed},
		{"+1 415 555 2671\x00", "", "", ErrMalformed},
		{"+٤١٥٥٥٥٢٦٧١", "", "", ErrMalformed},
		{"+1555", "", "", ErrInvalid},
		{"+12345", "", "", ErrInvalid},
		{"+19005550123", "", "", ErrType},  // US premium rate
		{"+18005550123", "", "", ErrType},  // US toll free
		{"+448712345678", "", "", ErrType}, // UK shared cost
	} {
		got, err := Parse(tc.in, tc.region)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Parse(%q, %q) = %q, %v; want %q, %v", tc.in, tc.region, got, err, tc.want, tc.err)
		}
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"+14155552671":  "+1•••••••671",
		"+447911123456": "+44•••••••456",
		"+35312345678":  "+353•••••678",
		"nonsense":      "•••",
		"+12":           "•••",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// Mask finds the calling code as parsing the number would, for every
// region's example numbers.
func TestMaskFindsTheCallingCode(t *testing.T) {
	n := 0
	for region := range phonenumbers.GetSupportedRegions() {
		for _, kind := range []phonenumbers.PhoneNumberType{phonenumbers.MOBILE, phonenumbers.FIXED_LINE} {
			num := phonenumbers.GetExampleNumberForType(region, kind)
			if num == nil {
				continue
			}
			e164 := phonenumbers.Format(num, phonenumbers.E164)
			if got, want := countryCodeLen(e164[1:]), len(strconv.Itoa(int(num.GetCountryCode()))); got != want {
				t.Fatalf("%s %s: calling code of %d digits, want %d", region, e164, got, want)
			}
			n++
		}
	}
	if n < 400 {
		t.Fatalf("only %d example numbers", n)
	}
}

func TestPolicy(t *testing.T) {
	p := &Policy{AllowedRegions: []string{"US", "gb"}, DenyPrefixes: []string{"+1900"}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		num     string
		channel factor.Channel
		err     string
	}{
		{"+14155552671", "sms", ""},
		{"+447400123456", "sms", ""},
		{"+33612345678", "sms", ErrRegion.Error()},
		{"+442071838750", "sms", ErrType.Error()}, // a London landline: no SMS…
		{"+442071838750", "voice", ""},            // …but it can take a call
		{"+448712345678", "voice", "cannot be called"},
		{"+15555555555", "sms", ErrInvalid.Error()},
	} {
		err := p.Check(tc.num, tc.channel)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Check(%s, %s) = %v, want %q", tc.num, tc.channel, err, tc.err)
		}
	}
	only := &Policy{AllowPrefixes: []string{"+4479"}}
	if only.Check("+447911123456", "sms") != nil || only.Check("+447400123456", "sms") != ErrPrefix {
		t.Error("allow prefixes")
	}
	voip := &Policy{Types: map[factor.Channel][]string{"sms": {"mobile", "voip"}}}
	if err := voip.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*Policy{
		{AllowedRegions: []string{"XX"}},
		{DenyPrefixes: []string{"44"}},
		{Types: map[factor.Channel][]string{"sms": {"premium"}}},
		{Types: map[factor.Channel][]string{"fax": {"mobile"}}},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
	if Region("+447400123456") != "GB" || Region("junk") != "ZZ" {
		t.Error("Region")
	}
}

// Satellite numbers are among the dearest destinations: refused unless the
// admin lists region 001.
func TestSatelliteNumbersAreRefusedByDefault(t *testing.T) {
	for _, n := range []string{"+881631234567", "+870772345678"} {
		if err := (&Policy{}).Check(n, "sms"); !errors.Is(err, ErrNonGeographic) {
			t.Errorf("%s: %v, want ErrNonGeographic", n, err)
		}
		if err := (&Policy{AllowedRegions: []string{"US"}}).Check(n, "sms"); !errors.Is(err, ErrNonGeographic) {
			t.Errorf("%s with allowed_regions US: %v", n, err)
		}
		p := &Policy{AllowedRegions: []string{"001"}}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := p.Check(n, "sms"); err != nil {
			t.Errorf("%s with allowed_regions 001: %v", n, err)
		}
	}
	if err := (&Policy{}).Check("+14155552671", "sms"); err != nil {
		t.Errorf("a US number: %v", err)
	}
}

// A country may get texts but not calls.
func TestRegionsPerChannel(t *testing.T) {
	p := &Policy{AllowedRegions: []string{"US", "GB"}, ChannelRegions: map[factor.Channel][]string{"voice": {"US"}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := p.Check("+447400123456", "sms"); err != nil {
		t.Errorf("a GB mobile by SMS: %v", err)
	}
	if err := p.Check("+447400123456", "voice"); !errors.Is(err, ErrRegion) {
		t.Errorf("a GB mobile by voice: %v, want ErrRegion", err)
	}
	if err := p.Check("+14155552671", "voice"); err != nil {
		t.Errorf("a US number by voice: %v", err)
	}
	if err := (&Policy{ChannelRegions: map[factor.Channel][]string{"fax": {"US"}}}).Validate(); err == nil {
		t.Error("an unknown channel was accepted")
	}
}

func TestPlace(t *testing.T) {
	for _, c := range []struct {
		e164           string
		digits         int
		region, prefix string
	}{
		{"+447400123456", 3, "GB", "+44740"},
		{"+14155552671", 3, "US", "+1415"},
		{"+4915123456789", 3, "DE", "+49151"},
		{"+14155552671", 0, "US", "+1"},
		{"+14155552671", 20, "US", "+14155"}, // six digits stay hidden: three more than a mask hides
		{"not a number", 3, "ZZ", ""},
	} {
		if region, prefix := Place(c.e164, c.digits); region != c.region || prefix != c.prefix {
			t.Errorf("Place(%q, %d) = %s %s, want %s %s", c.e164, c.digits, region, prefix, c.region, c.prefix)
		}
	}
}

// TestExample: the example numbers (a table made by go generate) are
// those phonenumbers makes, for every region, and the table holds no
// other; a region without one (a stranger's made-up code) has none. After
// an upgrade of github.com/nyaruka/phonenumbers, run go generate in phone/.
func TestExample(t *testing.T) {
	have := 0
	for r := range phonenumbers.GetSupportedRegions() {
		want := ""
		if num := phonenumbers.GetExampleNumberForType(r, phonenumbers.MOBILE); num != nil {
			want = phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
			have++
		}
		if got := Example(strings.ToLower(r)); got != want {
			t.Errorf("Example(%s) = %q, want %q: run go generate in phone/", r, got, want)
		}
	}
	if len(examples) != have {
		t.Errorf("the table has %d regions, phonenumbers has an example for %d: run go generate in phone/", len(examples), have)
	}
	if got, want := Example("", "XX", "gb", "US"), Example("GB"); got != want || got == "" {
		t.Errorf("the first region with an example: %q, want %q", got, want)
	}
	for _, r := range []string{"XX", "ZZ", "NOT-A-REGION"} {
		if Example(r) != "" {
			t.Errorf("Example(%s) is not empty", r)
		}
	}
}

// TestAPolicyThatAdmitsNothingIsRefused: an allow_prefixes entry that a
// deny_prefixes entry covers admits no number; a narrower denial loads.
func TestAPolicyThatAdmitsNothingIsRefused(t *testing.T) {
	for _, p := range []*Policy{
		{AllowPrefixes: []string{"+1"}, DenyPrefixes: []string{"+1"}},
		{AllowPrefixes: []string{"+44", "+1900"}, DenyPrefixes: []string{"+1"}},
	} {
		var pe *PolicyError
		if err := p.Validate(); !errors.As(err, &pe) || pe.Option != "deny_prefixes" {
			t.Errorf("%+v: %v", p, err)
		}
	}
	if err := (&Policy{AllowPrefixes: []string{"+1"}, DenyPrefixes: []string{"+1900"}}).Validate(); err != nil {
		t.Error(err)
	}
	p := &Policy{AllowedRegions: []string{"GB"}, ChannelRegions: map[factor.Channel][]string{"voice": {"US"}}}
	if err := p.Unreachable("+14155552671", []factor.Channel{"sms"}); err == nil || !strings.Contains(err.Error(), "(US) is not in allowed_regions") {
		t.Errorf("a US number, texts to GB only: %v", err)
	}
	if err := p.Unreachable("+14155552671", []factor.Channel{"sms", "voice"}); err != nil {
		t.Errorf("a US number, calls to the US: %v", err)
	}
}

// TestWithExampleIsStillTheError: a Parse error with its example filled in
// (the admin's tools, the config's errors) says the example and is still
// the error it was, so that errors.Is finds it (the admin's table of
// statuses reads it so). Before, it was a new error that no sentinel
// matched.
func TestWithExampleIsStillTheError(t *testing.T) {
	for _, sentinel := range []error{ErrMalformed, ErrInvalid, ErrType} {
		err := WithExample(sentinel, "GB")
		text, ok := words.Of(err)
		if !errors.Is(err, sentinel) || !ok || text.ID != sentinel.(*words.Error).Words().ID || text.Args["example"] != Example("GB") {
			t.Errorf("WithExample(%v): %v, %v", sentinel, err, text)
		}
		if err.Error() != words.English.Render("en", text) {
			t.Errorf("WithExample(%v) says %q, not its words", sentinel, err)
		}
	}
	if errors.Is(WithExample(ErrInvalid, "GB"), ErrMalformed) {
		t.Error("WithExample(ErrInvalid) is ErrMalformed")
	}
}
