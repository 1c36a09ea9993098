package enrollment

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// userRecords are the kinds of a user's lasting records an import writes
// as the file holds them (the others are read before they are written:
// Import).
var userRecords = []string{"device", "recovery", recoveryBy, "owner", ProvisionedNumbers, passkeyUserKind, passkeyCredentialKind}

// checkImported refuses a user's record (devices, recovery codes, a
// number's owner, a provisioned user's numbers, a passkey's user and
// credential) that no gate would read as the file has it, before
// anything is written: a key store.Key does not make (no realm or no name,
// or written otherwise: "device/local%68ost/x", "device/localhost/a/../b"),
// which no gate reads yet the admin's list shows as a user, or passes the
// check of the file's realm (checkImport) for a realm it is not; and a
// value the gates cannot read (a device list that is no list made the
// admin's list of users, and the console's, a 503 saying the store did
// not answer). A signing key (keys/) no gate can use is refused too
// (session.KeyRecordProblem): a short secret or an unknown name was
// answered "keys replaced" for every realm on the store.
func checkImported(key string, value []byte) error {
	if strings.HasPrefix(key, "keys/") {
		if why := session.KeyRecordProblem(key, value); why != "" {
			return &ImportError{Key: key, Why: why}
		}
	}
	if strings.HasPrefix(key, endkeys.ReplacedByPrefix) {
		// Which session replaced one (endrace41): a session's ID, which
		// an end of the one replaced ends.
		parts, ok := store.SplitKey(key)
		if !ok || len(parts) != 3 || parts[1] == "" || parts[2] == "" || !isSID(value) {
			return &ImportError{Key: key}
		}
	}
	for _, kind := range userRecords {
		if !strings.HasPrefix(key, kind+"/") {
			continue
		}
		parts, ok := store.SplitKey(key)
		if !ok || len(parts) != 3 || parts[1] == "" || parts[2] == "" {
			return &ImportError{Key: key}
		}
		n := parts[2]
		switch kind {
		case "device":
			if _, err := decodeDevices(n, value); err != nil {
				return &ImportError{Key: key}
			}
		case "recovery":
			if json.Unmarshal(value, new([]string)) != nil {
				return &ImportError{Key: key}
			}
		case recoveryBy: // the maker, then its set's digests (madeBy)
			if maker, digests, ok := strings.Cut(string(value), " "); !ok || maker == "" || digests == "" {
				return &ImportError{Key: key}
			}
		case ProvisionedNumbers: // the key's hash, then a number's at least
			if len(strings.Fields(string(value))) < 2 {
				return &ImportError{Key: key}
			}
		case passkeyUserKind, passkeyCredentialKind: // a handle's or credential ID's hex, as hex writes it: a user's name
			if why := passkeyRecordProblem(kind, n, value); why != "" {
				return &ImportError{Key: key, Why: why}
			}
		}
	}
	return nil
}

// isSID reports whether v could be a session's ID (session's rand.Text:
// 26 base32 letters and digits): short, letters and digits only.
func isSID(v []byte) bool {
	if len(v) == 0 || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// maxKeyShown is how much of a refused record's key an ImportError names.
const maxKeyShown = 100

// named is the refused record's key as the admin reads it: escaped (a
// hand-edited file's controls and direction marks are shown, not obeyed),
// cut to maxKeyShown bytes, and a record with no key said so (it named an
// empty key: "import:  is not a record smsgate exports").
func (e *ImportError) named() string {
	key := e.Key
	if key == "" {
		return `a record without a "key"`
	}
	if len(key) > maxKeyShown {
		cut := maxKeyShown
		for cut > 0 && !utf8.RuneStart(key[cut]) {
			cut--
		}
		key = key[:cut] + "…"
	}
	return textsafe.Escape(key)
}
