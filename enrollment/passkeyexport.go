package enrollment

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// A passkey's records beside the device list, in an export and an import
// (attack41b H1): which user a user handle names (passkey-user/), read by
// a login form's sign-in, which is discoverable (the authenticator names
// the handle); and which user a credential ID is registered to
// (passkey-credential/: WebAuthn §7.1, step 22). An export carries both;
// an import of a file without them (the previous release's export) makes
// them from its device lists.

// The kinds of a passkey's records.
const (
	passkeyUserKind       = "passkey-user"
	passkeyCredentialKind = "passkey-credential"
)

// maxCredentialID is the longest credential ID WebAuthn allows (§5.1.3:
// 1023 bytes).
const maxCredentialID = 1023

// handleUnder is user's handle (Devices.userHandle) made with key.
func handleUnder(key []byte, realm, user string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("passkey user\x00" + realm + "\x00" + user))
	return m.Sum(nil)
}

// passkeyRecordProblem says why a passkey's record, its key's last part
// name and its value, is none a gate reads: a name that is not hex as a
// gate writes it (lower case), a handle that is no SHA-256, a credential
// ID longer than WebAuthn's, a value that names no user. "" for one it
// reads.
func passkeyRecordProblem(kind, name string, value []byte) string {
	raw, err := hex.DecodeString(name)
	switch {
	case err != nil || hex.EncodeToString(raw) != name:
		return "a gate names it by lower-case hex"
	case kind == passkeyUserKind && len(raw) != sha256.Size:
		return "a passkey's user handle is 32 bytes"
	case kind == passkeyCredentialKind && len(raw) > maxCredentialID:
		return "a credential ID is at most 1023 bytes"
	case len(value) == 0 || !utf8.Valid(value):
		return "it names no user"
	}
	return ""
}

// handleKeys are the keys a user handle of the import may have been made
// with, for the handle records it makes (withPasskeyRecords): the code key
// of the file's signing secret, which the gates that sign with the store's
// adopt with it, else of the store's secret (the CLI on a stopped Caddy
// knows no other); and this gate's own (a signing_key of its config). A
// record made with a key no gate uses names a handle no authenticator
// holds: it is never read.
func (s *Admin) handleKeys(ctx context.Context, all map[string][]byte) ([][]byte, error) {
	secret, carried := all[session.SecretRecord]
	if !carried {
		held, err := s.Store.Get(store.WithBudget(ctx, store.RequestTime()), session.SecretRecord)
		switch {
		case err == nil:
			secret = held
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	var keys [][]byte
	if len(secret) > 0 {
		keys = append(keys, session.CodeKeyOf(secret))
	}
	if own := s.codeKey(); len(own) > 0 && !slices.ContainsFunc(keys, func(k []byte) bool { return bytes.Equal(k, own) }) {
		keys = append(keys, own)
	}
	return keys, nil
}

// withPasskeyRecords adds to an import's records (keys, in order, and
// all) the passkey records its device lists need and the file does not
// hold: a handle record for each user with a passkey, under each of
// handleKeys, and each passkey's credential record. A file of this
// release holds them (its own are written as they are); one of the
// previous release holds none.
func withPasskeyRecords(keys []string, all map[string][]byte, handleKeys [][]byte) []string {
	for _, key := range slices.Clone(keys) {
		parts, ok := store.SplitKey(key)
		if !ok || len(parts) != 3 || parts[0] != "device" {
			continue
		}
		realm, user := parts[1], parts[2]
		list, err := decodeDevices(user, all[key])
		if err != nil {
			continue // refused before: checkImported
		}
		held := false
		for _, d := range list {
			var c webauthn.Credential
			if d.Kind != factor.Passkey || json.Unmarshal(d.Credential, &c) != nil || len(c.ID) == 0 {
				continue
			}
			held = true
			keys = addRecord(keys, all, credKey(realm, c.ID), user)
		}
		if !held {
			continue
		}
		for _, k := range handleKeys {
			keys = addRecord(keys, all, handleKey(realm, handleUnder(k, realm, user)), user)
		}
	}
	return keys
}

// addRecord adds key, naming user, to an import's records, unless the file
// holds it.
func addRecord(keys []string, all map[string][]byte, key, user string) []string {
	if _, ok := all[key]; ok {
		return keys
	}
	all[key] = []byte(user)
	return append(keys, key)
}
