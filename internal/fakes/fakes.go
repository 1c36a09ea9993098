// Package fakes holds test servers that speak the real gateways' APIs —
// request and error shapes included — so providers are tested without the
// internet. Only tests import it.
package fakes

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request a fake received.
type Request struct {
	Method, Path, ContentType string
	User, Pass                string
	Header                    http.Header
	Form                      map[string]string
	JSON                      map[string]any
	Body                      string
}

// recorder keeps what a fake received.
type recorder struct {
	mu       sync.Mutex
	requests []Request
	// Took, when set, is called with each request as the fake takes it,
	// before its Delay holds the answer: a test gives up on a send once
	// the gateway has it, however slow the machine, rather than after a
	// time within which a loaded machine may not reach the fake.
	Took func(Request)
}

func (r *recorder) record(t testing.TB, req *http.Request) Request {
	body, _ := io.ReadAll(req.Body)
	rec := Request{Method: req.Method, Path: req.URL.Path, ContentType: req.Header.Get("Content-Type"), Header: req.Header.Clone(), Body: string(body)}
	rec.User, rec.Pass, _ = req.BasicAuth()
	if strings.HasPrefix(rec.ContentType, "application/x-www-form-urlencoded") {
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		if err := req.ParseForm(); err != nil {
			t.Errorf("fake: unreadable form: %v", err)
		}
		rec.Form = map[string]string{}
		for k, v := range req.PostForm {
			rec.Form[k] = v[0]
		}
	}
	if strings.HasPrefix(rec.ContentType, "application/json") {
		if err := json.Unmarshal(body, &rec.JSON); err != nil {
			t.Errorf("fake: body is not a JSON object: %v: %s", err, body)
		}
	}
	r.mu.Lock()
	r.requests = append(r.requests, rec)
	r.mu.Unlock()
	if r.Took != nil {
		r.Took(rec)
	}
	return rec
}

// Requests returns what was received so far.
func (r *recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Last returns the last request, failing the test if there is none.
func (r *recorder) Last(t testing.TB) Request {
	t.Helper()
	reqs := r.Requests()
	if len(reqs) == 0 {
		t.Fatal("the fake received no request")
	}
	return reqs[len(reqs)-1]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var sixDigits = regexp.MustCompile(`\d{6,10}`)

// CodeIn finds the code in a message body, or in TwiML that reads it as
// spaced digits ("1, 2, 3, 4, 5, 6").
func CodeIn(text string) string {
	if strings.HasPrefix(text, "<?xml") {
		var doc struct {
			Says []string `xml:"Say"`
		}
		if xml.Unmarshal([]byte(text), &doc) == nil && len(doc.Says) > 0 {
			text = doc.Says[0]
		}
		text = strings.NewReplacer(", ", "", ",", "").Replace(text)
	}
	return sixDigits.FindString(text)
}

// Server is an httptest server with a recorder.
type Server struct {
	*httptest.Server
	recorder
}

// Twilio speaks the Messages, Calls and Verify APIs. Twilio's magic test
// numbers select its error answers: +15005550001 is invalid (21211),
// +15005550004 opted out (21610), +15005550009 cannot take SMS (21614),
// +15005550010 is in a region not enabled (21408).
type Twilio struct {
	Server
	AccountSID, AuthToken string
	// Status, when set, is answered to every request with Twilio's error
	// body for it (401 → 20003, 429 → 20429 with Retry-After, 500).
	Status int
	// Delay holds every answer, to test timeouts.
	Delay time.Duration

	// Lookup v2: the line type of a number (default "mobile"), its last
	// SIM swap (none: never), and LookupStatus, when set, answered to
	// every lookup (an outage).
	LineType   map[string]string
	SIMSwapped map[string]time.Time
	// NoSIMData are numbers whose carrier gives no SIM-swap data
	// ("sim_swap": null).
	NoSIMData    map[string]bool
	LookupStatus int

	mu     sync.Mutex
	codes  map[string]string // Verify: pending code by number
	nextID int
}

// NewTwilio starts a fake Twilio for one account.
func NewTwilio(t testing.TB) *Twilio {
	f := &Twilio{AccountSID: "AC00000000000000000000000000000001", AuthToken: "test-auth-token", codes: map[string]string{},
		LineType: map[string]string{}, SIMSwapped: map[string]time.Time{}, NoSIMData: map[string]bool{}}
	f.Server.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serve(t, w, r) }))
	t.Cleanup(f.Close)
	return f
}

