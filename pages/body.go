package pages

import (
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// bodyTime bounds how long the gate waits for a POST's body: a browser
// sends a form at once when it is submitted, so a body that trickles in
// (a slow-body attack holding connections) is cut off. Nanoseconds; tests
// shorten it.
var bodyTime atomic.Int64

// BodyTime is how long the gate waits for a POST's body, outside tests.
const BodyTime = 10 * time.Second

func init() { bodyTime.Store(int64(BodyTime)) }

// limitBodyTime caps the whole read of the request's body at bodyTime.
// Caddy's idle timeout lets a body trickle in a byte a minute; a deadline
// set through the ResponseController reaches Caddy's reader and caps it.
func limitBodyTime(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(time.Duration(bodyTime.Load())))
}

// badBody answers a body that could not be read: too slow (408, and the
// connection closes), or malformed (400).
func (p *Pages) badBody(req *request, err error, id string) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		req.w.Header().Set("Connection", "close")
		p.fail(req, http.StatusRequestTimeout, "slow_body", p.sayID(req, "gate.slow_body"))
		return
	}
	p.fail(req, http.StatusBadRequest, "bad_request", p.sayID(req, id))
}
