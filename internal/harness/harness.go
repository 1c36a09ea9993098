// Package harness is what the integration tests of every package share:
// ports and listening sockets that no other test can take (ports.go), the
// environment of a child test binary (child.go), a browser-like HTTP
// client (its own cookies, redirects left to the test), the csrf token of
// a form, and the codes the log provider wrote to Caddy's JSON log. It is
// imported by tests only.
package harness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Browser is an HTTP client as a browser is one: its own cookie jar, and
// redirects returned to the test instead of followed.
func Browser(transport http.RoundTripper) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Loopback is a transport that reaches every host name on 127.0.0.1 (a
// test's sites are named localhost, auth.sso.localhost, app.sso.localhost…),
// from the loopback address from (nil: the system's choice), trusting any
// certificate (the sites' are Caddy's own).
func Loopback(from net.IP) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 5 * time.Second}
	if from != nil {
		d.LocalAddr = &net.TCPAddr{IP: from}
	}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			logDial(port)
			return d.DialContext(ctx, network, "127.0.0.1:"+port)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: true},
	}
}

// dialLogEnv names a file where each dial of a Loopback transport appends
// a line (the port dialled), to count a run's connections: a transport a
// browser dialled each of its own (speed41a).
const dialLogEnv = "SMSGATE_HARNESS_DIALLOG"

func logDial(port string) {
	if name := os.Getenv(dialLogEnv); name != "" {
		if f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			_, _ = f.WriteString(port + "\n")
			_ = f.Close()
		}
	}
}

// CSRF finds the csrf token of a gate page's form.
var CSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// Log is Caddy's JSON log file.
type Log string

// Entries are the log's entries whose message is one of msgs.
func (l Log) Entries(msgs ...string) ([]map[string]any, error) {
	f, err := os.Open(string(l))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	needles := msgNeedles(msgs)
	var out []map[string]any
	sc := bufio.NewScanner(f)
	// A line up to 1 MiB, the buffer grown only for one that long: a
	// 1 MiB buffer made at every read (each code a test reads) was most of
	// what a read allocated, which -race makes dear.
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if needles != nil && !slices.ContainsFunc(needles, func(n []byte) bool { return bytes.Contains(line, n) }) {
			continue
		}
		var e map[string]any
		if json.Unmarshal(line, &e) == nil && slices.Contains(msgs, fmt.Sprint(e["msg"])) {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// msgNeedles are what the line of an entry with one of msgs holds as it
// is, so that other lines need not be decoded (decoding every line of a
// growing log was a fifth of some tests' CPU): Caddy's JSON encoder (zap)
// writes a message unchanged when it is printable ASCII without a quote or
// a backslash. Nil when a message is not: every line is decoded.
func msgNeedles(msgs []string) [][]byte {
	var needles [][]byte
	for _, m := range msgs {
		for _, c := range []byte(m) {
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				return nil
			}
		}
		needles = append(needles, []byte(`"msg":"`+m+`"`))
	}
	return needles
}

// CodeLine is the WebOTP line that ends every code message (and no notice).
var CodeLine = regexp.MustCompile(`#(\d+)$`)

// Messages are the log provider's messages: codes and notices, in order.
func (l Log) Messages() ([]map[string]any, error) { return l.Entries("verification code", "notice") }

// LastCode is the code of the last code message the log provider wrote
// (notices have none). It also checks what a log must never show: the
// number in the `to` field is masked.
func (l Log) LastCode() (string, error) {
	msgs, err := l.Messages()
	if err != nil {
		return "", err
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		body, _ := msgs[i]["body"].(string)
		m := CodeLine.FindStringSubmatch(body)
		if m == nil {
			continue // a notice, not a code
		}
		if to, _ := msgs[i]["to"].(string); strings.Contains(to, "555") {
			return "", fmt.Errorf("log field to = %q is not masked", to)
		}
		return m[1], nil
	}
	return "", errors.New("no code in the log")
}
