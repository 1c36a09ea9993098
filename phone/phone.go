// Package phone turns what a user typed into an E.164 number, refuses
// numbers that must never receive a code, and masks numbers for display and
// logs.
package phone

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"github.com/smsgate/caddy-smsgate/words"
)

// MaxInput is the longest input accepted; E.164 numbers have at most 15
// digits, and this leaves room for spaces, dashes and brackets.
const MaxInput = 32

// Errors that Parse returns; their text is safe to show to the user.
var (
	ErrMalformed = words.New("phone.malformed")
	ErrInvalid   = words.New("phone.invalid")
	ErrType      = words.New("phone.type")
	ErrRegion    = words.New("phone.region")
	ErrPrefix    = words.New("phone.prefix")
	// ErrTypeVoice refuses to call a number that is not a phone line.
	ErrTypeVoice = words.New("phone.type_voice")
	// ErrNonGeographic refuses satellite and other non-geographic numbers.
	ErrNonGeographic = words.New("phone.non_geographic")
)

// Parse normalises input to E.164. Without a leading "+", defaultRegion (an
// ISO 3166 code such as "US") says which country the number is in; when it is
// empty, a "+" is required.
func Parse(input, defaultRegion string) (string, error) {
	input = strings.TrimSpace(input)
	if input == "" || len(input) > MaxInput || !utf8.ValidString(input) {
		return "", ErrMalformed
	}
	for _, r := range input {
		if !strings.ContainsRune("+0123456789 -().", r) {
			return "", ErrMalformed
		}
	}
	if !strings.HasPrefix(input, "+") && defaultRegion == "" {
		return "", ErrMalformed
	}
	// An input here is at most MaxInput characters, none of them a newline.
	p := parses.Get(defaultRegion+"\n"+input, func() parsed {
		e164, err := parse(input, defaultRegion)
		return parsed{e164, err}
	})
	return p.e164, p.err
}

// parse is Parse past its checks of the characters (see known.go).
func parse(input, defaultRegion string) (string, error) {
	num, err := phonenumbers.Parse(input, defaultRegion)
	if err != nil {
		return "", ErrMalformed
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", ErrInvalid
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.UAN,
		phonenumbers.TOLL_FREE, phonenumbers.VOICEMAIL, phonenumbers.PAGER:
		return "", ErrType // never a code to these, whatever the policy
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// National is e164's national significant number (4155552671 for
// +14155552671), or "" when it does not parse.
func National(e164 string) string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return ""
	}
	return phonenumbers.GetNationalSignificantNumber(num)
}

// MaskDigits hides what could be a phone number inside text someone typed
// (a name that is really a number, mistyped): every digit but the last
// three of a run of seven or more becomes •.
func MaskDigits(s string) string {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	if n < 7 {
		return s
	}
	seen := 0
	return strings.Map(func(r rune) rune {
		if r < '0' || r > '9' {
			return r
		}
		seen++
		if seen <= n-3 {
			return '•'
		}
		return r
	}, s)
}

// Mask hides all but the country code and the last three digits:
// +14155552671 becomes +1•••••••671. It is what logs and pages show.
func Mask(e164 string) string {
	if !strings.HasPrefix(e164, "+") || len(e164) < 6 {
		return "•••"
	}
	digits := e164[1:]
	cc := countryCodeLen(digits)
	if cc+3 >= len(digits) {
		cc = 0
	}
	return "+" + digits[:cc] + strings.Repeat("•", len(digits)-cc-3) + digits[len(digits)-3:]
}

// countryCodeLen is the length of the calling code digits start with (1
// when none is known): calling codes are prefix-free, so the shortest
// assigned prefix is the code. A table lookup, where parsing the whole
// number ran the library's regular expressions on every masked log line.
func countryCodeLen(digits string) int {
	for n := 1; n <= 3 && n < len(digits); n++ {
		cc, err := strconv.Atoi(digits[:n])
		if err == nil && len(phonenumbers.GetRegionCodesForCountryCode(cc)) > 0 {
			return n
		}
	}
	return 1
}

// WithExample is err (one of Parse's) with its "for example {example}"
// set to defaultRegion's example (else the US's), as the pages' phone field
// says it: for the admin's tools and the config's errors, which have no page
// to fill it in. It is still err (errors.Is(WithExample(ErrInvalid, r),
// ErrInvalid)), so that the admin's table of statuses finds it.
func WithExample(err error, defaultRegion string) error {
	t, ok := words.Of(err)
	if !ok || t.Args["example"] != nil {
		return err
	}
	args := []any{"example", Example(defaultRegion, "US")}
	for k, v := range t.Args {
		args = append(args, k, v)
	}
	return &exampled{said: words.Newf(t.ID, args...), of: err}
}

// exampled is a Parse error with its example filled in: its words, and
// the error it says.
type exampled struct {
	said *words.Error
	of   error
}

func (e *exampled) Error() string     { return e.said.Error() }
func (e *exampled) Words() words.Text { return e.said.Words() }
func (e *exampled) Unwrap() error     { return e.of }
