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
	"time"
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

// lookupFields are the Fields Lookup v2 knows (its OpenAPI description).
var lookupFields = map[string]bool{"validation": true, "caller_name": true, "sim_swap": true, "call_forwarding": true,
	"line_status": true, "line_type_intelligence": true, "identity_match": true, "reassigned_number": true,
	"sms_pumping_risk": true, "phone_number_quality_score": true, "pre_fill": true}

// serveLookup answers GET /v2/PhoneNumbers/{PhoneNumber}?Fields=… in
// Lookup v2's shape (the spec's own examples).
func (f *Twilio) serveLookup(w http.ResponseWriter, r *http.Request, req Request) {
	if req.User != f.AccountSID || req.Pass != f.AuthToken {
		writeJSON(w, 401, map[string]any{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})
		return
	}
	if f.LookupStatus != 0 {
		writeJSON(w, f.LookupStatus, map[string]any{"code": 20500, "message": "An internal server error has occurred", "more_info": "https://www.twilio.com/docs/errors/20500", "status": f.LookupStatus})
		return
	}
	number, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, "/v2/PhoneNumbers/"))
	fields := map[string]bool{}
	for _, name := range strings.Split(r.URL.Query().Get("Fields"), ",") {
		if !lookupFields[name] {
			writeJSON(w, 400, map[string]any{"code": 60600, "message": "Invalid Fields: " + name, "more_info": "https://www.twilio.com/docs/errors/60600", "status": 400})
			return
		}
		fields[name] = true
	}
	body := map[string]any{"calling_country_code": "1", "country_code": "US", "phone_number": number, "national_format": number,
		"valid": true, "validation_errors": nil, "caller_name": nil, "sim_swap": nil, "call_forwarding": nil, "line_status": nil,
		"line_type_intelligence": nil, "identity_match": nil, "reassigned_number": nil, "sms_pumping_risk": nil,
		"phone_number_quality_score": nil, "pre_fill": nil, "url": "https://lookups.twilio.com/v2/PhoneNumbers/" + number}
	if fields["line_type_intelligence"] {
		lt := f.LineType[number]
		if lt == "" {
			lt = "mobile"
		}
		body["line_type_intelligence"] = map[string]any{"error_code": nil, "mobile_country_code": "310", "mobile_network_code": "260", "carrier_name": "T-Mobile USA, Inc.", "type": lt}
	}
	if fields["sim_swap"] && !f.NoSIMData[number] {
		last := map[string]any{"last_sim_swap_date": nil, "swapped_period": "PT24H", "swapped_in_period": false}
		if at, ok := f.SIMSwapped[number]; ok {
			last = map[string]any{"last_sim_swap_date": at.UTC().Format(time.RFC3339), "swapped_period": "PT24H", "swapped_in_period": time.Since(at) < 24*time.Hour}
		}
		body["sim_swap"] = map[string]any{"last_sim_swap": last, "carrier_name": "Vodafone UK", "mobile_country_code": "276", "mobile_network_code": "02", "error_code": nil}
	}
	writeJSON(w, 200, body)
}
