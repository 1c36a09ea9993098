package enrollment

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/words"
)

// Device is a phone or an authenticator app enrolled for a user. A user
// may hold several.
type Device struct {
	// ID names the device in forms and logs; never the number.
	ID string `json:"id,omitempty"`
	// Kind is factor.Phone (the zero value, as records were first
	// written), factor.App or factor.Passkey.
	Kind factor.Device `json:"kind,omitempty"`
	// Secret is an app's TOTP secret, sealed (Core.Secrets) for this
	// realm, user and device: never in clear, in the store or an export.
	Secret string `json:"secret,omitempty"`
	// Credential is a passkey's public key, sign counter and flags (a
	// go-webauthn Credential).
	Credential json.RawMessage `json:"credential,omitempty"`
	// RPID is the host a passkey is bound to (its WebAuthn RP ID): it
	// answers there only. Empty for one added before it was kept.
	RPID string `json:"rp_id,omitempty"`
	// Name is the user's label for it ("work phone"); "" where they gave
	// none: Label words its kind's default, Nth ("Phone 2"), in the
	// reader's language. The releases before wrote that default as the
	// name, in the language of the page that added it (Label reads it).
	Name string `json:"name,omitempty"`
	// Nth numbers a device its user did not name among its kind, as it
	// was added ("Phone 2"): its default name's number.
	Nth int `json:"nth,omitempty"`
	// Phone is the number in E.164 form; empty in verify-only mode.
	Phone string `json:"phone,omitempty"`
	// PhoneHMAC is the keyed hash of the number, in verify-only mode.
	PhoneHMAC string    `json:"phone_hmac,omitempty"`
	Enrolled  time.Time `json:"enrolled"`
	// Lang is the language the user enrolled it in: its messages speak it.
	Lang string `json:"lang,omitempty"`
	// LastUsed is when a code sent to it was last verified.
	LastUsed time.Time `json:"last_used,omitzero"`
	// AddedBy is the config phone's mark whose session added it (addedby.go).
	AddedBy string `json:"added_by,omitempty"`
}

// IsPhone reports whether d gets codes by text or call.
func (d *Device) IsPhone() bool { return d.Kind == factor.Phone }

// defaultNames are each kind's default name's text ("Phone {n}").
var defaultNames = map[factor.Device]string{factor.Phone: "name.phone", factor.App: "name.app", factor.Passkey: "name.passkey"}

// Label is d's name as c says it in lang (nil: the built-in words): the
// name its user gave it, or else its kind's default in lang ("Phone 2",
// "Telefon 2"), worded where it is shown: a German page shows "Telefon 1"
// for a phone added on an English one. A name as the releases before
// wrote a default, in any language of c ("Phone 2" added on an English
// page, "Telefon 2" on a German one), is read as that default.
func (d *Device) Label(c *words.Catalogue, lang string) string {
	if c == nil {
		c = words.English
	}
	id := defaultNames[d.Kind]
	if n := d.defaultNth(c, id); n > 0 && id != "" {
		return c.Render(lang, words.Say(id, "n", n))
	}
	return d.Name
}

// defaultNth is the number of d's default name: its Nth where its user
// named it not, the number of a default an earlier release wrote as its
// name, else 0 (a name its user gave).
func (d *Device) defaultNth(c *words.Catalogue, id string) int {
	if d.Name == "" {
		return max(d.Nth, 1)
	}
	// Only a name ending in its number can be a default written (the
	// catalogues' "Phone {n}", "Telefon {n}"): the others cost no look.
	i := strings.LastIndexAny(d.Name, " \u00a0")
	n, err := strconv.Atoi(d.Name[i+1:])
	if err != nil || n < 1 || id == "" {
		return 0
	}
	for _, lang := range c.Langs() {
		if d.Name == c.Render(lang, words.Say(id, "n", n)) {
			return n
		}
	}
	return 0
}
