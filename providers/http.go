package providers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

// DefaultTimeout bounds one request to a gateway.
const DefaultTimeout = 10 * time.Second

// maxResponse bounds how much of a gateway's answer is read.
const maxResponse = 64 << 10

// response is a gateway's answer, read whole.
type response struct {
	status  int
	header  http.Header
	body    []byte
	secrets []string // what the request carried that may be secret (see secrets)
}

// refused is a gateway's answer of status as an error: a 4xx (a client
// error: the request was not acted on) is NotSent; any other may have
// sent the message (a 5xx, or a status nobody expected).
func refused(status int, err error) error {
	if status >= 400 && status < 500 {
		return NotSent(err)
	}
	return err
}

// post sends body to u with the given content type and headers.
func post(ctx context.Context, client *http.Client, u, contentType string, body []byte, header http.Header) (*response, error) {
	return do(ctx, client, http.MethodPost, u, body, header, contentType)
}

// get fetches u with the given headers.
func get(ctx context.Context, client *http.Client, u string, header http.Header) (*response, error) {
	return do(ctx, client, http.MethodGet, u, nil, header, "")
}

// do sends body to u with header (then its content type, if any, and our
// User-Agent) and reads the answer, maxResponse at most. An error names
// neither a header nor the URL's query.
func do(ctx context.Context, client *http.Client, method, u string, body []byte, header http.Header, contentType string) (*response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "smsgate")
	// A request that never had a connection wrote nothing: the gateway
	// cannot have acted on it. Once it had one, a failure may come after
	// the gateway took it (a timeout, a connection cut).
	var connected atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { connected.Store(true) },
	}))
	res, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = RedactURL(ue.URL) // a webhook's token may live in its query
		}
		if !connected.Load() {
			return nil, NotSent(err)
		}
		return nil, err // never the headers either
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %v", err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b, secrets: secrets(req.URL, req.Header)}, nil
}

// postForm sends form-encoded values.
func postForm(ctx context.Context, client *http.Client, u string, form url.Values, header http.Header) (*response, error) {
	return post(ctx, client, u, "application/x-www-form-urlencoded", []byte(form.Encode()), header)
}

// snippet is a short, single-line excerpt of a body for the admin's log:
// only of what smsgate made itself; a gateway's answer is res.said(). It
// is cut where no run of digits is split, as said's mask is: Redact masks
// the code and the number later, and a part of either would escape it
// (review39 R2: a webhook body cut inside the code).
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = cutRun.ReplaceAllString(strings.ToValidUTF8(s[:300], ""), "") + "…"
	}
	return s
}

// retryAfter reads a Retry-After header in seconds (or an HTTP date), or
// returns def.
func retryAfter(h http.Header, now time.Time, def time.Duration) time.Duration {
	v := h.Get("Retry-After")
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return def
}

// secret resolves a config value that may be an `{env.X}` placeholder and
// must not end up empty.
func secret(name, value string) (string, error) {
	v := caddy.NewReplacer().ReplaceAll(value, "")
	if v == "" {
		if value != "" {
			return "", &cfutil.Absent{Err: fmt.Errorf("%s is empty: is its environment variable set?", name)}
		}
		return "", fmt.Errorf("%s is required", name)
	}
	return v, nil
}

// optional resolves a config value that may be an `{env.X}` placeholder.
func optional(value string) string { return caddy.NewReplacer().ReplaceAll(value, "") }

// newClient returns an HTTP client with a timeout that follows no
// redirect: a gateway's 3xx is its answer (a failure), since following it
// would re-post the code and the number (307, 308) and the configured
// headers — an API key among them: Go keeps all but Authorization and
// Cookie on a move to another host — to wherever it points, maybe over
// plain http, and would take a login page's 200 for an accepted message.
func newClient(timeout caddy.Duration) *http.Client {
	t := time.Duration(timeout)
	if t <= 0 {
		t = DefaultTimeout
	}
	return &http.Client{Timeout: t, CheckRedirect: noRedirect}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
