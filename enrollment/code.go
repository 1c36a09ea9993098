// Package enrollment runs the heart of the gate, independent of HTTP: it
// sends codes, checks them, and keeps the phone enrolled for each user.
package enrollment

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// The bounds of a code: its digits, and how long it may live (a code sent
// out of band is short and short-lived: NIST SP 800-63B).
const (
	MinCodeLength, MaxCodeLength = 6, 10
	MinCodeTTL, MaxCodeTTL       = 30 * time.Second, 10 * time.Minute
)

// newCode returns a uniformly random code of n digits from crypto/rand.
func newCode(n int) string {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, _ := rand.Int(rand.Reader, max) // rand.Reader never fails (Go ≥ 1.24)
	return fmt.Sprintf("%0*s", n, v.String())
}

// hashCode binds a code to its challenge under the server's key: the
// store holds no code, and a stolen hash is useless for another challenge.
func hashCode(key []byte, challengeID, code string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(challengeID))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}

// codeMatches compares in constant time.
func codeMatches(key []byte, challengeID, code string, hash []byte) bool {
	return subtle.ConstantTimeCompare(hashCode(key, challengeID, code), hash) == 1
}

// NormalizeCode strips the spaces and dashes people type or paste and
// reports whether what is left is exactly n digits.
func NormalizeCode(input string, n int) (string, bool) {
	if len(input) > 4*n {
		return "", false
	}
	code := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, input)
	if len(code) != n {
		return "", false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return "", false
		}
	}
	return code, true
}

// RandomID returns an unguessable identifier of 128 bits.
func RandomID() string {
	return rand.Text()
}
