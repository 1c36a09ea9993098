package providers

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
)

// Twilio's delivery receipts: status callbacks, signed with the auth token.

// VerifyReceipt implements Receipts: X-Twilio-Signature is the base64 of
// an HMAC-SHA1, under the auth token, of the callback's URL followed by
// each POST parameter's name and value, sorted by name.
func (t *Twilio) VerifyReceipt(callbackURL string, form url.Values, signature string) bool {
	if t.token == "" || signature == "" {
		return false
	}
	want, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return false
	}
	return hmac.Equal(want, TwilioSignature(t.token, callbackURL, form))
}

// TwilioSignature is what Twilio signs a request to callbackURL with.
func TwilioSignature(authToken, callbackURL string, form url.Values) []byte {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(callbackURL))
	for _, k := range keys {
		vals := append([]string(nil), form[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			m.Write([]byte(k + v))
		}
	}
	return m.Sum(nil)
}

// Receipt implements Receipts, for messages (MessageStatus) and calls
// (CallStatus). Errors 30003–30008 (unreachable, unknown, carrier
// violation…) mean the text did not arrive.
func (t *Twilio) Receipt(form url.Values) (string, string) {
	code := form.Get("ErrorCode")
	if n, err := strconv.Atoi(code); err == nil && n >= 30003 && n <= 30008 {
		return "failed", code
	}
	switch form.Get("MessageStatus") + form.Get("CallStatus") {
	case "delivered", "read", "completed":
		return "delivered", code
	case "undelivered", "failed", "busy", "no-answer", "canceled":
		return "failed", code
	}
	return "pending", code
}
