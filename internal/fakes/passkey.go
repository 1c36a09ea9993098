package fakes

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator is a software passkey authenticator, for tests without a
// browser: it answers a gate's WebAuthn options as a browser and a
// platform authenticator would (attestation "none", ES256), so that tests
// can also send what no honest browser sends — another site's RP ID,
// another origin, a replay, a counter that went backwards.
type Authenticator struct {
	// RPID and Origin are what it claims to be talking to.
	RPID, Origin string
	// Counter is its signature counter (set it back to play a clone).
	Counter uint32
	// NoUserVerification answers with the UV flag off: the device was
	// there, but nobody proved to it who they are.
	NoUserVerification bool

	key    *ecdsa.PrivateKey
	id     []byte
	handle []byte
}

// NewAuthenticator makes an authenticator for a site.
func NewAuthenticator(rpID, origin string) *Authenticator {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &Authenticator{RPID: rpID, Origin: origin, key: key, id: id}
}

// CopyID gives a the credential ID of other: a second credential
// claiming to be the first.
func (a *Authenticator) CopyID(other *Authenticator) { a.id = append([]byte(nil), other.id...) }

var b64 = base64.RawURLEncoding

// options is what a gate's begin endpoint answers (the part used here).
type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

func (a *Authenticator) clientData(kind, challenge string) []byte {
	raw, _ := json.Marshal(map[string]any{"type": kind, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return raw
}

func (a *Authenticator) authData(flags byte, attested []byte) []byte {
	if a.NoUserVerification {
		flags &^= 0x04
	}
	rp := sha256.Sum256([]byte(a.RPID))
	out := append(rp[:], flags)
	out = binary.BigEndian.AppendUint32(out, a.Counter)
	return append(out, attested...)
}

// Create answers registration options with a new discoverable credential.
func (a *Authenticator) Create(begin []byte) ([]byte, error) {
	var o options
	if err := json.Unmarshal(begin, &o); err != nil {
		return nil, fmt.Errorf("registration options: %v", err)
	}
	var err error
	if a.handle, err = b64.DecodeString(o.PublicKey.User.ID); err != nil {
		return nil, err
	}
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1,
		-2: a.key.PublicKey.X.FillBytes(make([]byte, 32)), -3: a.key.PublicKey.Y.FillBytes(make([]byte, 32))})
	if err != nil {
		return nil, err
	}
	attested := append(make([]byte, 16), byte(len(a.id)>>8), byte(len(a.id)))
	attested = append(append(attested, a.id...), cose...)
	object, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(0x45, attested)})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"id": b64.EncodeToString(a.id), "rawId": b64.EncodeToString(a.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(object), "transports": []string{"internal"}}})
}

// Get answers login options with an assertion signed by the credential,
// counting up first.
func (a *Authenticator) Get(begin []byte) ([]byte, error) {
	var o options
	if err := json.Unmarshal(begin, &o); err != nil {
		return nil, fmt.Errorf("login options: %v", err)
	}
	a.Counter++
	data := a.authData(0x05, nil)
	client := a.clientData("webauthn.get", o.PublicKey.Challenge)
	sum := sha256.Sum256(client)
	digest := sha256.Sum256(append(append([]byte{}, data...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"id": b64.EncodeToString(a.id), "rawId": b64.EncodeToString(a.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(client), "authenticatorData": b64.EncodeToString(data),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(a.handle)}})
}
