package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync/atomic"
)

// Sealer encrypts tokens whose content the client must not read (the flow
// cookie names the user being signed in, and whether they exist): AES-256-GCM
// with a random nonce, bound to a context (the realm) as associated data.
type Sealer struct {
	aead atomic.Pointer[cipher.AEAD]
	was  atomic.Pointer[cipher.AEAD] // the key Rekey replaced: OpenPrevious only
}

// NewSealer returns a sealer for a 32-byte key (use Derive).
func NewSealer(key []byte) (*Sealer, error) {
	s := new(Sealer)
	return s, s.Rekey(key)
}

// Rekey makes the sealer use key from now on (the gate adopted the
// store's new secret): what the old key sealed no longer opens with
// Open; OpenPrevious still opens it, in this process only, until the next
// Rekey (the key is kept in memory, never written anywhere), so that
// what the old key sealed can be sealed again under the new one.
func (s *Sealer) Rekey(key []byte) error {
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	if old := s.aead.Swap(&aead); old != nil {
		s.was.Store(old)
	}
	return nil
}

// Seal encrypts plain for context into a cookie-safe string.
func (s *Sealer) Seal(plain, context string) string {
	aead := *s.aead.Load()
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(plain), []byte(context)))
}

// ErrSealed refuses a sealed value that was not sealed here for context.
var ErrSealed = errors.New("sealed value is invalid")

// Open decrypts what Seal made for the same context.
func (s *Sealer) Open(sealed, context string) (string, error) {
	return open(*s.aead.Load(), sealed, context)
}

// OpenPrevious decrypts what Seal made for context under the key the last
// Rekey replaced (ErrSealed when none was replaced in this process).
func (s *Sealer) OpenPrevious(sealed, context string) (string, error) {
	was := s.was.Load()
	if was == nil {
		return "", ErrSealed
	}
	return open(*was, sealed, context)
}

func open(aead cipher.AEAD, sealed, context string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", ErrSealed
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		return "", ErrSealed
	}
	return string(plain), nil
}
