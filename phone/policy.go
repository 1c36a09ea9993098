package phone

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/smsgate/caddy-smsgate/factor"
)

// Policy says which numbers may be sent a code, checked before any send.
// SMS pumping and toll fraud live on premium-rate and far-away numbers, so
// the defaults refuse every non-personal number type.
type Policy struct {
	// AllowedRegions are ISO 3166 codes ("US", "GB"); empty allows all.
	AllowedRegions []string
	// ChannelRegions, per channel ("sms", "voice"), replace AllowedRegions
	// for that channel: calls cost more, so a country may get texts but
	// not calls (Auth0 does the same).
	ChannelRegions map[factor.Channel][]string
	// AllowPrefixes, if any, are the only E.164 prefixes accepted ("+4479").
	AllowPrefixes []string
	// DenyPrefixes are E.164 prefixes always refused.
	DenyPrefixes []string
	// Types maps a channel ("sms", "voice") to the number types it may
	// reach, by name: mobile, fixed_line, fixed_line_or_mobile, voip,
	// personal_number. Missing channels use DefaultTypes.
	Types map[factor.Channel][]string
}

// DefaultTypes are the number types each channel may reach. SMS includes
// fixed_line_or_mobile because libphonenumber cannot tell most US numbers
// apart; calls reach landlines too. Premium-rate, shared-cost, UAN,
// toll-free, pager and voicemail numbers are never on the list.
var DefaultTypes = map[factor.Channel][]string{
	factor.ChannelSMS:   {"mobile", "fixed_line_or_mobile"},
	factor.ChannelVoice: {"mobile", "fixed_line_or_mobile", "fixed_line"},
}

var typeNames = map[string]phonenumbers.PhoneNumberType{
	"mobile":               phonenumbers.MOBILE,
	"fixed_line":           phonenumbers.FIXED_LINE,
	"fixed_line_or_mobile": phonenumbers.FIXED_LINE_OR_MOBILE,
	"voip":                 phonenumbers.VOIP,
	"personal_number":      phonenumbers.PERSONAL_NUMBER,
}

// A PolicyError is a mistake in the policy, in the option it names as a
// config writes it ("allowed_regions", "allowed_regions sms",
// "deny_prefixes", "number_types voice"), so that a Caddyfile names its
// line.
type PolicyError struct {
	Option string
	Err    error
}

func (e *PolicyError) Error() string { return e.Err.Error() }
func (e *PolicyError) Unwrap() error { return e.Err }

// Validate checks the policy's names; a mistake is a *PolicyError.
func (p *Policy) Validate() error {
	mistake := func(option, format string, args ...any) error {
		return &PolicyError{Option: option, Err: fmt.Errorf(format, args...)}
	}
	lists := map[string][]string{"allowed_regions": p.AllowedRegions}
	for ch, regions := range p.ChannelRegions {
		if err := ch.Check(); err != nil {
			return mistake("allowed_regions", "allowed_regions: %v", err)
		}
		lists["allowed_regions "+string(ch)] = regions
	}
	for _, option := range slices.Sorted(maps.Keys(lists)) {
		for _, r := range lists[option] {
			if r != NonGeographic && !KnownRegion(r) {
				return mistake(option, "allowed_regions: %q is not a region code such as US or GB", r)
			}
		}
	}
	for _, o := range []struct {
		option   string
		prefixes []string
	}{{"allow_prefixes", p.AllowPrefixes}, {"deny_prefixes", p.DenyPrefixes}} { // in order: the same mistake named each run
		option := o.option
		for _, pre := range o.prefixes {
			if len(pre) < 2 || pre[0] != '+' || strings.Trim(pre[1:], "0123456789") != "" {
				return mistake(option, "%s: number prefix %q must be + and digits, like +4479", option, pre)
			}
		}
	}
	for _, allow := range p.AllowPrefixes {
		// Each number allow_prefixes admits, deny_prefixes refuses: the
		// entry admits nothing (with it alone, no number is ever sent a
		// code), and it loaded silently.
		if i := slices.IndexFunc(p.DenyPrefixes, func(deny string) bool { return strings.HasPrefix(allow, deny) }); i >= 0 {
			return mistake("deny_prefixes", "deny_prefixes %s refuses every number allow_prefixes %s admits: remove one of them", p.DenyPrefixes[i], allow)
		}
	}
	for ch, types := range p.Types {
		if err := ch.Check(); err != nil {
			return mistake("number_types", "number_types: %v", err)
		}
		for _, t := range types {
			if _, ok := typeNames[t]; !ok {
				return mistake("number_types "+string(ch), "number_types %s: unknown type %q (use mobile, fixed_line, fixed_line_or_mobile, voip, personal_number)", ch, t)
			}
		}
	}
	return nil
}

