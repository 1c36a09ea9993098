package pages

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/smsgate/caddy-smsgate/signin"
)

// statusOf is each class of the sign-in's refusals' HTTP status: the one
// place a sign-in error gets a status (TestEveryReasonHasAStatus).
var statusOf = map[signin.Class]int{
	signin.Mistake:     http.StatusBadRequest,
	signin.Wait:        http.StatusTooManyRequests,
	signin.Barred:      http.StatusForbidden,
	signin.Unavailable: http.StatusServiceUnavailable,
	signin.Fault:       http.StatusServiceUnavailable,
	signin.Gone:        http.StatusNotFound,
}

// refusal is a sign-in error read once (signin.Refuse), with its status.
type refusal struct {
	*signin.Refusal
	status int
}

func refuse(err error) refusal {
	r := signin.Refuse(err)
	return refusal{Refusal: r, status: statusOf[r.Class]}
}

// known says the error is one of the sign-in's own (its words are safe for
// the user); otherwise it is a fault to log and answer with 503.
func (r refusal) known() bool { return r.Class != signin.Fault }

// setRetryAfter tells the client how long to wait, if it must.
func (r refusal) setRetryAfter(w http.ResponseWriter) {
	if r.Wait > 0 {
		w.Header().Set("Retry-After", retryAfter(r.Wait))
	}
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// Refusals on the gate's own paths where no page is rendered for a person
// (an asset, a request without the first factor, a delivery receipt
// refused; an unknown page or a method for anything but a browser; a page
// whose template failed) are Caddy's errors, so that the site's
// handle_errors shapes them as it shapes its others ({err.status_code},
// {err.message}: these words, nothing of the request).
var (
	errNotFound      = errors.New("no such page")
	errMethod        = errors.New("method not allowed")
	errNoFirstFactor = errors.New("sign in first")
	errUnavailable   = errors.New("the gate cannot answer now")
	errRender        = errors.New("the page could not be shown") // its template's error is in the log only
)

// refuse answers a request the pages do not serve: a browser gets the
// gate's page, in its reader's language; anything else Caddy's error.
func (p *Pages) refuse(req *request, status int, err error, id string) error {
	if req.json || !strings.Contains(req.r.Header.Get("Accept"), "text/html") {
		return caddyhttp.Error(status, err)
	}
	p.fail(req, status, "", p.sayID(req, id))
	return nil
}
