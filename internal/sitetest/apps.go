package sitetest

import (
	"strings"
	"testing"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// AppCode is what an authenticator app with secret shows now on t's
// gates' clock (the secret as the devices page shows it, in groups of four).
func AppCode(t *testing.T, secret string) string {
	t.Helper()
	secret = strings.ReplaceAll(secret, " ", "")
	code, err := totp.GenerateCodeCustom(secret, NowOf(t), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}
