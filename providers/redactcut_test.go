package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestACodeOrNumberAtTheCutIsNotLoggedInPart: a gateway's message is cut
// to 200 bytes before Redact masks the code and the number in the error
// that carries it, so a code or number the cut split kept its first part
// ("… 9876…", "… to +49151…": review28). The cut now drops a run of
// digits it ends in.
func TestACodeOrNumberAtTheCutIsNotLoggedInPart(t *testing.T) {
	const code, to = "987654", "+491511234567"
	pad := strings.Repeat("x", 195)
	u, _ := url.Parse("https://gw.example/send")
	for _, msg := range []string{
		pad + " " + code + " was not delivered",
		pad[:190] + " to " + to + " failed",
		pad[:192] + " 987%2D654 failed",
	} {
		r := &response{status: 400, body: fmt.Appendf(nil, `{"message":%q}`, msg), secrets: secrets(u, nil)}
		got := Redact(errors.New("webhook: HTTP 400: "+r.said()), to, code).Error()
		if tail := got[max(0, len(got)-24):]; strings.Contains(tail, "98") || strings.Contains(tail, "4915") {
			t.Errorf("a part of the code or the number reaches the log: %q", tail)
		}
	}
}

// TestACodeFormEncodedOrEscapedIsMasked: a gateway echoing a form body
// writes a space as "+", a URL as "%20" or "%2D" (review28).
func TestACodeFormEncodedOrEscapedIsMasked(t *testing.T) {
	for _, msg := range []string{"Body=Your+code+is+987+654", "code 987%20654", "text=987%2D654", "code 9 8 7   6 5 4"} {
		if got := Redact(errors.New(msg), "", "987654").Error(); strings.Contains(got, "987") {
			t.Errorf("%q logged as %q", msg, got)
		}
	}
	if got := Redact(errors.New("order 1234 of 987 items"), "", "987654").Error(); got != "order 1234 of 987 items" {
		t.Errorf("a message without the code changed: %q", got)
	}
}

// TestALookupErrorNamesNoNumber: Twilio's 20404 names the resource, the
// number in its path; the lookup's error (logged by a login form's send)
// carried it whole (review28).
func TestALookupErrorNamesNoNumber(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"code":20404,"message":"The requested resource %s was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`, r.URL.Path)
	}))
	defer srv.Close()
	tw := &Twilio{user: "ACxxxx", pass: "tokentoken", client: srv.Client(),
		Lookup: &TwilioLookup{BaseURL: srv.URL, OnErrorEnroll: "closed", cache: map[[32]byte]lookupAnswer{}}}
	err := tw.CheckNumber(context.Background(), "+491511234567", "sms", true)
	var lookup *LookupError
	if !errors.As(err, &lookup) {
		t.Fatalf("CheckNumber: %v; want a LookupError", err)
	}
	if strings.Contains(err.Error(), "1511234567") {
		t.Errorf("the lookup's error names the number: %v", err)
	}
}