// Unreachable says why no channel of channels (sms, voice) may ever send
// e164 a code, as the options that refuse it are written (nil: one may):
// a provisioned number so is a user who can never sign in.
func (p *Policy) Unreachable(e164 string, channels []factor.Channel) error {
	var err error
	if p == nil {
		return nil
	}
	for _, ch := range channels {
		if err = p.Check(e164, ch); err == nil {
			return nil
		}
	}
	switch {
	case err == nil: // no channel
		return nil
	case errors.Is(err, ErrRegion), errors.Is(err, ErrNonGeographic):
		return fmt.Errorf("its country (%s) is not in allowed_regions: it can never be sent a code", Region(e164))
	case errors.Is(err, ErrPrefix):
		return errors.New("allow_prefixes or deny_prefixes refuse it: it can never be sent a code")
	case errors.Is(err, ErrInvalid):
		return errors.New("it is no valid number: it can never be sent a code")
	}
	return fmt.Errorf("it is a number of a type number_types does not reach on %s: it can never be sent a code", factor.Join(channels, " or "))
}

// KnownRegion says whether r is a region code numbers are parsed for ("GB",
// "us"; not NonGeographic).
func KnownRegion(r string) bool { return phonenumbers.GetSupportedRegions()[strings.ToUpper(r)] }

// NonGeographic is libphonenumber's region of numbers that belong to no
// country: satellite phones, global networks, international freephone.
const NonGeographic = "001"

// Check reports why e164 may not be sent a code on channel, or nil.
func (p *Policy) Check(e164 string, channel factor.Channel) error {
	f := factsOf(e164)
	if !f.parsed || !f.valid {
		return ErrInvalid
	}
	region := f.region
	allowed := p.AllowedRegions
	if r, ok := p.ChannelRegions[channel]; ok {
		allowed = r
	}
	listed := slices.ContainsFunc(allowed, func(r string) bool { return strings.EqualFold(r, region) })
	if region == NonGeographic && !listed {
		// Satellite phones (Iridium +8816, Inmarsat +870) and global
		// networks: among the dearest destinations, and a favourite of
		// SMS pumping. Only an explicit allowed_regions 001 lets them in.
		return ErrNonGeographic
	}
	if len(allowed) > 0 && !listed {
		return ErrRegion
	}
	hasPrefix := func(pre string) bool { return strings.HasPrefix(e164, pre) }
	if slices.ContainsFunc(p.DenyPrefixes, hasPrefix) || (len(p.AllowPrefixes) > 0 && !slices.ContainsFunc(p.AllowPrefixes, hasPrefix)) {
		return ErrPrefix
	}
	if !p.typeAllowed(f.kind, channel) {
		if channel == factor.ChannelVoice {
			return ErrTypeVoice
		}
		return ErrType
	}
	return nil
}

func (p *Policy) typeAllowed(got phonenumbers.PhoneNumberType, channel factor.Channel) bool {
	types, ok := p.Types[channel]
	if !ok {
		types = DefaultTypes[channel]
	}
	return slices.ContainsFunc(types, func(name string) bool { return typeNames[name] == got })
}

// Region is the ISO 3166 code of e164's country, or "ZZ".
func Region(e164 string) string {
	if r := factsOf(e164).region; r != "" {
		return r
	}
	return "ZZ"
}

// Example returns an example mobile number, in international format, of
// the first of regions that has one ("" when none does).
func Example(regions ...string) string {
	for _, r := range regions {
		if ex := example(strings.ToUpper(r)); ex != "" {
			return ex
		}
	}
	return ""
}

//go:generate go run ./internal/genexamples

// example is region's example mobile number, from examples (examples.go,
// made by go generate from libphonenumber's metadata and checked against
// it by TestExamplesAreLibphonenumbers). The pages give one for every
// country of the picker: making them from the metadata at run time, which
// parses and formats each, was most of a page's own CPU under the race
// detector, paid again by every process that served one.
func example(region string) string { return examples[region] }