var twilioUserErrors = map[string]map[string]any{
	"+15005550001": {"code": 21211, "message": "The 'To' number +15005550001 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400},
	"+15005550004": {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400},
	"+15005550009": {"code": 21614, "message": "'To' number is not a valid mobile number", "more_info": "https://www.twilio.com/docs/errors/21614", "status": 400},
	"+15005550010": {"code": 21408, "message": "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +15005550010.", "more_info": "https://www.twilio.com/docs/errors/21408", "status": 400},
}

func (f *Twilio) serve(t testing.TB, w http.ResponseWriter, r *http.Request) {
	req := f.record(t, r)
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if req.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v2/PhoneNumbers/") {
		f.serveLookup(w, r, req)
		return
	}
	if req.Method != http.MethodPost || !strings.HasPrefix(req.ContentType, "application/x-www-form-urlencoded") {
		writeJSON(w, 405, map[string]any{"code": 20004, "message": "Method not allowed", "more_info": "https://www.twilio.com/docs/errors/20004", "status": 405})
		return
	}
	if req.User != f.AccountSID || req.Pass != f.AuthToken || f.Status == http.StatusUnauthorized {
		writeJSON(w, 401, map[string]any{"code": 20003, "detail": "Your AccountSid or AuthToken was incorrect.", "message": "Authentication Error - invalid username", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})
		return
	}
	switch f.Status {
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "30")
		writeJSON(w, 429, map[string]any{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429})
		return
	case http.StatusInternalServerError:
		writeJSON(w, 500, map[string]any{"code": 20500, "message": "An internal server error has occurred", "more_info": "https://www.twilio.com/docs/errors/20500", "status": 500})
		return
	}
	to := req.Form["To"]
	if e, ok := twilioUserErrors[to]; ok {
		writeJSON(w, 400, e)
		return
	}
	f.mu.Lock()
	f.nextID++
	id := f.nextID
	f.mu.Unlock()
	account := "/2010-04-01/Accounts/" + f.AccountSID
	switch {
	case req.Path == account+"/Messages.json":
		// Twilio's own answers to a message it cannot send: no To, no
		// sender (neither From nor MessagingServiceSid), no Body.
		for _, missing := range []struct {
			absent bool
			code   int
			text   string
		}{{to == "", 21604, "A 'To' phone number is required."},
			{req.Form["From"] == "" && req.Form["MessagingServiceSid"] == "", 21603, "A 'From' phone number is required."},
			{req.Form["Body"] == "", 21602, "Message body is required."}} {
			if missing.absent {
				writeJSON(w, 400, map[string]any{"code": missing.code, "message": missing.text, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", missing.code), "status": 400})
				return
			}
		}
		writeJSON(w, 201, map[string]any{"sid": sid("SM", id), "account_sid": f.AccountSID, "to": to, "from": req.Form["From"], "messaging_service_sid": nullable(req.Form["MessagingServiceSid"]), "body": req.Form["Body"], "status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01", "error_code": nil, "error_message": nil, "uri": account + "/Messages/" + sid("SM", id) + ".json"})
	case req.Path == account+"/Calls.json":
		if to == "" || req.Form["From"] == "" || (req.Form["Twiml"] == "" && req.Form["Url"] == "") {
			writeJSON(w, 400, map[string]any{"code": 21205, "message": "A 'To', a 'From' and 'Twiml' or 'Url' are required.", "more_info": "https://www.twilio.com/docs/errors/21205", "status": 400})
			return
		}
		writeJSON(w, 201, map[string]any{"sid": sid("CA", id), "account_sid": f.AccountSID, "to": to, "from": req.Form["From"], "status": "queued", "direction": "outbound-api", "api_version": "2010-04-01", "uri": account + "/Calls/" + sid("CA", id) + ".json"})
	case strings.HasSuffix(req.Path, "/Verifications"):
		code := fmt.Sprintf("%06d", 730915+id)
		f.mu.Lock()
		f.codes[to] = code
		f.mu.Unlock()
		writeJSON(w, 201, map[string]any{"sid": sid("VE", id), "service_sid": strings.Split(req.Path, "/")[3], "account_sid": f.AccountSID, "to": to, "channel": req.Form["Channel"], "status": "pending", "valid": false, "send_code_attempts": []any{map[string]any{"channel": req.Form["Channel"]}}})
	case strings.HasSuffix(req.Path, "/VerificationCheck"):
		f.mu.Lock()
		want, ok := f.codes[to]
		approved := ok && req.Form["Code"] == want
		if approved {
			delete(f.codes, to)
		}
		f.mu.Unlock()
		if !ok {
			writeJSON(w, 404, map[string]any{"code": 20404, "message": "The requested resource " + strings.TrimPrefix(req.Path, "/v2") + " was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404})
			return
		}
		status := "pending"
		if approved {
			status = "approved"
		}
		writeJSON(w, 200, map[string]any{"sid": sid("VE", id), "to": to, "channel": "sms", "status": status, "valid": approved})
	default:
		writeJSON(w, 404, map[string]any{"code": 20404, "message": "The requested resource " + req.Path + " was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404})
	}
}

// VerifyCode is the code the fake Verify service sent to a number.
func (f *Twilio) VerifyCode(to string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.codes[to]
}

// Expire forgets every pending Verify code, as Twilio does after 10 minutes.
func (f *Twilio) Expire() {
	f.mu.Lock()
	f.codes = map[string]string{}
	f.mu.Unlock()
}

func sid(prefix string, n int) string { return fmt.Sprintf("%s%032d", prefix, n) }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Hook is a webhook receiver answering Status (default 200).
type Hook struct {
	Server
	Status int
	Delay  time.Duration
}

// NewHook starts a webhook receiver.
func NewHook(t testing.TB) *Hook {
	f := &Hook{Status: http.StatusOK}
	f.Server.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.record(t, r)
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if f.Status >= 400 {
			writeJSON(w, f.Status, map[string]any{"error": "gateway says no", "secret_debug": "internal-gateway-detail"})
			return
		}
		writeJSON(w, f.Status, map[string]any{"ok": true})
	}))
	t.Cleanup(f.Close)
	return f
}

// Signal speaks signal-cli-rest-api's POST /v2/send (and the Secured
// Signal API in front of it): a bearer token, 201 with a timestamp, 400
// with {"error": …} for an unregistered recipient (+15005550001).
type Signal struct {
	Server
	Token string
}

// NewSignal starts a fake Signal API.
func NewSignal(t testing.TB) *Signal {
	f := &Signal{Token: "signal-api-token"}
	f.Server.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := f.record(t, r)
		if req.Header.Get("Authorization") != "Bearer "+f.Token {
			writeJSON(w, 401, map[string]any{"error": "unauthorized"})
			return
		}
		if req.Method != http.MethodPost || req.Path != "/v2/send" {
			writeJSON(w, 404, map[string]any{"error": "not found"})
			return
		}
		recipients, _ := req.JSON["recipients"].([]any)
		if len(recipients) == 1 && recipients[0] == "+15005550001" {
			writeJSON(w, 400, map[string]any{"error": "Failed to send message: Unregistered user \"+15005550001\""})
			return
		}
		if req.JSON["number"] == nil || len(recipients) == 0 || req.JSON["message"] == nil {
			writeJSON(w, 400, map[string]any{"error": "Couldn't process request - invalid request"})
			return
		}
		writeJSON(w, 201, map[string]any{"timestamp": "1795315000000"})
	}))
	t.Cleanup(f.Close)
	return f
}
