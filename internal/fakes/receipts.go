package fakes

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// Receipt sends the status callback Twilio sends for the last message (or
// call) it was asked to deliver, in Twilio's shape: the status
// (delivered, undelivered, failed…; for calls completed, busy,
// no-answer…), an error code when it failed, and X-Twilio-Signature made
// with the auth token — or with a wrong one when forged is set.
func (f *Twilio) Receipt(t testing.TB, status, errorCode string, forged bool) *http.Response {
	t.Helper()
	var last Request
	for _, r := range f.Requests() {
		if r.Form["StatusCallback"] != "" {
			last = r
		}
	}
	callback := last.Form["StatusCallback"]
	if callback == "" {
		t.Fatal("no message was sent with a StatusCallback")
	}
	form := url.Values{"AccountSid": {f.AccountSID}, "ApiVersion": {"2010-04-01"}, "To": {last.Form["To"]}, "From": {last.Form["From"]}}
	if strings.HasSuffix(last.Path, "/Calls.json") {
		form.Set("CallSid", "CA00000000000000000000000000000001")
		form.Set("CallStatus", status)
	} else {
		form.Set("MessageSid", "SM00000000000000000000000000000001")
		form.Set("SmsSid", "SM00000000000000000000000000000001")
		form.Set("MessageStatus", status)
		form.Set("SmsStatus", status)
	}
	if errorCode != "" {
		form.Set("ErrorCode", errorCode)
	}
	token := f.AuthToken
	if forged {
		token = "not-the-auth-token"
	}
	req, _ := http.NewRequest(http.MethodPost, callback, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", signature(token, callback, form))
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("posting the receipt to %s: %v", callback, err)
	}
	res.Body.Close()
	return res
}

// signature is Twilio's request signature, written here from Twilio's
// documentation (independently of the provider's code): HMAC-SHA1 with the
// auth token over the URL and each parameter's name and value, sorted by
// name; base64.
func signature(token, u string, form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(u)
	for _, k := range names {
		for _, v := range form[k] {
			fmt.Fprintf(&b, "%s%s", k, v)
		}
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
