package pages

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/session"
)

// TestAFlowReadJustInTimeIsKeptAtItsSave: a flow the page read (valid
// within the 30 s leeway) and saved a few seconds later (an SMS sent
// meanwhile) is kept: saveFlow's re-check asks only whether the keys it
// was read under are still the gate's, not its times again (review19 L1).
func TestAFlowReadJustInTimeIsKeptAtItsSave(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	seal, err := session.NewSealer(session.Derive([]byte("0123456789abcdef0123456789abcdef"), "flow seal"))
	if err != nil {
		t.Fatal(err)
	}
	p := &Pages{Config: Config{Flows: session.NewKeys(session.Derive([]byte("0123456789abcdef0123456789abcdef"), "flow"), clock), Sealer: seal,
		Now: clock, Logger: zap.NewNop(), PathPrefix: "/.smsgate/"}}
	save := func(r *http.Request, fl *flowClaims) *http.Cookie {
		w := httptest.NewRecorder()
		p.saveFlow(&request{w: w, r: r, realm: "example.com", flow: fl})
		for _, c := range w.Result().Cookies() {
			if c.Name == FlowCookie {
				return c
			}
		}
		t.Fatal("no flow cookie saved")
		return nil
	}
	r := httptest.NewRequest("GET", "http://localhost/.smsgate/verify", nil)
	fl := &flowClaims{CSRF: "x"}
	fl.Flow.User = "carol"
	c := save(r, fl)
	now.Add(int64(flowLifetime + 29*time.Second)) // idle 20 min 29 s: still read (Leeway)
	r = httptest.NewRequest("POST", "http://localhost/.smsgate/verify", nil)
	r.AddCookie(c)
	read := p.readFlow(r, "example.com")
	if read.Flow.User != "carol" {
		t.Fatal("premise: the flow is read within the leeway")
	}
	now.Add(int64(2 * time.Second)) // the page's work (a provider's send)
	c = save(r, read)
	r = httptest.NewRequest("GET", "http://localhost/.smsgate/verify", nil)
	r.AddCookie(c)
	if got := p.readFlow(r, "example.com"); got.Flow.User != "carol" {
		t.Errorf("the flow read at the request's start was dropped at its save (user %q): the sign-in starts over", got.Flow.User)
	}
}

// BenchmarkFlowStillSigned is the cost of saveFlow's re-check of a flow
// it read: the token its cookie opened to, not opened again.
func BenchmarkFlowStillSigned(b *testing.B) {
	p := &Pages{Config: Config{Flows: session.NewKeys(session.Derive([]byte("0123456789abcdef0123456789abcdef"), "flow"), time.Now)}}
	fl := &flowClaims{CSRF: "x"}
	fl.Flow.User = "carol"
	fl.RegisteredClaims = p.Flows.NewClaims("example.com", "", flowLifetime)
	fl.pad()
	tok, _ := p.Flows.Sign(fl)
	b.ReportAllocs()
	for b.Loop() {
		if !p.Flows.Signed(tok) {
			b.Fatal("no")
		}
	}
}
